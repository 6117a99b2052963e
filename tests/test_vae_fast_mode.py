"""Fast mode still teaches lab 10: the manifold shows the digit classes and reconstructions keep theirs.

The lab's own training loop runs the student's step; this test trains the same architecture
with the same fast-mode budget (3,000 steps of 64, Adam 2e-3) through `cb.vae.train` and reads
the figures with the digit classifier of `cs109b_bayes.vae.digits`.
"""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.vae import digits


@pytest.fixture(scope="module")
def offline_digits():
    mnist = cb.data.load_mnist()
    return mnist, cb.vae.prepare_images(mnist.x), cb.vae.prepare_images(mnist.x_test)


@pytest.fixture(scope="module")
def classifier(offline_digits):
    mnist, x_train, _ = offline_digits
    return digits.digit_classifier(x_train, mnist.y, seed=0)


def test_the_classifier_reads_held_out_digits(offline_digits, classifier):
    mnist, _, x_test = offline_digits
    assert np.mean(digits.classify_digits(x_test, classifier) == mnist.y_test) > 0.85
    canvas = np.concatenate([x_test[:4].reshape(4, 28, 28)[k] for k in range(4)], axis=1)   # one row of 4 cells
    counts = digits.manifold_classes(canvas, classifier)
    assert sum(counts.values()) == 4
    assert counts == {int(d): int(c) for d, c in zip(*np.unique(digits.classify_digits(x_test[:4], classifier),
                                                                  return_counts=True))}


def test_bad_inputs(offline_digits, classifier):
    mnist, x_train, x_test = offline_digits
    with pytest.raises(ValueError, match="labels"):
        digits.digit_classifier(x_train[:10], mnist.y[:9])
    with pytest.raises(ValueError, match="regularization"):
        digits.digit_classifier(x_train[:10], mnist.y[:10], regularization=0.0)
    with pytest.raises(TypeError):
        digits.digit_classifier(x_train[:10], mnist.y[:10], seed=1.5)
    with pytest.raises(ValueError, match="grid of 28 x 28 cells"):
        digits.manifold_classes(np.zeros((30, 28)), classifier)
    with pytest.raises(ValueError, match="flattened"):
        digits.classify_digits(np.zeros((3, 100)), classifier)
    with pytest.raises(ValueError, match="one width"):
        digits.latent_knn_accuracy(np.zeros((4, 2)), np.zeros(4), np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="one label"):
        digits.latent_knn_accuracy(np.zeros((4, 2)), np.zeros(3), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="num_neighbors"):
        digits.latent_knn_accuracy(np.zeros((4, 2)), np.zeros(4), np.zeros((3, 2)), np.zeros(3), num_neighbors=0)


def test_knn_accuracy_separates_clusters_from_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    clustered = rng.normal(scale=0.1, size=(120, 2)) + 5.0 * np.eye(3)[labels][:, :2]
    assert digits.latent_knn_accuracy(clustered[::2], labels[::2], clustered[1::2], labels[1::2]) > 0.6
    mixed = rng.normal(size=(120, 2))
    assert digits.latent_knn_accuracy(mixed[::2], labels[::2], mixed[1::2], labels[1::2]) < 0.6


@pytest.mark.slow
def test_fast_mode_manifold_shows_the_digits_and_reconstructions_keep_their_class(offline_digits, classifier):
    mnist, x_train, x_test = offline_digits
    vae = cb.vae.build_vae(latent_dim=2, seed=109)
    epochs = 3_000 // (len(x_train) // 64)            # lab 10's fast budget: 3,000 steps of 64
    cb.vae.train(vae, x_train, epochs=epochs, batch_size=64, learning_rate=2e-3, seed=109)
    canvas, _ = cb.vae.decode_manifold(vae, num_points=15)
    shown = digits.manifold_classes(canvas, classifier)
    assert len(shown) >= 9, f"the fast-mode manifold shows only the classes {sorted(shown)}"
    readable = digits.classify_digits(x_test, classifier) == mnist.y_test
    kept = np.mean(digits.classify_digits(vae.reconstruct(x_test).numpy(), classifier)[readable]
                   == mnist.y_test[readable])
    assert kept >= 0.55, f"only {kept:.0%} of the reconstructions keep their class"
