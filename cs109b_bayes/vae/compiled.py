"""The compiled epochs of `cb.vae.train`, cached: training again, or a rebuilt model, traces nothing.

Tracing a VAE's training step and XLA-compiling it takes seconds (3-5 s on 2 quiet
CPU cores, 10-15 s loaded), while an epoch of a few thousand images takes a fraction of
a second. `epoch_program` therefore keeps each compiled `EpochProgram` (one epoch's
optimizer steps in one `tf.function`, and the validation step) in a bounded LRU cache:

- under the model's identity, so a second `train` call on the same model (continuing
  training, another learning rate, a fresh Adam) reuses it;
- under the model's build (`model.architecture`, recorded by `build_vae` / `build_ae`,
  which includes the seed) for models made by the builders, so a new model of the same
  build, e.g. a notebook cell run again, reuses it too. Such a program stays bound to the
  variables of the model it was traced on (its template); `bound` copies the new model's
  weights, noise counters, metrics and Adam state into the template's variables for the
  duration of the call and copies them back afterwards, so the results are exactly those
  of a program traced on the new model.

Neither the number of images nor the size of the last, partial batch is part of a
program: both are run-time arguments, so one trace serves every data set. With XLA the
full-batch steps of an epoch are one XLA cluster (no launch per step: 1.6x the
examples per second of one cluster per step, `bench/vae_throughput.py`); XLA needs
static shapes, so a new number of images compiles that cluster once more (it traces
nothing).

#### Examples

```python
from cs109b_bayes.vae import compiled
compiled.cache_info()       # CacheInfo(hits=..., misses=..., size=..., max_entries=8)
compiled.clear_cache()      # the next `cb.vae.train` call traces and compiles again
```
"""

import contextlib
import dataclasses
import json
import threading

import tensorflow as tf

from cs109b_bayes.inference.hmc.cache import LRUCache

__all__ = ["MAX_ENTRIES", "EpochProgram", "bound", "cache_info", "clear_cache", "epoch_program"]

MAX_ENTRIES = 8

_PROGRAMS = LRUCache(MAX_ENTRIES)
_LOCK = threading.RLock()


@dataclasses.dataclass(frozen=True, eq=False)
class EpochProgram:
    """One traced epoch of training and one traced validation step, bound to a template model.

    Attributes:
        model: the template: the model whose variables the functions read and write.
        optimizer: the template's Adam at tracing time (the functions update its variables).
        batch_size: examples per full-batch step.
        jit_compile: whether the full-batch step is an XLA cluster.
        run_epoch: `tf.function(x [n, d], order [n], full_batches)` -> dict of metric tensors:
            `full_batches` steps of `batch_size` images `x[order[...]]` (with `jit_compile`,
            all of them one XLA cluster, compiled once per number of images), then one step
            on the remaining images if any (without XLA).
        validate: `tf.function(batch [m, d])`, the template's `test_step`.
        step: the traced full-batch step (the template's `train_step`); with `jit_compile`,
            the XLA-compiled loop of an epoch's full-batch steps `step(x, batches [b, batch_size])`.
    """

    model: object
    optimizer: object
    batch_size: int
    jit_compile: bool
    run_epoch: object
    validate: object
    step: object

    def tracing_count(self):
        """Traces made so far by the program's `tf.function`s (0 new ones on a cache hit).

        #### Examples

        ```python
        program.tracing_count()      # 3 after the first epoch: the epoch, the step, validation
        ```
        """
        return sum(int(f.experimental_get_tracing_count()) for f in (self.run_epoch, self.validate, self.step))


def _trace(model, batch_size, jit_compile):
    """The program of `model` (its current optimizer) at `batch_size`, traced lazily on first call."""
    dim = int(model.input_dim)

    def steps(train_step):
        def full_steps(x, batches):      # train_step on each row of batch indices [b, batch_size]
            def body(b):
                train_step(tf.gather(x, batches[b]))
                return (b + 1,)

            tf.while_loop(lambda b: b < tf.shape(batches)[0], body, (tf.constant(0),))
            return tf.constant(0)

        return full_steps

    if jit_compile:      # the whole loop of an epoch's full-batch steps is one XLA cluster: no per-step launch
        step = full_steps = tf.function(steps(model.train_step), jit_compile=True)
    else:
        step = tf.function(model.train_step)
        full_steps = steps(step)

    @tf.function(input_signature=[tf.TensorSpec([None, dim], tf.float32), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def run_epoch(x, order, full_batches):
        full_steps(x, tf.reshape(order[:full_batches * batch_size], [full_batches, batch_size]))
        rest = order[full_batches * batch_size:]

        def last_step():   # once per epoch, without XLA: no compile for each size of the remainder
            model.train_step(tf.gather(x, rest))
            return tf.constant(0)

        tf.cond(tf.size(rest) > 0, last_step, lambda: tf.constant(0))
        return {m.name: m.result() for m in model.metrics}

    validate = tf.function(model.test_step, jit_compile=jit_compile,
                           input_signature=[tf.TensorSpec([None, dim], tf.float32)])
    return EpochProgram(model, model.optimizer, batch_size, jit_compile, run_epoch, validate, step)


def _optimizer_key(optimizer):
    """The optimizer's class and every hyperparameter baked into a trace (not its learning rate)."""
    config = {k: v for k, v in optimizer.get_config().items() if k not in ("name", "learning_rate")}
    return type(optimizer).__name__, json.dumps(config, sort_keys=True, default=repr)


def _cache_key(model, batch_size, jit_compile):
    """(key, shared): the build's key if `model.architecture` records it, else the model's identity."""
    trainable = tuple((v.name, tuple(v.shape)) for v in model.trainable_variables)   # frozen layers retrace
    options = (type(model).__name__, _optimizer_key(model.optimizer), int(batch_size), bool(jit_compile), trainable)
    architecture = getattr(model, "architecture", None)
    if isinstance(architecture, dict):
        return ("build", json.dumps(architecture, sort_keys=True, default=repr)) + options, True
    return ("model", id(model)) + options, False


def epoch_program(model, *, batch_size, jit_compile):
    """The cached `EpochProgram` for `model` (compiled with its optimizer), traced if none fits.

    Looks up, in order, a program traced on this model with this optimizer, then (for a model
    built by `build_vae` / `build_ae`) one traced on any model of the same build; run it on
    `model` inside `bound(program, model)`. The model must be compiled with its optimizer
    built (`model.optimizer.build(model.trainable_variables)`), as `train` does.

    Args:
        model: a `VAE` or `AE` with a built optimizer.
        batch_size: examples per full-batch step.
        jit_compile: compile the full-batch step (and validation) with XLA.

    Returns:
        An `EpochProgram`.

    #### Examples

    ```python
    program = epoch_program(vae, batch_size=128, jit_compile=True)
    with bound(program, vae):
        metrics = program.run_epoch(pixels, order, tf.constant(len(pixels) // 128))
    ```
    """
    key, shared = _cache_key(model, batch_size, jit_compile)
    own_key = ("model", id(model)) + key[2:]
    with _LOCK:
        for candidate in ((own_key, key) if shared else (key,)):
            program = _PROGRAMS.get(candidate)   # traced on this model (maybe with an older Adam) or its build
            if program is not None:
                return program
        program = _trace(model, int(batch_size), bool(jit_compile))
        _PROGRAMS.put(key, program)
        if shared:
            _PROGRAMS.put(own_key, program)
        return program


def _state(model, optimizer):
    return list(model.variables) + list(optimizer.variables)


@contextlib.contextmanager
def bound(program, model):
    """Runs `program` on `model`'s state: its variables copied into the template's and back after.

    Nothing is copied when `model` is the template with the optimizer the program was traced
    with. Otherwise every template variable that differs from the model's (weights, noise
    counters, metric totals, Adam's step and moments, and the learning rate) takes the model's
    value on entry; on exit the model takes the template's new values and the template gets
    its own back.

    Args:
        program: an `EpochProgram`.
        model: a model of the same build as `program.model`, its optimizer built.

    Yields:
        The template model (read its metrics, reset them) while `model`'s state is loaded.

    Raises:
        ValueError: if the two models' variables do not match in number, shapes and dtypes.

    #### Examples

    ```python
    with bound(program, vae) as runner:
        runner.reset_metrics()
        program.run_epoch(pixels, order, full_batches)
    ```
    """
    template = program.model
    if template is model and program.optimizer is model.optimizer:
        yield template
        return
    mine, theirs = _state(template, program.optimizer), _state(model, model.optimizer)
    if len(mine) != len(theirs) or any(t.shape != m.shape or t.dtype != m.dtype for t, m in zip(mine, theirs)):
        raise ValueError("the model's variables do not match the compiled program's template "
                         "(not the same architecture or optimizer)")
    pairs = [(t, m) for t, m in zip(mine, theirs) if t is not m]
    with _LOCK:
        saved = [t.numpy() for t, _ in pairs]
        saved_rate = float(program.optimizer.learning_rate)
        for t, m in pairs:
            t.assign(m)
        program.optimizer.learning_rate = float(model.optimizer.learning_rate)
        try:
            yield template
        finally:
            for t, m in pairs:
                m.assign(t)
            for (t, _), value in zip(pairs, saved):
                t.assign(value)
            program.optimizer.learning_rate = saved_rate


def clear_cache():
    """Forgets every compiled program (the next `train` call traces and compiles again).

    Returns:
        None.

    #### Examples

    ```python
    cs109b_bayes.vae.compiled.clear_cache()
    ```
    """
    _PROGRAMS.clear()


def cache_info():
    """Hits, misses, size and bound of the compiled-program cache (a model may fill two slots).

    Returns:
        A `CacheInfo(hits, misses, size, max_entries)` (see `cs109b_bayes.inference.hmc.cache`).

    #### Examples

    ```python
    cs109b_bayes.vae.compiled.cache_info().size
    ```
    """
    return _PROGRAMS.info()
