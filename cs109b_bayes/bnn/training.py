"""`fit`: minibatch Adam on `NLL + KL / N` with seeded shuffling and stateless layer noise."""

import dataclasses
import time

import numpy as np
import tensorflow as tf

from cs109b_bayes import noise, seeds
from cs109b_bayes import progress as cb_progress
from cs109b_bayes.bnn.inputs import as_inputs, as_targets, check_count
from cs109b_bayes.bnn.kinds import model_kind

__all__ = ["TrainingHistory", "fit"]


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """Per-epoch training curves of `fit`.

    Attributes:
        loss: NLL + KL per epoch (minibatch averages), i.e. `-ELBO / N`.
        nll: the data term, mean negative log-likelihood per example (MSE for `deterministic`).
        kl: the KL term as added to the loss (already divided by N).
        seconds_per_epoch: wall time of each epoch.
        seed: the seed of the run.
    """

    loss: np.ndarray
    nll: np.ndarray
    kl: np.ndarray
    seconds_per_epoch: np.ndarray
    seed: int


def _train_step(model, kind, base_seed):
    """A compiled `(xb, yb, step_index) -> (nll, kl)` Adam step whose noise is seeded by `fold_in(base_seed, s)`."""
    optimizer = model.optimizer

    @tf.function
    def step(xb, yb, step_index):
        step_seed = tf.random.experimental.stateless_fold_in(base_seed, step_index)
        with tf.GradientTape() as tape, noise.stateless_noise(step_seed):
            output = model(xb, training=True)
            if kind == "deterministic":
                nll = tf.reduce_mean(tf.square(output - yb))
            else:
                nll = tf.reduce_mean(-output.log_prob(yb))
            kl = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
            loss = nll + kl
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return nll, kl

    return step


def fit(model, x, y, *, epochs, seed, batch_size=32, verbose=False, progress=None):
    """Train a `build_regressor` model by minibatch Adam on `NLL + KL / N`; record both terms.

    Minibatches are reshuffled each epoch with `cb.seeds.numpy_rng(seed, "fit/shuffle")`;
    the layers' noise of step s is drawn with stateless ops seeded by
    `fold_in(cb.seeds.stateless_seed(seed, "fit"), s)`, so the same seed (and starting
    weights) gives the same run whatever ran before, and no global random state is read
    or written. The step is compiled with `tf.function`. The model's compiled Adam
    optimizer is used and keeps its state across calls.

    Args:
        model: a model from `build_regressor`.
        x: inputs, shape [n] or [n, input_dim].
        y: targets, shape [n].
        epochs: passes over the data.
        seed: int seed.
        batch_size: minibatch size. Default value: 32.
        verbose: print the loss every tenth of the run. Default value: False.
        progress: a progress bar of the epochs: True, False, or None for "in a notebook,
            not in headless runs" (see `cb.progress.enabled`). Default value: None.

    Returns:
        A `TrainingHistory`.

    Raises:
        ValueError: for non-positive `epochs` or `batch_size`, `x`, `y` of
            mismatched or wrong shapes, or a model not built by `build_regressor`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    history = cb.bnn.fit(model, het.x, het.y, epochs=300, batch_size=32, seed=0)
    history.nll[-1], history.kl[-1]
    ```
    """
    epochs = check_count("epochs", epochs)
    batch_size = check_count("batch_size", batch_size)
    kind = model_kind(model)
    x = as_inputs(x, model)
    y = as_targets(y, len(x))
    seed = seeds.check_seed(seed)
    rng = seeds.numpy_rng(seed, "fit/shuffle")
    model.optimizer.build(model.trainable_variables)
    step = _train_step(model, kind, tf.constant(seeds.stateless_seed(seed, "fit")))
    n = len(x)
    step_index = 0
    history = {"nll": [], "kl": [], "seconds": []}
    with cb_progress.bar(total=epochs, desc=f"fit {kind}", unit="epoch", progress=progress) as bar:
        for epoch in range(epochs):
            _epoch(step, x, y, rng.permutation(n), batch_size, step_index, history)
            step_index += -(-n // batch_size)
            bar.update(1)
            bar.set_postfix_str(f"nll {history['nll'][-1]:.3f} kl {history['kl'][-1]:.3f}", refresh=False)
            if verbose and (epoch + 1) % max(1, epochs // 10) == 0:
                print(f"epoch {epoch + 1}: nll {history['nll'][-1]:.4f}  kl {history['kl'][-1]:.4f}")
    nll, kl = np.array(history["nll"]), np.array(history["kl"])
    return TrainingHistory(nll + kl, nll, kl, np.array(history["seconds"]), seed)


def _epoch(step, x, y, order, batch_size, step_index, history):
    """One pass over the data in `order`; appends the epoch's mean NLL, KL and seconds to `history`."""
    n = len(order)
    start = time.perf_counter()
    nll_sum = kl_sum = 0.0
    for begin in range(0, n, batch_size):
        idx = order[begin:begin + batch_size]
        nll, kl = step(x[idx], y[idx], tf.constant(step_index, tf.int32))
        step_index += 1
        nll_sum += float(nll) * len(idx)
        kl_sum += float(kl) * len(idx)
    history["nll"].append(nll_sum / n)
    history["kl"].append(kl_sum / n)
    history["seconds"].append(time.perf_counter() - start)
