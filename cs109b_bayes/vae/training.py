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
import time

import tensorflow as tf
import tf_keras

from cs109b_bayes import progress as cb_progress
from cs109b_bayes import seeds
from cs109b_bayes.vae import compiled
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
        seconds: wall time of the training loop, the first epoch's compilation included.
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


_FLIPOUT_XLA_EXAMPLES = 100_000  # "auto" compiles a Flipout encoder with XLA from this many examples
_XLA_STEPS = 2_000  # "auto" compiles a dense encoder's step with XLA from this many optimizer steps


def _epoch_order(num_examples, base, epoch):
    """Epoch `epoch`'s stateless permutation of the images (outside XLA, whose random bits differ)."""
    keys = tf.random.stateless_uniform([num_examples], seed=tf.random.experimental.stateless_fold_in(
        base, tf.constant(epoch, tf.int32)), dtype=tf.float64)
    return tf.argsort(keys)


def _validation_metrics(model, validate, batches):
    """Keras' validation pass: metrics reset (validation noise back to batch 0), every batch once."""
    model.reset_metrics()
    for batch in batches:
        validate(batch)
    return {f"val_{m.name}": float(m.result()) for m in model.metrics}


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
    call of two epochs (with the same `jit_compile`). `reset_optimizer=True` starts a fresh Adam instead.

    Each epoch is one compiled call: every optimizer step runs inside one `tf.function`
    over a `tf.while_loop` (in long runs the whole loop of full-batch steps is one XLA
    cluster), on images that stay on the device, so no per-step host work remains. The
    compiled epoch is cached (see `cs109b_bayes.vae.compiled`): another call on the same
    model, or on a new model of the same `build_vae` / `build_ae` build (same options and
    seed), traces and compiles nothing; on another number of images it traces nothing
    (with XLA it compiles once for the new shape). `bench/vae_throughput.py` compares the
    rate with a plain `Model.fit` and with the machine's matmul throughput at the same
    shapes.

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
        jit_compile: compile each epoch's full-batch steps with XLA: True, False, or
            "auto", which uses XLA for a call of at least 2,000 optimizer steps (at least
            100,000 examples for an encoder with Flipout layers) and not for a shorter one.
            XLA adds 1-2 s of compilation on 2 quiet CPU cores (10-30 s for a Flipout
            encoder) and then trains the lecture's VAE about 1.6x faster per example (a
            Flipout encoder 1.7x), so it pays off only for longer runs
            (`bench/vae_throughput.py`). The choice is made per call from its arguments:
            calls of different lengths may differ in it, and XLA draws other random bits, so
            pass True or False to make several short calls give exactly the numbers of one
            long one. Default value: "auto".
        steps_per_execution: kept for compatibility and checked, otherwise unused: every
            epoch is one compiled call (all its steps in one `tf.while_loop`), so there is
            no per-step host work left to batch. Default value: 16.
        verbose: print one line of metrics per epoch if > 0. Default value: 0.
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
    validation = []
    if validation_images is not None:
        x_val = check_image_batch(validation_images, model.input_dim, name="validation_images")
        validation = [tf.constant(x_val[i:i + 1024]) for i in range(0, len(x_val), 1024)]
    if jit_compile == "auto":
        if has_flipout(model.encoder):
            jit_compile = epochs * len(x) >= _FLIPOUT_XLA_EXAMPLES
        else:
            jit_compile = epochs * -(-len(x) // batch_size) >= _XLA_STEPS
    model.compile(optimizer=_optimizer(model, learning_rate, reset_optimizer), jit_compile=bool(jit_compile))
    model.optimizer.build(model.trainable_variables)   # its slots exist before the compiled loop runs
    program = compiled.epoch_program(model, batch_size=batch_size, jit_compile=bool(jit_compile))
    pixels = tf.constant(x, tf.float32)
    full_batches = tf.constant(len(x) // batch_size, tf.int32)
    base = tf.constant(seeds.stateless_seed(seed, "vae shuffling"))
    history, ends = {}, []
    start = time.perf_counter()
    with cb_progress.bar(total=epochs, desc=f"train {type(model).__name__}", unit="epoch",
                         progress=progress) as bar, compiled.bound(program, model) as runner:
        for epoch in range(first_epoch, first_epoch + epochs):
            runner.reset_metrics()
            logs = {k: float(v) for k, v in program.run_epoch(pixels, _epoch_order(len(x), base, epoch),
                                                              full_batches).items()}
            if validation:
                logs.update(_validation_metrics(runner, program.validate, validation))
            for name, value in logs.items():
                history.setdefault(name, []).append(value)
            ends.append(time.perf_counter())
            bar.update(1)
            bar.set_postfix_str(f"loss {logs['loss']:.2f}", refresh=False)
            if verbose:
                print(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in logs.items()), flush=True)
    seconds = time.perf_counter() - start
    model.epochs_trained = first_epoch + epochs
    if epochs > 1:
        rate = (epochs - 1) * len(x) / max(ends[-1] - ends[0], 1e-9)
    else:
        rate = len(x) / max(seconds, 1e-9)
    return TrainResult(history, epochs, len(x), seconds, rate, seed, first_epoch,
                       int(model.optimizer.iterations.numpy()))
