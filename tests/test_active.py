"""cb.active: acquisition scores in closed form, the acquisition step, the classifier and the loops."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.active import acquisition


def test_scores_closed_forms():
    identical = np.tile(np.array([[0.2, 0.3, 0.5]]), (6, 1, 1))            # [6, 1, 3], same draws
    assert cb.active.bald(identical)[0] == pytest.approx(0.0, abs=1e-12)
    assert cb.active.predictive_entropy(identical)[0] == pytest.approx(-np.sum([.2, .3, .5] * np.log([.2, .3, .5])))
    disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert cb.active.bald(disagree)[0] == pytest.approx(np.log(2))
    assert cb.active.predictive_entropy(disagree)[0] == pytest.approx(np.log(2))
    uniform = np.full((3, 2, 7), 1 / 7)
    np.testing.assert_allclose(cb.active.predictive_entropy(uniform), np.log(7))
    np.testing.assert_allclose(cb.active.bald(uniform), 0.0, atol=1e-12)
    assert cb.active.entropy([1.0, 0.0]) == 0.0                             # 0 log 0 = 0, no nan


def test_bald_bounds_on_random_probs(seed):
    rng = cb.seeds.numpy_rng(seed, "test")
    probs = rng.dirichlet(np.full(5, 0.3), size=(10, 50))
    probs[:, :3] = np.eye(5)[rng.integers(0, 5, size=(10, 3))]           # exact 0s and 1s
    score, total = cb.active.bald(probs), cb.active.predictive_entropy(probs)
    assert np.all(np.isfinite(score)) and np.all(score >= 0) and np.all(score <= total + 1e-12)
    assert np.all(total <= np.log(5) + 1e-12)
    # BALD = total - mean of the draws' entropies, computed independently with scipy
    from scipy.stats import entropy as scipy_entropy  # noqa: PLC0415
    expected = scipy_entropy(probs.mean(axis=0), axis=-1) - scipy_entropy(probs, axis=-1).mean(axis=0)
    np.testing.assert_allclose(score, expected, atol=1e-10)


@pytest.mark.parametrize("bad", [np.ones((2, 3)), np.full((2, 3, 2), 0.7), np.full((1, 1, 2), np.nan),
                                 np.array([[[1.5, -0.5]]])])
def test_scores_refuse_bad_probs(bad):
    with pytest.raises(ValueError):
        cb.active.bald(bad)
    with pytest.raises(ValueError):
        cb.active.predictive_entropy(bad)


def test_acquire():
    np.testing.assert_array_equal(cb.active.acquire([0.1, 0.9, 0.5, 0.7], [1], batch_size=2), [3, 2])
    mask = np.array([False, True, False, False])
    np.testing.assert_array_equal(cb.active.acquire([0.1, 0.9, 0.5, 0.7], mask, batch_size=3), [3, 2, 0])
    np.testing.assert_array_equal(cb.active.acquire([1.0, 1.0, 1.0], [], batch_size=2), [0, 1])   # stable ties
    for scores, labelled, size, error in (([0.1, 0.2], [], 3, ValueError), ([0.1, np.nan], [], 1, ValueError),
                                          ([0.1, 0.2], [5], 1, ValueError), ([0.1, 0.2], [], 1.0, TypeError),
                                          ([[0.1]], [], 1, ValueError), ([0.1, 0.2], [0, 1], 1, ValueError)):
        with pytest.raises(error):
            cb.active.acquire(scores, labelled, batch_size=size)


def test_random_scores_seeded(untouched):
    a = untouched(lambda: cb.active.random_scores(20, seed=3))
    np.testing.assert_array_equal(a, cb.active.random_scores(20, seed=3))
    assert not np.array_equal(a, cb.active.random_scores(20, seed=4))
    with pytest.raises(TypeError):
        cb.active.random_scores(20, seed=0.5)
    with pytest.raises(ValueError):
        cb.active.random_scores(-1, seed=0)
    with pytest.raises(TypeError):
        cb.active.random_scores(2.0, seed=0)


def test_predictive_variance():
    locs = np.array([[0.0, 1.0], [2.0, 1.0]])                 # 2 draws, 2 points
    pred = cb.predictive.Predictive.from_draws(locs, np.full_like(locs, 0.5))
    np.testing.assert_allclose(acquisition.predictive_variance(pred), [1.0, 0.0])
    np.testing.assert_allclose(acquisition.predictive_variance(pred, component="total"), [1.25, 0.25])
    with pytest.raises(ValueError):
        acquisition.predictive_variance(pred, component="noise")
    with pytest.raises(TypeError):
        acquisition.predictive_variance(np.zeros(3))


def test_pca_features():
    rng = cb.seeds.numpy_rng(0, "test")
    images = rng.integers(0, 256, size=(60, 4, 5)).astype(np.uint8)
    fitted, other = cb.active.pca_features(images, images[:7], num_components=3)
    assert fitted.shape == (60, 3) and other.shape == (7, 3) and fitted.dtype == np.float32
    np.testing.assert_allclose(other, fitted[:7], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fitted.mean(axis=0), 0.0, atol=1e-5)
    assert fitted[:, 0].std(ddof=1) == pytest.approx(1.0, rel=1e-4)
    variances = fitted.var(axis=0)
    assert np.all(np.diff(variances) <= 1e-6)                            # leading components first
    with pytest.raises(ValueError):
        cb.active.pca_features(images, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError):
        cb.active.pca_features(images, num_components=21)


def _blobs(seed, n, dim=6, classes=3):
    rng = cb.seeds.numpy_rng(seed, "blobs")
    centres = rng.normal(0, 3, size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    return (centres[y] + rng.normal(size=(n, dim))).astype(np.float32), y


@pytest.fixture(scope="module")
def classifier():
    return cb.active.DropoutClassifier(input_dim=6, num_classes=3, hidden_units=(16,))


def test_classifier_learns_and_is_deterministic(classifier, untouched):
    x, y = _blobs(0, 200)
    x_test, y_test = _blobs(0, 100)
    untouched(lambda: classifier.fit(x, y, seed=1, num_steps=200, batch_size=32))
    probs = untouched(lambda: classifier.predict_probs(x_test, num_samples=7, seed=2))
    assert probs.shape == (7, 100, 3)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    assert np.mean(probs.mean(axis=0).argmax(axis=1) == y_test) > 0.9
    assert np.std(probs, axis=0).max() > 0                               # dropout stays on
    classifier.fit(x[:5], y[:5], seed=9, num_steps=3)                    # something else in between
    classifier.fit(x, y, seed=1, num_steps=200, batch_size=32)
    np.testing.assert_array_equal(classifier.predict_probs(x_test, num_samples=7, seed=2), probs)
    assert not np.array_equal(classifier.predict_probs(x_test, num_samples=7, seed=3), probs)


def test_classifier_errors(classifier, untouched):
    untouched(lambda: cb.active.DropoutClassifier(input_dim=3, num_classes=2, hidden_units=(4,)))
    x, y = _blobs(0, 10)
    for call in (lambda: classifier.fit(x[:, :5], y, seed=0), lambda: classifier.fit(x, y + 3, seed=0),
                 lambda: classifier.fit(x, y.astype(float), seed=0), lambda: classifier.fit(x, y, seed=0, num_steps=0),
                 lambda: classifier.predict_probs(x, num_samples=0), lambda: classifier.predict_probs(x * np.nan)):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(TypeError):
        classifier.fit(x, y, seed="a")
    for options in ({"dropout_rate": 1.0}, {"hidden_units": ()}, {"learning_rate": 0}, {"weight_decay": -1}):
        with pytest.raises(ValueError):
            cb.active.DropoutClassifier(input_dim=6, **options)


def test_loop_mechanics(classifier, untouched):
    pool_x, pool_y = _blobs(1, 60)
    test_x, test_y = _blobs(2, 40)
    options = dict(initial_size=5, acquisition_size=4, num_rounds=3, num_samples=5, num_steps=20,
                   classifier=classifier)
    run = untouched(lambda: cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="bald", seed=0,
                                                          **options))
    np.testing.assert_array_equal(run.labelled_sizes, [5, 9, 13, 17])
    assert run.values.shape == (4,) and run.metric == "accuracy" and run.acquired.shape == (3, 4)
    chosen = np.concatenate([run.initial, run.acquired.ravel()])
    assert len(set(chosen.tolist())) == chosen.size                       # no point labelled twice
    again = cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="bald", seed=0, **options)
    np.testing.assert_array_equal(again.acquired, run.acquired)
    np.testing.assert_array_equal(again.values, run.values)
    rand = cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="random", seed=0, **options)
    np.testing.assert_array_equal(np.flatnonzero(cb.active.initial_mask(60, 5, seed=0)), np.sort(run.initial))
    np.testing.assert_array_equal(rand.initial, run.initial)              # paired start sets
    assert rand.values[0] == run.values[0]                                # and the same first model
    curves = cb.active.learning_curves(pool_x, pool_y, test_x, test_y, strategies=("random", "entropy"),
                                       seeds=(0, 1), **options)
    assert curves.values.shape == (2, 2, 4) and curves.mean.shape == (2, 4) and curves.sd.shape == (2, 4)
    np.testing.assert_array_equal(curves.of("random")[0], rand.values)
    with pytest.raises(ValueError):
        cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="margin", seed=0, **options)
    with pytest.raises(ValueError):
        cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="bald", seed=0,
                                      **{**options, "num_rounds": 20})
    with pytest.raises(ValueError):
        cb.active.run_active_learning(pool_x, pool_y.astype(float), test_x, test_y, strategy="bald", seed=0)
    with pytest.raises(ValueError):
        cb.active.learning_curves(pool_x, pool_y, test_x, test_y, seeds=(0, 0), **options)
    with pytest.raises(ValueError):
        cb.active.learning_curves(pool_x, pool_y, test_x, test_y, strategies=("bald", "nope"), **options)


@pytest.mark.slow
def test_entropy_loop_on_blobs_learns(classifier):
    """Entropy acquisition on well-separated blobs: the last model is at least as accurate as the first."""
    pool_x, pool_y = _blobs(3, 150)
    run = cb.active.run_active_learning(pool_x, pool_y, pool_x, pool_y, strategy="entropy", seed=0, initial_size=6,
                                        acquisition_size=6, num_rounds=2, num_samples=10, num_steps=100,
                                        classifier=classifier)
    assert run.values[-1] >= run.values[0]


def test_gap_problem():
    problem = cb.active.gap_problem(seed=0, pool_size=11, test_size=5)
    assert problem.pool_x.shape == (11,) and problem.test_x.shape == (5,) and problem.x_start.shape == (20,)
    t = problem.truth
    np.testing.assert_allclose(problem.test_y, t["w21"] * np.sin(t["w11"] * problem.test_x)
                               + t["w22"] * np.sin(t["w12"] * problem.test_x) + t["b1"])
    noise = problem.pool_y - cb.active.gap_problem(seed=0, pool_size=11, test_size=11).test_y
    assert 0 < np.std(noise) < 0.3
    np.testing.assert_array_equal(cb.active.gap_problem(seed=0, pool_size=11).pool_y, problem.pool_y)
    with pytest.raises(ValueError):
        cb.active.gap_problem(seed=0, pool_size=1)
    with pytest.raises(ValueError):
        cb.active.gap_problem(seed=0, half_width=0)


@pytest.mark.slow
def test_regression_loop(untouched):
    problem = cb.active.gap_problem(seed=0, pool_size=41)
    run = untouched(lambda: cb.active.run_regression_active_learning(
        problem, strategy="variance", seed=0, kind="mc_dropout", num_rounds=1, acquisition_size=2, epochs=30,
        num_samples=10))
    np.testing.assert_array_equal(run.labelled_sizes, [20, 22])
    assert run.metric == "rmse" and run.acquired.shape == (1, 2) and np.all(run.values > 0)
    with pytest.raises(ValueError):
        cb.active.run_regression_active_learning(problem, strategy="bald", seed=0)
    with pytest.raises(TypeError):
        cb.active.run_regression_active_learning(object(), strategy="random", seed=0)
    with pytest.raises(ValueError):
        cb.active.run_regression_active_learning(problem, strategy="random", seed=0, num_rounds=30,
                                                 acquisition_size=2)


def test_initial_mask(untouched):
    mask = untouched(lambda: cb.active.initial_mask(50, 7, seed=3))
    assert mask.dtype == bool and mask.shape == (50,) and mask.sum() == 7
    np.testing.assert_array_equal(mask, cb.active.initial_mask(50, 7, seed=3))
    assert not np.array_equal(mask, cb.active.initial_mask(50, 7, seed=4))
    with pytest.raises(ValueError, match="larger than the pool"):
        cb.active.initial_mask(5, 7, seed=0)
    with pytest.raises(ValueError):
        cb.active.initial_mask(5, 0, seed=0)
