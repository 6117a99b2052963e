"""Progress bars: on in a notebook, off in headless runs, forced either way by progress=True/False."""

import io

import pytest

import cs109b_bayes as cb


def test_explicit_choice_wins(monkeypatch):
    monkeypatch.setenv("CS109B_HEADLESS", "1")
    assert cb.progress.enabled(True) is True
    monkeypatch.delenv("CS109B_HEADLESS")
    assert cb.progress.enabled(False) is False


def test_headless_runs_are_quiet(monkeypatch):
    monkeypatch.setenv("CS109B_HEADLESS", "1")
    assert cb.progress.enabled() is False


def test_not_a_notebook_and_not_a_terminal_is_quiet(monkeypatch):
    monkeypatch.delenv("CS109B_HEADLESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert cb.progress.enabled() is False


@pytest.mark.parametrize("bad", [1, "yes", 0.0])
def test_bad_progress_values(bad):
    with pytest.raises(TypeError, match="progress must be"):
        cb.progress.enabled(bad)


def test_bar_counts_and_silent_bar_counts(capsys):
    with cb.progress.bar(total=3, desc="demo", progress=True) as bar:
        for _ in range(3):
            bar.update(1)
    assert bar.n == 3
    assert "demo" in capsys.readouterr().err
    with cb.progress.bar(total=3, desc="quiet", progress=False) as silent:
        silent.update(2)
        silent.set_postfix_str("x")
    assert silent.n == 2 and capsys.readouterr().err == ""


def test_iterate_yields_every_item(capsys):
    assert list(cb.progress.iterate([1, 2, 3], desc="items", progress=False)) == [1, 2, 3]
    assert list(cb.progress.iterate(range(2), desc="shown", progress=True)) == [0, 1]
    assert "shown" in capsys.readouterr().err


@pytest.mark.slow
def test_trainers_and_sampler_show_progress_when_asked(capsys):
    het = cb.data.heteroscedastic()
    model = cb.bnn.build_regressor("flipout", num_train=64, seed=0, hidden_units=(8,))
    cb.bnn.fit(model, het.x[:64], het.y[:64], epochs=2, seed=0, progress=True)
    assert "fit flipout" in capsys.readouterr().err
    cb.bnn.fit(model, het.x[:64], het.y[:64], epochs=2, seed=0, progress=False)
    assert capsys.readouterr().err == ""
    cb.sample_hmc(lambda a: -0.5 * a**2, {"a": 0.0}, num_results=10, num_burnin_steps=10, num_chains=2,
                  seed=0, progress=True)
    assert "nuts x2 chains" in capsys.readouterr().err
    images = (cb.seeds.numpy_rng(0, "x").random((32, 784)) > 0.5).astype("float32")
    vae = cb.vae.build_vae(encoder_units=(8,), decoder_units=(8,), seed=0)
    cb.vae.train(vae, images, epochs=2, batch_size=16, seed=0, progress=True)
    assert "train VAE" in capsys.readouterr().err
