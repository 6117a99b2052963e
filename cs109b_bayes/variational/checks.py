"""Argument checks shared by the variational modules."""

import numpy as np

from cs109b_bayes.checks import check_count

__all__ = ["check_count", "check_params", "per_param", "positive"]


def positive(name, value):
    """`value` as a float array if every element is positive and finite.

    Args:
        name: the argument's name, for the message.
        value: a number or array.

    Returns:
        A float numpy array.

    Raises:
        ValueError: an element is not positive and finite.

    #### Examples

    ```python
    positive("q_sd", [0.5, 1.0])     # array([0.5, 1. ])
    ```
    """
    value = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(value)) or np.any(value <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def check_params(name, values):
    """A non-empty dict name -> finite float32 array, from a dict of numbers or arrays.

    Args:
        name: the argument's name, for the message.
        values: dict name -> number or array.

    Returns:
        dict name -> float32 numpy array.

    Raises:
        ValueError: `values` is not a non-empty dict, or has a non-finite value.

    #### Examples

    ```python
    check_params("init", {"beta": [0.0, 0.0]})
    ```
    """
    if not isinstance(values, dict) or not values:
        raise ValueError(f"{name} must be a non-empty dict name -> array")
    out = {}
    for key, value in values.items():
        array = np.asarray(value, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")
        out[key] = array
    return out


def per_param(name, value, names):
    """A per-parameter dict from one value for all `names`, or from a dict with exactly those names.

    Args:
        name: the argument's name, for the message.
        value: a number / array, or a dict name -> number / array.
        names: the parameter names.

    Returns:
        dict name -> float32 numpy array.

    Raises:
        ValueError: a dict `value` names other parameters.

    #### Examples

    ```python
    per_param("prior_sd", 10.0, ["beta0", "beta1"])     # {"beta0": 10.0, "beta1": 10.0}
    ```
    """
    if isinstance(value, dict):
        if set(value) != set(names):
            raise ValueError(f"{name} names {sorted(value)} must match the parameter names {sorted(names)}")
        return {n: np.asarray(value[n], dtype=np.float32) for n in names}
    return {n: np.asarray(value, dtype=np.float32) for n in names}
