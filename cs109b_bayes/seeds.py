"""One seed scheme for the whole package: an int seed and a purpose name give a sub-seed.

Every stochastic function in `cs109b_bayes` takes an explicit int `seed` and derives what
it needs from it here, by *purpose*: `sub_seed(seed, "predict")` and `sub_seed(seed, "fit")`
are independent streams, and the same `(seed, purpose)` always gives the same numbers,
whatever ran before. Nothing here (or anywhere in the package) reads or writes global random
state: not `random`, not `np.random`'s global generator, not TensorFlow's global seed.

The derivation is `numpy.random.SeedSequence([seed mod 2**64, crc32(purpose)])`, the same
entropy mixing NumPy uses for its own generators, so sub-seeds of nearby ints are unrelated.

#### Examples

```python
import cs109b_bayes as cb
rng = cb.seeds.numpy_rng(0, "bootstrap")            # a numpy Generator
pair = cb.seeds.stateless_seed(0, "hmc")            # int32 [2] for tf.random.stateless_*
cb.seeds.sub_seed(0, "init") != cb.seeds.sub_seed(0, "noise")   # True
```
"""

import numbers
import zlib

import numpy as np

__all__ = ["check_seed", "numpy_rng", "stateless_seed", "sub_seed", "sub_seeds"]


def check_seed(seed, *, name="seed"):
    """Returns `seed` as a Python int, or raises a clear error.

    Args:
        seed: an int (Python or NumPy integer); bools and floats are refused, since a float
            seed is usually a mistake (`seed=0.5`).
        name: the argument's name for the error message.
            Default value: `"seed"`.

    Returns:
        The seed as an int.

    Raises:
        TypeError: `seed` is not an integer.

    #### Examples

    ```python
    cb.seeds.check_seed(np.int64(3))   # 3
    cb.seeds.check_seed(0.5)           # TypeError: seed must be an int, got float 0.5
    ```
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(seed).__name__} {seed!r}")
    return int(seed)


def _sequence(seed, purpose):
    seed = check_seed(seed)
    if not isinstance(purpose, str) or not purpose:
        raise ValueError(f"purpose must be a non-empty string, got {purpose!r}")
    return np.random.SeedSequence([seed % 2**64, zlib.crc32(purpose.encode())])


def sub_seed(seed, purpose):
    """A 63-bit int seed for one purpose, derived from `seed`.

    Args:
        seed: the caller's int seed.
        purpose: a short name of what the numbers are for (`"init"`, `"predict"`, ...).

    Returns:
        A non-negative int below 2**63.

    Raises:
        TypeError: `seed` is not an int.
        ValueError: `purpose` is empty or not a string.

    #### Examples

    ```python
    cb.seeds.sub_seed(0, "init")    # the same int on every call
    ```
    """
    state = _sequence(seed, purpose).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) % 2**63


def sub_seeds(seed, purpose, count):
    """`count` independent int seeds (each below 2**31) for one purpose.

    Useful where a library wants a plain int per object, e.g. one Keras initializer seed
    per layer.

    Args:
        seed: the caller's int seed.
        purpose: what the seeds are for.
        count: how many.

    Returns:
        A list of `count` ints in [0, 2**31).

    Raises:
        TypeError: `seed` is not an int.
        ValueError: `purpose` is invalid or `count` is negative.

    #### Examples

    ```python
    init_seeds = cb.seeds.sub_seeds(0, "initializers", 4)
    ```
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    state = _sequence(seed, purpose).generate_state(max(int(count), 1), dtype=np.uint32)
    return [int(s) // 2 for s in state[:count]]


def stateless_seed(seed, purpose):
    """A shape-[2] int32 array for TensorFlow's `tf.random.stateless_*` ops.

    Args:
        seed: the caller's int seed.
        purpose: what the numbers are for.

    Returns:
        `np.ndarray` of dtype int32 and shape [2].

    Raises:
        TypeError: `seed` is not an int.
        ValueError: `purpose` is invalid.

    #### Examples

    ```python
    import tensorflow as tf
    z = tf.random.stateless_normal([3], seed=cb.seeds.stateless_seed(0, "noise"))
    ```
    """
    return _sequence(seed, purpose).generate_state(2, dtype=np.uint32).view(np.int32)


def numpy_rng(seed, purpose):
    """A fresh `numpy.random.Generator` (PCG64) for one purpose.

    Args:
        seed: the caller's int seed.
        purpose: what the numbers are for.

    Returns:
        A `numpy.random.Generator` independent of every other purpose's.

    Raises:
        TypeError: `seed` is not an int.
        ValueError: `purpose` is invalid.

    #### Examples

    ```python
    rng = cb.seeds.numpy_rng(0, "bootstrap")
    idx = rng.integers(0, 100, size=100)
    ```
    """
    return np.random.Generator(np.random.PCG64(_sequence(seed, purpose)))
