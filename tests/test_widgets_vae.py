"""`latent_explorer`: the sliders move the point, the right panel shows the decoder's image there."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs109b_bayes.widgets.vae import latent_explorer  # noqa: E402


class _ToyDecoder:
    """A 2-D 'decoder': a bright pixel at a position set by z (so each point has its own image)."""

    latent_dim = 2

    def decode_means(self, z):
        z = np.asarray(z)
        images = np.zeros((len(z), 784), np.float32)
        for k, (z1, z2) in enumerate(z):
            row, col = int(np.clip(14 - 4 * z2, 0, 27)), int(np.clip(14 + 4 * z1, 0, 27))
            images[k, row * 28 + col] = 1.0
        return images


class _BrightSideClassifier:
    """Reads 1 when the bright pixel is in the right half of the image, else 0."""

    def predict(self, x):
        return (np.argmax(x, axis=1) % 28 >= 14).astype(int)


def test_sliders_move_the_point_and_redraw_its_digit():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    panel = latent_explorer(_ToyDecoder(), codes=codes, labels=np.arange(50) % 10,
                            classifier=_BrightSideClassifier(), interactive=True)
    assert panel.widget is not None and set(panel.values) == {"z1", "z2"}
    assert np.allclose(panel.result["z"], [0.0, 0.0])
    moved = panel.set(z1=-2.0, z2=1.0)
    assert np.allclose(moved["z"], [-2.0, 1.0])
    assert moved["image"].shape == (28, 28) and moved["image"][10, 6] == 1.0   # the decoder's image there
    assert moved["digit"] == 0
    assert panel.set(z1=2.5)["digit"] == 1
    figure = plt.gcf()
    assert "z = (2.5, 1.0)" in figure.axes[1].get_title() and "reads a 1" in figure.axes[1].get_title()
    plt.close("all")


def test_headless_draws_one_static_figure(monkeypatch):
    monkeypatch.setenv("CS109B_HEADLESS", "1")
    panel = latent_explorer(_ToyDecoder(), start=(1.0, -1.0))
    assert panel.widget is None and panel.result["digit"] is None
    assert np.allclose(panel.result["z"], [1.0, -1.0])
    plt.close("all")


def test_bad_arguments():
    class ThreeD(_ToyDecoder):
        latent_dim = 3

    with pytest.raises(ValueError, match="2-D latent space"):
        latent_explorer(ThreeD(), interactive=False)
    with pytest.raises(ValueError, match="limit and step"):
        latent_explorer(_ToyDecoder(), limit=0.0, interactive=False)
    with pytest.raises(ValueError, match=r"codes must have shape \[n, 2\]"):
        latent_explorer(_ToyDecoder(), codes=np.zeros((5, 3)), interactive=False)
    with pytest.raises(ValueError, match="labels must have shape"):
        latent_explorer(_ToyDecoder(), codes=np.zeros((5, 2)), labels=np.zeros(4), interactive=False)
