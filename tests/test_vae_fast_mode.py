"""Fast mode still teaches labs 10 and 12: the manifold shows the digit classes and reconstructions keep theirs.

Issue 11: in fast mode the lab 10 manifold shows at least 9 of the 10 digit classes and the
reconstructions keep their class, read by a classifier trained on the offline digits
(`cs109b_bayes.vae.digits`). "Keep their class" is measured against full mode: the share of
test digits (of those the classifier itself reads correctly) whose reconstruction the
classifier reads as the same digit must reach at least `SHARE_OF_FULL` of the full-mode share.
Lab 12 is held to the same standard for its decoded Flipout passes.

The budgets (optimizer steps in fast and full mode, batch size, Adam step, seed) are read
from the labs' sources, so a lab that cuts its fast budget fails here. Lab 10 trains with the
student's step in its own compiled loop; this test trains the same architecture with the same
budget through `cb.vae.train`. Full mode continues the fast-mode run (`train` continues
exactly where it stopped), so one run gives both measurements.
"""

import pathlib
import re

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes import noise
from cs109b_bayes.vae import digits

LABS = pathlib.Path(__file__).resolve().parents[1] / "labs" / "source"
SHARE_OF_FULL = 0.8     # fast mode keeps the class at least 80% as often as full mode


def lab_budget(filename):
    """(fast steps, full steps, batch size, learning rate, seed) as written in a lab's parameter cell."""
    source = (LABS / filename).read_text(encoding="utf-8")

    def number(pattern):
        return float(re.search(pattern, source, re.MULTILINE).group(1).replace("_", ""))

    steps = re.search(r"^NUM_STEPS = ([\d_]+) if FAST else ([\d_]+)", source, re.MULTILINE)
    return (int(steps.group(1).replace("_", "")), int(steps.group(2).replace("_", "")),
            int(number(r"^BATCH_SIZE = ([\d_]+)")), number(r"^LEARNING_RATE = ([\d.e-]+)"),
            int(number(r"^SEED = ([\d_]+)")))


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


def test_the_budgets_are_read_from_the_labs():
    fast, full, batch, rate, seed = lab_budget("10_vae_from_scratch.py")
    assert 0 < fast < full and batch > 0 and 0 < rate < 0.1 and seed == 109
    fast, full, batch, rate, seed = lab_budget("12_bayesian_vae.py")
    assert 0 < fast < full and batch > 0 and 0 < rate < 0.1 and seed == 112


def kept_share(read, labels, readable):
    """Share of the readable test digits whose decoded images the classifier reads as their label."""
    return float(np.mean(read[..., readable] == labels[readable]))


def train_steps(model, x_train, steps, batch_size, learning_rate, seed):
    epochs = max(1, steps * batch_size // len(x_train))   # the labs' own rounding
    cb.vae.train(model, x_train, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed)


@pytest.mark.slow
def test_lab10_fast_mode_manifold_shows_the_digits_and_reconstructions_keep_their_class(offline_digits,
                                                                                        classifier):
    mnist, x_train, x_test = offline_digits
    fast, full, batch, rate, seed = lab_budget("10_vae_from_scratch.py")
    readable = digits.classify_digits(x_test, classifier) == mnist.y_test
    vae = cb.vae.build_vae(latent_dim=2, seed=seed)
    measured = {}
    for mode, steps in (("fast", fast), ("full", full - fast)):   # full mode = fast mode + the remaining steps
        train_steps(vae, x_train, steps, batch, rate, seed)
        canvas, _ = cb.vae.decode_manifold(vae, num_points=15)
        measured[mode] = (len(digits.manifold_classes(canvas, classifier)),
                          kept_share(digits.classify_digits(vae.reconstruct(x_test).numpy(), classifier),
                                     mnist.y_test, readable))
    print(f"lab 10 manifold classes, reconstructions kept: {measured}")
    assert measured["fast"][0] >= 9, f"the fast-mode manifold shows only {measured['fast'][0]} classes"
    assert measured["fast"][1] >= SHARE_OF_FULL * measured["full"][1], \
        f"fast mode keeps the class in {measured['fast'][1]:.0%} of reconstructions, full mode {measured['full'][1]:.0%}"
    assert measured["full"][1] > 0.5, "most full-mode reconstructions should keep their class"


@pytest.mark.slow
def test_lab12_fast_mode_flipout_passes_keep_their_class(offline_digits, classifier):
    mnist, x_train, x_test = offline_digits
    fast, full, batch, rate, seed = lab_budget("12_bayesian_vae.py")
    x_eval, y_eval = x_test[:300], mnist.y_test[:300]
    readable = digits.classify_digits(x_eval, classifier) == y_eval
    bvae = cb.vae.build_vae(latent_dim=2, flipout_encoder=True, num_train_examples=len(x_train), seed=seed)
    kept = {}
    for mode, steps in (("fast", fast), ("full", full - fast)):
        train_steps(bvae, x_train, steps, batch, rate, seed)
        passes = []
        for k in range(10):   # 10 passes through the Flipout encoder, each with its own stateless weight draw
            with noise.stateless_noise(k):
                passes.append(bvae.encoder(x_eval)[0])
        read = np.stack([digits.classify_digits(bvae.decode_means(z).numpy(), classifier) for z in passes])
        kept[mode] = kept_share(read, y_eval, readable)
    print(f"lab 12 decoded passes that keep their class: {kept}")
    assert kept["fast"] >= SHARE_OF_FULL * kept["full"], \
        f"fast mode keeps the class in {kept['fast']:.0%} of the decoded passes, full mode {kept['full']:.0%}"
    assert kept["full"] > 0.5, "most full-mode decoded passes should keep their class"
