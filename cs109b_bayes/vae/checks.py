"""Argument checks shared by the VAE modules: positive sizes, positive scales, flattened image batches.

Each check returns the cleaned value (a Python int, a tuple of ints, a float) or raises a
ValueError / TypeError whose message names the argument, so every public function of
`cs109b_bayes.vae` reports bad input the same way.

#### Examples

```python
from cs109b_bayes.vae import checks
checks.positive_int("epochs", 5)                  # 5
checks.positive_scale("decoder_scale", np.float32(0.1))   # 0.1 (a float)
```
"""

import math
import numbers

import numpy as np

__all__ = ["check_image_batch", "positive_int", "positive_scale", "positive_units"]


def positive_int(name, value):
    """Returns `value` as a positive Python int, or raises.

    Args:
        name: the argument's name, for the message.
        value: an int or NumPy integer > 0 (bools are refused).

    Returns:
        `int(value)`.

    Raises:
        ValueError: `value` is not a positive integer.

    #### Examples

    ```python
    positive_int("latent_dim", np.int64(2))   # 2
    positive_int("latent_dim", 2.5)           # ValueError: latent_dim must be a positive integer
    ```
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_units(name, units):
    """Returns layer sizes as a tuple of positive ints, or raises.

    Args:
        name: the argument's name, for the message.
        units: an iterable of positive integers (may be empty: no hidden layer).

    Returns:
        A tuple of ints.

    Raises:
        ValueError: an entry is not a positive integer.

    #### Examples

    ```python
    positive_units("hidden_units", [128, 32])   # (128, 32)
    ```
    """
    return tuple(positive_int(f"each entry of {name}", u) for u in units)


def positive_scale(name, value):
    """Returns a real scalar > 0 as a Python float, or raises.

    Python and NumPy numbers are accepted (`0.1`, `np.float32(0.1)`, `np.float64(2)`, `3`,
    a 0-d array); bools and strings are not numbers here.

    Args:
        name: the argument's name, for the message.
        value: the number.

    Returns:
        `float(value)`.

    Raises:
        TypeError: `value` is a bool, a string or not a real scalar.
        ValueError: `value` is not finite or not > 0.

    #### Examples

    ```python
    positive_scale("decoder_scale", np.float32(0.1))   # 0.10000000149011612
    positive_scale("decoder_scale", -1.0)              # ValueError
    positive_scale("decoder_scale", True)              # TypeError
    ```
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number > 0, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_image_batch(images, input_dim, *, name="images"):
    """Returns `images` as a float32 array [n, input_dim], or raises.

    Args:
        images: array-like of flattened images.
        input_dim: pixels per image.
        name: the argument's name, for the message. Default value: "images".

    Returns:
        A float32 numpy array [n, input_dim].

    Raises:
        ValueError: the batch is not two-dimensional with `input_dim` columns.

    #### Examples

    ```python
    x = check_image_batch(x_test, 784)            # [n, 784] float32
    check_image_batch(x_test.reshape(-1, 28, 28), 784)   # ValueError: use prepare_images
    ```
    """
    array = np.asarray(images, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != input_dim:
        raise ValueError(f"{name} must be flattened [n, {input_dim}] (use cb.vae.prepare_images), "
                         f"got shape {array.shape}")
    return array
