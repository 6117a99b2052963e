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


def _epoch_function(model, kind):
    """The model's compiled epoch `(x, y, order, batch_size, base_seed, first_step) -> (nll_sum, kl_sum)`.

    One `tf.function` per model and optimizer, built on the first `fit` and kept on the
    model, so later calls (and later epochs) reuse the traced graph; compiling the model
    again with another optimizer builds a new one. Inside, a `tf.range` loop runs one Adam
    step per minibatch of `order`; step s draws its layer noise with stateless ops seeded by
    `fold_in(base_seed, s)`. The sums are weighted by each minibatch's size, so their ratio
    to n is the epoch's per-example mean.
    """
    optimizer = model.optimizer
    cached = getattr(model, "_cb_epoch_function", None)
    if cached is not None and cached[0] is optimizer:
        return cached[1]

    def step(xb, yb, step_seed):
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

    @tf.function(reduce_retracing=True)
    def epoch(x, y, order, batch_size, base_seed, first_step):
        n = tf.shape(order)[0]
        num_batches = (n + batch_size - 1) // batch_size
        nll_sum = tf.constant(0.0)
        kl_sum = tf.constant(0.0)
        for b in tf.range(num_batches):
            idx = order[b * batch_size:tf.minimum((b + 1) * batch_size, n)]
            size = tf.cast(tf.shape(idx)[0], tf.float32)
            step_seed = tf.random.experimental.stateless_fold_in(base_seed, first_step + b)
            nll, kl = step(tf.gather(x, idx), tf.gather(y, idx), step_seed)
            nll_sum += tf.cast(nll, tf.float32) * size
            kl_sum += tf.cast(kl, tf.float32) * size
        return nll_sum, kl_sum

    model._cb_epoch_function = (optimizer, epoch)
    return epoch


def fit(model, x, y, *, epochs, seed, batch_size=32, verbose=False, progress=None):
    """Train a `build_regressor` model by minibatch Adam on `NLL + KL / N`; record both terms.

    Minibatches are reshuffled each epoch with `cb.seeds.numpy_rng(seed, "fit/shuffle")`;
    the layers' noise of step s is drawn with stateless ops seeded by
    `fold_in(cb.seeds.stateless_seed(seed, "fit"), s)`, so the same seed (and starting
    weights) gives the same run whatever ran before, and no global random state is read
    or written. Each epoch runs as one compiled `tf.function` (traced once per model, so
    repeated calls do not trace again). The model's compiled Adam optimizer is used and
    keeps its state across calls.

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
    epoch_fn = _epoch_function(model, kind)
    base_seed = tf.constant(seeds.stateless_seed(seed, "fit"))
    x_tensor, y_tensor = tf.constant(x), tf.constant(y)
    n = len(x)
    step_index = 0
    history = {"nll": [], "kl": [], "seconds": []}
    with cb_progress.bar(total=epochs, desc=f"fit {kind}", unit="epoch", progress=progress) as bar:
        for epoch in range(epochs):
            start = time.perf_counter()
            nll_sum, kl_sum = epoch_fn(x_tensor, y_tensor, tf.constant(rng.permutation(n), tf.int32),
                                       tf.constant(batch_size, tf.int32), base_seed,
                                       tf.constant(step_index, tf.int32))
            history["nll"].append(float(nll_sum) / n)
            history["kl"].append(float(kl_sum) / n)
            history["seconds"].append(time.perf_counter() - start)
            step_index += -(-n // batch_size)
            bar.update(1)
            bar.set_postfix_str(f"nll {history['nll'][-1]:.3f} kl {history['kl'][-1]:.3f}", refresh=False)
            if verbose and (epoch + 1) % max(1, epochs // 10) == 0:
                print(f"epoch {epoch + 1}: nll {history['nll'][-1]:.4f}  kl {history['kl'][-1]:.4f}")
    nll, kl = np.array(history["nll"]), np.array(history["kl"])
    return TrainingHistory(nll + kl, nll, kl, np.array(history["seconds"]), seed)
