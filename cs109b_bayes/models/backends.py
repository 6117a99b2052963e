"""The array backends of the model log-densities (numpy, TensorFlow, JAX) and shared checks.

A log-density of `cs109b_bayes.models` is written once against a small namespace of
array operations (`sin`, `square`, `log`, `sum`); `backend_ops(name)` returns that
namespace for numpy, TensorFlow or JAX. TensorFlow and JAX load only when asked for.
"""

import inspect

import numpy as np

__all__ = ["LOG_SQRT_2PI", "backend_ops", "check_data", "check_scale", "normal_log_pdf", "with_signature"]

LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
"""log(sqrt(2 pi)), the normalising constant of a standard normal log-density."""


def backend_ops(backend):
    """(array namespace, to_constant) for a backend name.

    Args:
        backend: `"numpy"`, `"tensorflow"` or `"jax"`.

    Returns:
        A pair: a namespace with `sin`, `square`, `log`, `sum(value, axis)`, and
        `to_constant(value, like)` turning a numpy array into the backend's array of
        `like`'s dtype.

    Raises:
        ValueError: for an unknown backend.
        ImportError: `"jax"` without JAX installed.

    #### Examples

    ```python
    ops, constant = backend_ops("numpy")
    ops.sum(ops.sin(constant([0.0, 1.0], None)), -1)
    ```
    """
    if backend == "numpy":
        return np, lambda value, like: np.asarray(value, dtype=float)
    if backend == "tensorflow":
        import tensorflow as tf

        class _TF:
            sin = staticmethod(tf.sin)
            square = staticmethod(tf.square)
            log = staticmethod(tf.math.log)

            @staticmethod
            def sum(value, axis):
                return tf.reduce_sum(value, axis=axis)

        return _TF, lambda value, like: tf.cast(tf.constant(np.asarray(value, dtype=float)), like.dtype)
    if backend == "jax":
        try:
            import jax.numpy as jnp
        except ImportError as err:
            raise ImportError("backend='jax' needs JAX: pip install jax") from err
        return jnp, lambda value, like: jnp.asarray(value, dtype=like.dtype)
    raise ValueError(f"backend must be 'numpy', 'tensorflow' or 'jax', got {backend!r}")


def check_data(x, y):
    """`x`, `y` as float arrays if both are finite, 1-D and of the same length.

    Args:
        x, y: the data.

    Returns:
        The pair of float arrays.

    Raises:
        ValueError: for other shapes or NaN / inf values.

    #### Examples

    ```python
    x, y = check_data([0.0, 1.0], [1.0, 2.0])
    ```
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite (no NaN or inf)")
    return x, y


def check_scale(name, value):
    """`value` as a float if it is a positive finite number.

    Args:
        name: the argument's name, for the message.
        value: the number.

    Returns:
        A float.

    Raises:
        ValueError: otherwise.

    #### Examples

    ```python
    check_scale("noise_sd", 0.1)     # 0.1
    ```
    """
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def with_signature(fn, names):
    """Give a `**params` function the signature `fn(name1, name2, ...)` (samplers read it).

    Args:
        fn: the function.
        names: the parameter names, in order.

    Returns:
        `fn`, with `__signature__` set.

    #### Examples

    ```python
    log_prob_fn = with_signature(log_prob_fn, ["w21", "w22", "b1"])
    ```
    """
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return fn


def normal_log_pdf(ops, value, loc, scale):
    """Elementwise log N(value; loc, scale^2) with a backend's ops (`scale` a float).

    Args:
        ops: the namespace from `backend_ops`.
        value, loc: backend arrays (broadcastable).
        scale: a positive float.

    Returns:
        The log-densities, a backend array.

    #### Examples

    ```python
    normal_log_pdf(np, np.zeros(3), 0.0, 1.0)     # three times -0.9189...
    ```
    """
    return -0.5 * ops.square((value - loc) / scale) - (np.log(scale) + LOG_SQRT_2PI)

