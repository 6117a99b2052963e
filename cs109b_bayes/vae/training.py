"""`train`: fit a `VAE` or `AE` with Adam, seeded and compiled, continuing where the last call stopped.

#### Examples

```python
import cs109b_bayes as cb
vae = cb.vae.build_vae(seed=0)
first = cb.vae.train(vae, x_train, epochs=10, seed=0)
more = cb.vae.train(vae, x_train, epochs=10, seed=0)    # epochs 11-20: same Adam state, new batches
```
"""

import dataclasses
import math
import time

import tensorflow as tf
import tf_keras

from cs109b_bayes import progress as cb_progress
from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import check_image_batch, positive_int, positive_scale
from cs109b_bayes.vae.networks import has_flipout

__all__ = ["TrainResult", "train"]


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What one `train` call did.

    Attributes:
        history: dict metric name -> list of per-epoch values of this call (`loss`,
            `reconstruction`, `kl` for a VAE; `val_...` with validation images).
        epochs: epochs run by this call.
        num_examples: training examples per epoch.
        seconds: wall time of `fit`, the first epoch's compilation included.
        examples_per_second: training examples per second after the first epoch
            (compilation excluded); the overall rate if only one epoch ran.
        seed: the seed of the shuffling (the training noise comes from the model's seed).
        initial_epoch: epochs the model had been trained by `train` before this call.
        optimizer_steps: Adam's step count after this call (it keeps counting across calls
            unless `reset_optimizer=True`).
    """

    history: dict
    epochs: int
    num_examples: int
    seconds: float
    examples_per_second: float
    seed: int
    initial_epoch: int = 0
    optimizer_steps: int = 0


class _EpochTimer(tf_keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def _shuffled_batches(images, batch_size, first_epoch, epochs, seed):
    """Batches of `epochs` epochs; epoch e is ordered by a stateless permutation from (seed, e)."""
    pixels = tf.constant(images)
    base = tf.constant(seeds.stateless_seed(seed, "vae shuffling"))

    def epoch_batches(epoch):
        epoch_seed = tf.random.experimental.stateless_fold_in(base, tf.cast(epoch, tf.int32))
        keys = tf.random.stateless_uniform([len(images)], seed=epoch_seed, dtype=tf.float64)
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

    epochs_data = tf.data.Dataset.range(first_epoch, first_epoch + epochs)
    return epochs_data.flat_map(epoch_batches).map(lambda index: tf.gather(pixels, index)).prefetch(2)


def _optimizer(model, learning_rate, reset):
    """The model's Adam with its state (and the new step size), or a fresh Adam."""
    current = getattr(model, "optimizer", None)
    if reset or not isinstance(current, tf_keras.optimizers.Adam):
        return tf_keras.optimizers.Adam(learning_rate)
    try:
        current.learning_rate = learning_rate
    except TypeError as error:  # a LearningRateSchedule cannot be overwritten by a number
        raise ValueError("the model's Adam uses a learning-rate schedule; pass reset_optimizer=True to replace "
                         f"it ({error})") from error
    return current


class _ProgressBar(tf_keras.callbacks.Callback):
    """Moves a `cb.progress.bar` one epoch at a time, showing the loss."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs and "loss" in logs:
            self.bar.set_postfix_str(f"loss {float(logs['loss']):.2f}", refresh=False)


def train(model, images, *, epochs, batch_size=128, learning_rate=1e-3, validation_images=None,
          seed=0, reset_optimizer=False, jit_compile="auto", steps_per_execution=16, verbose=0,
          progress=None):
    """Fit a `VAE` or `AE` with Adam on flattened images, seeded and compiled (XLA where it helps).

    Each epoch visits the images in a stateless random order drawn from (`seed`, epoch
    number), and the training noise comes from the model's own stateless seeds, so the
    same seeds give the same run and no global random state is used.

    Calling `train` again continues training: the model keeps its Adam optimizer (step
    count and moment estimates; its learning rate is set to `learning_rate`), its noise
    counter and its epoch count, so two calls of one epoch each give the same model as one
    call of two epochs. `reset_optimizer=True` starts a fresh Adam instead. On 2 shared
    CPU cores the lecture's 784-128-32-2 VAE trains at about 17,000 examples per second
    (batch 64).

    Args:
        model: a `VAE` or `AE`.
        images: float array [n, input_dim] (see `prepare_images`).
        epochs: passes over the data.
        batch_size: examples per step. Default value: 128.
        learning_rate: Adam's step size, a number > 0. Default value: 1e-3.
        validation_images: held-out images evaluated each epoch, or None. Default value: None.
        seed: int seed of the shuffling. Default value: 0.
        reset_optimizer: start a fresh Adam (step count 0, no moments) even if the model
            already has one. Default value: False.
        jit_compile: compile the train step with XLA: True, False, or "auto", which
            uses XLA unless the encoder has Flipout layers (their random sign matrices
            run about 3x slower under XLA on CPU). Default value: "auto".
        steps_per_execution: optimizer steps per compiled call; batching steps cuts
            Python overhead (about 1.7x faster for the lecture's VAE on 2 cores) and
            does not change the result. Default value: 16.
        verbose: Keras verbosity. Default value: 0.
        progress: a progress bar of the epochs (loss shown): True, False, or None for "in
            a notebook, not in headless runs" (see `cb.progress.enabled`). Default value: None.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: for images of the wrong shape, non-positive `epochs`, `batch_size`,
            `steps_per_execution` or `learning_rate`, or a model whose Adam has a
            learning-rate schedule (without `reset_optimizer=True`).
        TypeError: for a seed that is not an int or a learning rate that is not a number.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.build_vae(seed=0)
    result = cb.vae.train(vae, x_train, epochs=20, seed=0)
    print(result.history["loss"][-1], result.examples_per_second)
    more = cb.vae.train(vae, x_train, epochs=5, learning_rate=3e-4, seed=0)   # continues
    ```
    """
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    steps_per_execution = positive_int("steps_per_execution", steps_per_execution)
    learning_rate = positive_scale("learning_rate", learning_rate)
    seed = seeds.check_seed(seed)
    x = check_image_batch(images, model.input_dim)
    first_epoch = int(model.epochs_trained)
    data = _shuffled_batches(x, batch_size, first_epoch, epochs, seed)
    validation = None
    if validation_images is not None:
        x_val = check_image_batch(validation_images, model.input_dim, name="validation_images")
        validation = tf.data.Dataset.from_tensor_slices(x_val).batch(1024)
    if jit_compile == "auto":
        jit_compile = not has_flipout(model.encoder)
    model.compile(optimizer=_optimizer(model, learning_rate, reset_optimizer), jit_compile=bool(jit_compile),
                  steps_per_execution=steps_per_execution)
    timer = _EpochTimer()
    start = time.perf_counter()
    with cb_progress.bar(total=epochs, desc=f"train {type(model).__name__}", unit="epoch",
                         progress=progress) as bar:
        history = model.fit(data, epochs=epochs, steps_per_epoch=math.ceil(len(x) / batch_size),
                            validation_data=validation, verbose=verbose, callbacks=[timer, _ProgressBar(bar)])
    seconds = time.perf_counter() - start
    model.epochs_trained = first_epoch + epochs
    if epochs > 1:
        rate = (epochs - 1) * len(x) / max(timer.ends[-1] - timer.ends[0], 1e-9)
    else:
        rate = len(x) / max(seconds, 1e-9)
    return TrainResult({k: [float(v) for v in values] for k, values in history.history.items()},
                       epochs, len(x), seconds, rate, seed, first_epoch, int(model.optimizer.iterations.numpy()))
