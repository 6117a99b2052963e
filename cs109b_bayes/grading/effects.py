"""What an answer's call does besides returning: state changes and gradients, recorded and replayed.

A question hands some objects to an answer *to be changed*: a NumPy generator it draws from
(`resample(x, y, rng)`), Keras models and an optimizer (`train_step` updates the weights),
or one of the question's own helper objects (lab 12's stand-in encoder counts its calls).
The probe records their state after each call and replay puts the same state on the
grader's objects (`state_targets`, `capture_state`, `apply_state`). Nothing else an answer
touches is carried over: the grader's input arrays, tensors and containers stay as the
question made them, so an answer cannot move the reference by writing into its inputs.

Questions that differentiate an answer's output (`tape.gradient(value, inputs)`) get the same
gradients on replay: the probe records the gradient of the output's sum with respect to every
floating-point tensor input (`recorded_gradients`), and replay returns the recorded value
plus a term that is exactly zero but carries those gradients (`with_gradients`). That is
exact for gradients of the output's sum, which is what every question takes.
"""

import json

import numpy as np

from cs109b_bayes.grading.serialize import MalformedRecording, decode, encode, tensorflow_kind

__all__ = ["apply_state", "capture_state", "gradient_sources", "leaves", "recorded_gradients",
           "state_targets", "with_gradients"]

_PLAIN = (bool, int, float, str, type(None), np.ndarray, np.generic)


def leaves(args, kwargs):
    """Every value in the arguments, depth first (keyword arguments by name), as a list.

    Args:
        args: the positional arguments of a call.
        kwargs: its keyword arguments.

    Returns:
        A list of the values, containers (tuple, list, dict) expanded.

    #### Examples

    ```python
    from cs109b_bayes.grading.effects import leaves
    leaves((1, [2, 3]), {"b": 5, "a": 4})   # [1, 2, 3, 4, 5]
    ```
    """
    found = []

    def walk(value, depth):
        if isinstance(value, (tuple, list)) and depth < 8:
            for item in value:
                walk(item, depth + 1)
        elif isinstance(value, dict) and depth < 8:
            for item in value.values():
                walk(item, depth + 1)
        else:
            found.append(value)

    walk(tuple(args), 0)
    walk([kwargs[key] for key in sorted(kwargs)], 0)
    return found


def _stateful(value):
    if isinstance(value, np.random.Generator):
        return True
    if tensorflow_kind(value) in ("keras", "optimizer"):
        return True
    module = type(value).__module__
    return module.startswith("cs109b_bayes.questions.") and hasattr(value, "__dict__")


def state_targets(args, kwargs):
    """The arguments whose state a call may change and replay carries over, as (index, object).

    Args:
        args: the positional arguments of a call.
        kwargs: its keyword arguments.

    Returns:
        A list of `(position in leaves(args, kwargs), object)` for NumPy generators, Keras
        models and layers, Keras optimizers, and the question modules' own objects.

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.grading.effects import state_targets
    state_targets((np.zeros(2), np.random.default_rng(0)), {})   # [(1, Generator(PCG64) ...)]
    ```
    """
    return [(index, value) for index, value in enumerate(leaves(args, kwargs)) if _stateful(value)]


def capture_state(value):
    """The form of an object's state after a call (see `state_targets`).

    Args:
        value: a NumPy generator, Keras model or optimizer, or a question's own object.

    Returns:
        A form (`cs109b_bayes.grading.serialize`).

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.grading.effects import capture_state
    capture_state(np.random.default_rng(0))["$"]   # 'rng'
    ```
    """
    return encode(value)


def apply_state(value, form):
    """Give the grader's object the state recorded after the submission's call.

    Args:
        value: the grader's object (same kind as recorded).
        form: its recorded state, from `capture_state` inside the sandbox.

    Raises:
        MalformedRecording: if the state does not fit the object (another kind, other shapes).

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.grading.effects import apply_state, capture_state
    mine, theirs = np.random.default_rng(0), np.random.default_rng(0)
    theirs.normal()
    apply_state(mine, capture_state(theirs))   # mine now continues where theirs is
    ```
    """
    tag = form.get("$") if isinstance(form, dict) else None
    try:
        if tag == "rng" and isinstance(value, np.random.Generator):
            value.bit_generator.state = json.loads(form["state"])
        elif tag == "keras" and tensorflow_kind(value) == "keras":
            value.set_weights([decode(w, on_callable=_no_callable) for w in form["weights"]])
        elif tag == "optimizer" and tensorflow_kind(value) == "optimizer":
            recorded = [decode(v, on_callable=_no_callable) for v in form["variables"]]
            for variable, state in zip(value.variables, recorded):
                variable.assign(np.asarray(state).reshape(variable.shape))
        elif tag == "object" and type(value).__qualname__ == form["type"]:
            state = decode(form["state"], on_callable=_no_callable)
            for name, item in (state.items() if isinstance(state, dict) else ()):
                if isinstance(name, str) and hasattr(value, name) and isinstance(item, _PLAIN):
                    setattr(value, name, item)
        else:
            raise MalformedRecording(f"recorded a {tag} state for a {type(value).__name__}")
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise MalformedRecording(f"cannot apply the recorded state of a {type(value).__name__}: "
                                 f"{type(err).__name__}: {err}") from None


def _no_callable(path):
    raise MalformedRecording(f"a state cannot hold a function ({path})")


def gradient_sources(args, kwargs):
    """The floating-point tensors and `tf.Variable`s among the arguments, in `leaves` order.

    Args:
        args: the positional arguments of a call.
        kwargs: its keyword arguments.

    Returns:
        A list of tensors (empty when TensorFlow was never imported).

    #### Examples

    ```python
    import tensorflow as tf
    from cs109b_bayes.grading.effects import gradient_sources
    gradient_sources((tf.constant([1.0]), tf.constant([1])), {})   # the float tensor only
    ```
    """
    return [value for value in leaves(args, kwargs) if tensorflow_kind(value) in ("tensor", "variable")
            and value.dtype.is_floating]


def recorded_gradients(call, sources):
    """Run `call()` watching `sources`; return its output and the gradients of the output's sum.

    Args:
        call: a function of no arguments (the submission's answer with its arguments).
        sources: from `gradient_sources`.

    Returns:
        `(output, gradients)`: gradients is None when the output is not one floating-point
        tensor, else a list with an ndarray or None (no gradient) per source.

    #### Examples

    ```python
    import tensorflow as tf
    from cs109b_bayes.grading.effects import recorded_gradients
    x = tf.constant([1.0, 2.0])
    recorded_gradients(lambda: x * x, [x])[1]   # [array([2., 4.], dtype=float32)]
    ```
    """
    if not sources:
        return call(), None
    import tensorflow as tf

    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(sources)
        output = call()
    if tensorflow_kind(output) not in ("tensor", "variable") or not output.dtype.is_floating:
        return output, None
    try:
        grads = tape.gradient(output, sources)
    except Exception:  # noqa: BLE001  (an output TensorFlow cannot differentiate: no gradient)
        return output, [None] * len(sources)
    return output, [None if g is None else np.asarray(tf.convert_to_tensor(g)) for g in grads]


def with_gradients(value, sources, gradients):
    """`value` (a tensor) plus an exact zero whose gradient with respect to each source is recorded.

    Args:
        value: the recorded output as a TensorFlow tensor.
        sources: the grader's floating-point tensor arguments, in `leaves` order.
        gradients: the recorded gradient (ndarray) or None of each source.

    Returns:
        A tensor equal to `value`; `tape.gradient(sum(result), source)` is the recorded gradient.

    Raises:
        MalformedRecording: if the gradients do not match the sources in number or shape.

    #### Examples

    ```python
    import numpy as np, tensorflow as tf
    from cs109b_bayes.grading.effects import with_gradients
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = with_gradients(tf.constant([1.0, 4.0]), [x], [np.array([2.0, 4.0], np.float32)])
    tape.gradient(y, x)   # [2., 4.]
    ```
    """
    import tensorflow as tf

    if len(gradients) != len(sources):
        raise MalformedRecording(f"{len(gradients)} gradients recorded for {len(sources)} tensor inputs")
    terms = []
    for source, grad in zip(sources, gradients):
        if grad is None:
            continue
        if tuple(grad.shape) != tuple(source.shape):
            raise MalformedRecording(f"a gradient of shape {grad.shape} for an input of shape {source.shape}")
        delta = tf.convert_to_tensor(source) - tf.stop_gradient(source)
        terms.append(tf.cast(tf.reduce_sum(tf.constant(grad, source.dtype) * delta), value.dtype))
    size = int(np.prod(value.shape))
    if not terms or size == 0:
        return value
    bump = tf.pad(tf.reshape(tf.add_n(terms), [1]), [[0, size - 1]])
    return value + tf.reshape(bump, tf.shape(value))
