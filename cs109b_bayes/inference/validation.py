"""Argument checks shared by the samplers: one clear error naming the argument.

Every check runs before a sampler calls the log-density, so a bad option never
costs a model evaluation (or a compilation).

#### Examples

```python
from cs109b_bayes.inference import validation
validation.check_count("num_results", 1000, minimum=4)
validation.check_choice("kernel", "nuts", ("nuts", "hmc"))
```
"""

import inspect
import numbers

import numpy as np

from cs109b_bayes.checks import check_count

__all__ = [
    "check_choice",
    "check_count",
    "check_flag",
    "check_log_prob",
    "check_non_negative",
    "check_positive",
    "check_signature",
]


def check_positive(name, value):
    """Raises unless `value` (a number, an array or a dict of them) is finite and > 0 everywhere.

    Args:
        name: the argument's name, for the message.
        value: a number, an array, or a dict name -> number or array.

    Returns:
        None.

    Raises:
        ValueError: a value is missing, not finite, or not positive.

    #### Examples

    ```python
    check_positive("step_size", 0.1)
    check_positive("proposal_scale", {"beta0": 0.1, "beta1": [0.2, 0.3]})
    ```
    """
    values = list(value.values()) if isinstance(value, dict) else [value]
    try:
        arrays = [np.asarray(v, dtype=float).reshape(-1) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be positive, got {value!r}") from None
    flat = np.concatenate(arrays) if arrays else np.empty(0)
    if flat.size == 0 or not np.all(np.isfinite(flat)) or np.any(flat <= 0):
        raise ValueError(f"{name} must be positive, got {value!r}")


def check_non_negative(name, value):
    """Raises unless `value` is a finite real number >= 0.

    Args:
        name: the argument's name, for the message.
        value: the value to check.

    Returns:
        `value` as a float.

    Raises:
        ValueError: `value` is not a finite number >= 0.

    #### Examples

    ```python
    check_non_negative("init_jitter", 0.1)   # 0.1
    ```
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < np.inf:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def check_choice(name, value, choices):
    """Raises unless `value` is one of `choices`.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        choices: the allowed values (strings).

    Returns:
        `value`.

    Raises:
        ValueError: `value` is not one of `choices`.

    #### Examples

    ```python
    check_choice("mass_matrix", "dense", ("dense", "diagonal", "unit"))
    ```
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_flag(name, value):
    """Raises unless `value` is a bool.

    Args:
        name: the argument's name, for the message.
        value: the value to check.

    Returns:
        `value`.

    Raises:
        TypeError: `value` is not `True` or `False`.

    #### Examples

    ```python
    check_flag("jit_compile", True)
    ```
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_signature(log_prob_fn, names):
    """Raises unless `log_prob_fn(**{name: value for name in names})` is a valid call.

    Functions taking `**kwargs`, and callables whose signature cannot be read, pass.

    Args:
        log_prob_fn: the log-density.
        names: the parameter names of `init`.

    Returns:
        None.

    Raises:
        ValueError: `log_prob_fn` is not callable, or `names` are not its parameters.

    #### Examples

    ```python
    check_signature(lambda beta0, beta1: 0.0, ["beta0", "beta1"])
    ```
    """
    if not callable(log_prob_fn):
        raise ValueError(f"log_prob_fn must be callable, got {type(log_prob_fn).__name__}")
    try:
        params = inspect.signature(log_prob_fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {n for n in accepted if params[n].default is inspect.Parameter.empty}
    unknown, missing = set(names) - accepted, required - set(names)
    if unknown or missing:
        raise ValueError(
            f"init names {sorted(names)} do not match the parameters of log_prob_fn {sorted(accepted)}"
            + (f"; not parameters: {sorted(unknown)}" if unknown else "")
            + (f"; missing from init: {sorted(missing)}" if missing else "")
        )


def check_log_prob(value, num_chains, where):
    """Raises unless `value` is one finite log-density per chain.

    Args:
        value: what `log_prob_fn` returned (numpy array or tensor).
        num_chains: the number of chains.
        where: where it was evaluated, for the message (e.g. `"at the initial state"`).

    Returns:
        `value` as a float64 array of shape [num_chains].

    Raises:
        ValueError: the shape is not [num_chains] or a value is not finite.

    #### Examples

    ```python
    check_log_prob(np.zeros(4), 4, "at the initial state")
    ```
    """
    value = np.asarray(value, dtype=float)
    if value.shape != (num_chains,):
        raise ValueError(
            f"log_prob_fn must return one log-density per chain, shape ({num_chains},), "
            f"but returned shape {value.shape} {where}; sum over data points, keep the chain axis"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"log_prob_fn is not finite {where}: {value}; start from a point of positive density")
    return value
