"""Argument checks shared by the bnn modules: counts and the arrays a regressor takes."""

import numpy as np

from cs109b_bayes.checks import check_count

__all__ = ["as_inputs", "as_targets", "check_count"]


def as_inputs(x, model, name="x"):
    """`x` as a float32 array [n, input_dim] for `model` (a 1-D `x` is one feature).

    Args:
        x: inputs, shape [n] (one feature) or [n, input_dim].
        model: the tf_keras model that will take them.
        name: the argument's name, for the message. Default value: `"x"`.

    Returns:
        A float32 array [n, input_dim].

    Raises:
        ValueError: for another shape, no rows, or NaN / inf values.

    #### Examples

    ```python
    as_inputs(np.linspace(-1, 1, 5), model).shape     # (5, 1)
    ```
    """
    x = np.asarray(x, dtype=np.float32)
    input_dim = int(model.input_shape[-1])
    if x.ndim == 1 and input_dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != input_dim or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape [n] or [n, {input_dim}] with n >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has NaN or inf values")
    return x


def as_targets(y, num_inputs):
    """`y` as a float32 array [n, 1], one finite target per input.

    Args:
        y: targets, shape [n] or [n, 1].
        num_inputs: n, the number of inputs.

    Returns:
        A float32 array [n, 1].

    Raises:
        ValueError: for a different count or NaN / inf values.

    #### Examples

    ```python
    as_targets([0.1, 0.2], 2).shape     # (2, 1)
    ```
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if len(y) != num_inputs or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite with one target per input: {len(y)} targets for {num_inputs} inputs")
    return y
