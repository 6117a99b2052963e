"""The pool-based active-learning loop for classification, and learning curves over strategies x seeds.

One run: start from `initial_size` labelled pool points (the same ones for every strategy with
the same seed, so strategies are compared on paired starts), then for each round retrain the
classifier from scratch (seeded), score the unlabelled pool, label the top `acquisition_size`
points, and record the test accuracy. `ActiveLearningResult` is the one result type of a run
(classification here, regression in `cs109b_bayes.active.regression`).
"""

import dataclasses

import numpy as np

from cs109b_bayes import progress, seeds
from cs109b_bayes.active.acquisition import acquire, bald, predictive_entropy, random_scores
from cs109b_bayes.active.classifier import DropoutClassifier
from cs109b_bayes.checks import check_count

__all__ = [
    "STRATEGIES", "ActiveLearningResult", "LearningCurves", "initial_mask", "learning_curves", "run_active_learning"]

STRATEGIES = {"random": None, "entropy": predictive_entropy, "bald": bald}
"""Classification strategies: name -> score function of probs [T, n, C] (None: random scores)."""


def initial_mask(pool_size, initial_size, *, seed):
    """The start set of a run: a boolean mask of `initial_size` pool points, a function of `seed`.

    Every strategy run with the same seed starts from this set (paired comparisons), and a lab
    can rebuild it to look at one round by hand.

    Args:
        pool_size: number of points in the pool.
        initial_size: number of labelled points to start from.
        seed: int seed.

    Returns:
        A boolean numpy array [pool_size] with `initial_size` True entries.

    Raises:
        ValueError: a non-positive size, or `initial_size > pool_size`.

    #### Examples

    ```python
    labelled = initial_mask(1000, 20, seed=0)   # labelled.sum() == 20
    ```
    """
    pool_size, initial_size = check_count("pool_size", pool_size), check_count("initial_size", initial_size)
    if initial_size > pool_size:
        raise ValueError(f"initial_size ({initial_size}) is larger than the pool ({pool_size} points)")
    mask = np.zeros(pool_size, dtype=bool)
    mask[seeds.numpy_rng(seeds.check_seed(seed), "active/initial").choice(pool_size, size=initial_size,
                                                                         replace=False)] = True
    return mask


@dataclasses.dataclass(frozen=True)
class ActiveLearningResult:
    """One active-learning run.

    Attributes:
        strategy: the acquisition strategy's name (`"random"`, `"bald"`, `"variance"`, ...).
        seed: the run's int seed.
        labelled_sizes: int array [R + 1], labelled points when each model was trained.
        values: float array [R + 1], the test metric of each model (round 0: the start set).
        metric: the metric's name (`"accuracy"` or `"rmse"`).
        acquired: int array [R, b], the pool indices labelled in each round, best score first.
        initial: int array [n0], the pool indices of the start set.
    """

    strategy: str
    seed: int
    labelled_sizes: np.ndarray
    values: np.ndarray
    metric: str
    acquired: np.ndarray
    initial: np.ndarray


@dataclasses.dataclass(frozen=True)
class LearningCurves:
    """Learning curves of several strategies, each over several seeds.

    Attributes:
        strategies: tuple of the strategies' names.
        labelled_sizes: int array [R + 1], shared by every run.
        values: float array [strategies, seeds, R + 1] of the metric.
        metric: the metric's name.
        results: tuple of every `ActiveLearningResult`, strategy-major.
    """

    strategies: tuple
    labelled_sizes: np.ndarray
    values: np.ndarray
    metric: str
    results: tuple

    @property
    def mean(self):
        """The metric averaged over seeds, [strategies, R + 1]."""
        return self.values.mean(axis=1)

    @property
    def sd(self):
        """The sd of the metric over seeds (ddof 1; 0 for one seed), [strategies, R + 1]."""
        return self.values.std(axis=1, ddof=1) if self.values.shape[1] > 1 else np.zeros_like(self.mean)

    def of(self, strategy):
        """The values [seeds, R + 1] of one strategy."""
        return self.values[self.strategies.index(strategy)]


def _check_split(x, y, name):
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    if x.ndim != 2 or y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: x must be [n, d] and y n integer labels, got {x.shape} and {y.shape} {y.dtype}")
    return x, y


def run_active_learning(pool_x, pool_y, test_x, test_y, *, strategy, seed, initial_size=20, acquisition_size=10,
                        num_rounds=10, num_samples=20, num_steps=300, batch_size=64, classifier=None):
    """One pool-based active-learning run with an MC-dropout classifier.

    Round r trains a `DropoutClassifier` from scratch (seed `sub_seed(seed, "train/r")`) on
    the labelled points, records its test accuracy (argmax of the mean of `num_samples` MC
    passes), scores the unlabelled pool by `strategy` and labels the `acquisition_size`
    best (`acquire`). The start set (`initial_mask(len(pool_x), initial_size, seed=seed)`), the training seeds
    and the dropout masks depend on `seed` only, not on the strategy.

    Args:
        pool_x, pool_y: the pool's features [n, d] and labels [n] (revealed on acquisition).
        test_x, test_y: held-out features and labels.
        strategy: `"random"`, `"entropy"` or `"bald"` (see `STRATEGIES`).
        seed: int seed of the run.
        initial_size: labelled points at the start. Default value: 20.
        acquisition_size: b, points labelled per round. Default value: 10.
        num_rounds: R, acquisition rounds (R + 1 models are trained). Default value: 10.
        num_samples: T, MC-dropout passes per prediction. Default value: 20.
        num_steps, batch_size: passed to `DropoutClassifier.fit`. Default values: 300, 64.
        classifier: a `DropoutClassifier` to reuse (it is reset each round), or None for a
            new one with default options. Default value: None.

    Returns:
        An `ActiveLearningResult` with `metric="accuracy"`.

    Raises:
        ValueError: for an unknown strategy, mismatched shapes, non-positive sizes, or a
            pool too small for `initial_size + num_rounds * acquisition_size` points.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    run = cb.active.run_active_learning(pool_x, pool_y, test_x, test_y, strategy="bald", seed=0)
    run.labelled_sizes, run.values
    ```
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}, got {strategy!r}")
    seed = seeds.check_seed(seed)
    pool_x, pool_y = _check_split(pool_x, pool_y, "pool")
    test_x, test_y = _check_split(test_x, test_y, "test")
    initial_size, acquisition_size = check_count("initial_size", initial_size), check_count(
        "acquisition_size", acquisition_size)
    num_rounds = check_count("num_rounds", num_rounds, 0)
    if initial_size + num_rounds * acquisition_size > len(pool_x):
        raise ValueError(f"the pool has {len(pool_x)} points, fewer than initial_size + num_rounds * "
                         f"acquisition_size = {initial_size + num_rounds * acquisition_size}")
    if classifier is None:
        classifier = DropoutClassifier(input_dim=pool_x.shape[1], num_classes=int(max(pool_y.max(), test_y.max())) + 1)
    labelled = initial_mask(len(pool_x), initial_size, seed=seed)
    initial = np.flatnonzero(labelled)
    sizes, values, acquired = [], [], []
    for round_index in range(num_rounds + 1):
        round_seed = seeds.sub_seed(seed, f"train/{round_index}")
        classifier.fit(pool_x[labelled], pool_y[labelled], seed=round_seed, num_steps=num_steps,
                       batch_size=batch_size)
        test_probs = classifier.predict_probs(test_x, num_samples=num_samples, seed=round_seed)
        sizes.append(int(labelled.sum()))
        values.append(float(np.mean(test_probs.mean(axis=0).argmax(axis=1) == test_y)))
        if round_index == num_rounds:
            break
        if strategy == "random":
            scores = random_scores(len(pool_x), seed=seeds.sub_seed(seed, f"random/{round_index}"))
        else:
            probs = classifier.predict_probs(pool_x, num_samples=num_samples, seed=seeds.sub_seed(seed, "pool"))
            scores = STRATEGIES[strategy](probs)
        chosen = acquire(scores, labelled, batch_size=acquisition_size)
        labelled[chosen] = True
        acquired.append(chosen)
    return ActiveLearningResult(strategy, seed, np.array(sizes), np.array(values), "accuracy",
                                np.array(acquired, dtype=int).reshape(num_rounds, acquisition_size), initial)


def learning_curves(pool_x, pool_y, test_x, test_y, *, strategies=("random", "entropy", "bald"), seeds=(0, 1, 2),
                    progress_bar=None, **options):
    """Runs every strategy with every seed; returns the learning curves (values, mean, sd).

    Args:
        pool_x, pool_y, test_x, test_y: as in `run_active_learning`.
        strategies: names from `STRATEGIES`. Default value: ("random", "entropy", "bald").
        seeds: int seeds; run s of every strategy shares its start set and training seeds.
            Default value: (0, 1, 2).
        progress_bar: show a progress bar (see `cb.progress.enabled`). Default value: None.
        **options: keyword options of `run_active_learning` (`initial_size`, `num_rounds`, ...).

    Returns:
        A `LearningCurves`.

    Raises:
        ValueError: for no strategies or seeds, duplicates, or the errors of `run_active_learning`.

    #### Examples

    ```python
    curves = cb.active.learning_curves(pool_x, pool_y, test_x, test_y, seeds=(0, 1, 2), num_rounds=8)
    curves.mean, curves.sd            # [3, 9] each
    ```
    """
    strategies, run_seeds = tuple(strategies), tuple(seeds)
    if not strategies or not run_seeds or len(set(strategies)) < len(strategies) or len(set(run_seeds)) < len(run_seeds):
        raise ValueError(f"need distinct strategies and seeds, got {strategies} and {run_seeds}")
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}, got {strategy!r}")
    pool_x, pool_y = _check_split(pool_x, pool_y, "pool")
    test_x, test_y = _check_split(test_x, test_y, "test")
    if options.get("classifier") is None:
        options["classifier"] = DropoutClassifier(input_dim=pool_x.shape[1],
                                                  num_classes=int(max(pool_y.max(), test_y.max())) + 1)
    jobs = [(strategy, seed) for strategy in strategies for seed in run_seeds]
    results = tuple(run_active_learning(pool_x, pool_y, test_x, test_y, strategy=strategy, seed=seed, **options)
                    for strategy, seed in progress.iterate(jobs, desc="active learning runs", unit="run",
                                                           progress=progress_bar))
    values = np.array([r.values for r in results]).reshape(len(strategies), len(run_seeds), -1)
    return LearningCurves(strategies, results[0].labelled_sizes, values, "accuracy", results)
