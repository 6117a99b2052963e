"""Active learning for regression on the gap data: acquire x along the line by predictive variance.

The start set is `cb.data.sin_gap()` (20 points, none in the gap around 0); the pool is a line
of x values over the data's range whose labels an oracle draws from the true generating function
plus its noise (`GapProblem`). Each round a `cb.bnn.build_regressor` network ("ensemble" or
"mc_dropout") is trained from scratch (seeded) on the labelled points, scored on the pool with
`cb.bnn.predict` and `predictive_variance`, and the test RMSE of its predictive mean against
the noise-free truth is recorded.
"""

import dataclasses

import numpy as np

from cs109b_bayes import data, seeds
from cs109b_bayes.active.acquisition import acquire, predictive_variance, random_scores
from cs109b_bayes.active.loop import ActiveLearningResult
from cs109b_bayes.bnn import build_regressor, fit, predict
from cs109b_bayes.checks import check_count

__all__ = ["REGRESSION_STRATEGIES", "GapProblem", "gap_problem", "run_regression_active_learning"]

REGRESSION_STRATEGIES = ("variance", "random")
"""`"variance"`: the highest predictive variance (epistemic by default); `"random"`: uniform."""


@dataclasses.dataclass(frozen=True)
class GapProblem:
    """The gap data as an active-learning problem.

    Attributes:
        x_start, y_start: the 20 labelled points of `cb.data.sin_gap()`, [20].
        pool_x, pool_y: the pool along the line and the oracle's noisy labels, [m].
        test_x, test_y: a grid over the same range and the noise-free truth there, [k].
        truth: the generating parameters (`w11, w12, w21, w22, b1, sigma`).
        seed: the seed of the oracle's noise.
    """

    x_start: np.ndarray
    y_start: np.ndarray
    pool_x: np.ndarray
    pool_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    truth: dict
    seed: int


def _true_mean(x, truth):
    return truth["w21"] * np.sin(truth["w11"] * x) + truth["w22"] * np.sin(truth["w12"] * x) + truth["b1"]


def gap_problem(*, seed, pool_size=101, test_size=201, half_width=0.5):
    """`cb.data.sin_gap()` with a pool of x values along [-half_width, half_width] and a test grid.

    Args:
        seed: int seed of the oracle's label noise (`numpy_rng(seed, "active/oracle")`).
        pool_size: pool points, evenly spaced. Default value: 101.
        test_size: test grid points. Default value: 201.
        half_width: the line is [-half_width, half_width]. Default value: 0.5 (the data's range).

    Returns:
        A `GapProblem`.

    Raises:
        ValueError: for sizes below 2 or a non-positive `half_width`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    problem = cb.active.gap_problem(seed=0)
    problem.pool_x.min(), problem.pool_x.max()      # -0.5, 0.5
    ```
    """
    seed = seeds.check_seed(seed)
    pool_size, test_size = check_count("pool_size", pool_size, 2), check_count("test_size", test_size, 2)
    if isinstance(half_width, bool) or not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width!r}")
    gap = data.sin_gap()
    truth = dict(gap.truth)
    pool_x = np.linspace(-half_width, half_width, pool_size)
    noise = seeds.numpy_rng(seed, "active/oracle").normal(0.0, truth["sigma"], size=pool_size)
    test_x = np.linspace(-half_width, half_width, test_size)
    return GapProblem(gap.x, gap.y, pool_x, _true_mean(pool_x, truth) + noise, test_x, _true_mean(test_x, truth),
                      truth, seed)


def run_regression_active_learning(problem, *, strategy, seed, kind="ensemble", acquisition_size=3, num_rounds=4,
                                   epochs=300, num_samples=50, component="epistemic", hidden_units=(32, 32)):
    """Active learning on a `GapProblem`: acquire pool x by predictive variance (or at random).

    Round r builds `cb.bnn.build_regressor(kind, seed=sub_seed(seed, "train/r"))`, trains it
    with `cb.bnn.fit` (full batch) on the labelled points, records the RMSE of the predictive
    mean against the noise-free truth on the test grid, then labels the `acquisition_size`
    pool points of highest `predictive_variance(..., component=component)` (or random ones).

    Args:
        problem: a `GapProblem` (`gap_problem`).
        strategy: `"variance"` or `"random"`.
        seed: int seed of the run (the training seeds do not depend on the strategy).
        kind: `"ensemble"` or `"mc_dropout"` (any probabilistic `cb.bnn.KINDS` works).
            Default value: `"ensemble"`.
        acquisition_size: pool points labelled per round. Default value: 3.
        num_rounds: acquisition rounds. Default value: 4.
        epochs: full-batch training steps per round. Default value: 300.
        num_samples: forward passes of `cb.bnn.predict`. Default value: 50.
        component: the variance acquired by. Default value: `"epistemic"`.
        hidden_units: hidden layer widths. Default value: (32, 32).

    Returns:
        An `ActiveLearningResult` with `metric="rmse"` and `acquired` indices into `problem.pool_x`.

    Raises:
        ValueError: for an unknown strategy, non-positive sizes, or a pool too small.
        TypeError: for a `problem` that is not a `GapProblem` or a seed that is not an int.

    #### Examples

    ```python
    problem = cb.active.gap_problem(seed=0)
    run = cb.active.run_regression_active_learning(problem, strategy="variance", seed=0)
    problem.pool_x[run.acquired[0]]          # the first round's picks: in the gap?
    ```
    """
    if not isinstance(problem, GapProblem):
        raise TypeError(f"problem must be a GapProblem (cb.active.gap_problem), got {type(problem).__name__}")
    if strategy not in REGRESSION_STRATEGIES:
        raise ValueError(f"strategy must be one of {REGRESSION_STRATEGIES}, got {strategy!r}")
    seed = seeds.check_seed(seed)
    acquisition_size = check_count("acquisition_size", acquisition_size)
    num_rounds = check_count("num_rounds", num_rounds, 0)
    epochs, num_samples = check_count("epochs", epochs), check_count("num_samples", num_samples)
    if num_rounds * acquisition_size > len(problem.pool_x):
        raise ValueError(f"the pool has {len(problem.pool_x)} points, fewer than num_rounds * acquisition_size")
    labelled = np.zeros(len(problem.pool_x), dtype=bool)
    sizes, values, acquired = [], [], []
    for round_index in range(num_rounds + 1):
        x = np.concatenate([problem.x_start, problem.pool_x[labelled]])
        y = np.concatenate([problem.y_start, problem.pool_y[labelled]])
        round_seed = seeds.sub_seed(seed, f"train/{round_index}") % 2**31
        model = build_regressor(kind, num_train=len(x), seed=round_seed, hidden_units=hidden_units)
        fit(model, x, y, epochs=epochs, seed=round_seed, batch_size=len(x), progress=False)
        test = predict(model, problem.test_x, num_samples=num_samples, seed=round_seed)
        sizes.append(len(x))
        values.append(float(np.sqrt(np.mean(np.square(test.mean - problem.test_y)))))
        if round_index == num_rounds:
            break
        if strategy == "random":
            scores = random_scores(len(problem.pool_x), seed=seeds.sub_seed(seed, f"random/{round_index}"))
        else:
            pool = predict(model, problem.pool_x, num_samples=num_samples, seed=seeds.sub_seed(seed, "pool") % 2**31)
            scores = predictive_variance(pool, component=component)
        chosen = acquire(scores, labelled, batch_size=acquisition_size)
        labelled[chosen] = True
        acquired.append(chosen)
    return ActiveLearningResult(strategy, seed, np.array(sizes), np.array(values), "rmse",
                                np.array(acquired, dtype=int).reshape(num_rounds, acquisition_size),
                                np.zeros(0, dtype=int))
