"""Where chains start: `init` checked, then broadcast to every chain with seeded jitter.

Both MCMC samplers take parameters by name: `init` maps each name to its initial
value (no chain axis); chain c starts at `init + init_jitter * N(0, I)`.

#### Examples

```python
import cs109b_bayes as cb
from cs109b_bayes.inference import start
values = start.check_init({"beta0": 0.0, "beta1": [1.0, 2.0]})
chains = start.jittered_start(values, 4, 0.1, cb.seeds.numpy_rng(0, "init"))
chains["beta1"].shape    # (4, 2)
```
"""

import numpy as np

__all__ = ["check_init", "jittered_start"]


def check_init(init):
    """Returns `init` as a dict name -> float64 array, or raises a clear error.

    Args:
        init: dict name -> initial value (a number or an array, no chain axis).

    Returns:
        A dict name -> `np.ndarray` (float64), in the order of `init`.

    Raises:
        ValueError: `init` is not a non-empty dict, or a value is not finite.

    #### Examples

    ```python
    check_init({"mu": 0.0})    # {'mu': array(0.)}
    ```
    """
    if not isinstance(init, dict) or not init:
        raise ValueError(f"init must be a non-empty dict name -> initial value, got {type(init).__name__}")
    values = {}
    for name, value in init.items():
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"init[{name!r}] must be a number or an array of numbers, got {value!r}") from None
        if not np.all(np.isfinite(array)):
            raise ValueError(f"init[{name!r}] must be finite, got {value!r}")
        values[name] = array
    return values


def jittered_start(values, num_chains, init_jitter, rng):
    """Per-chain starting points: each value broadcast to [num_chains, ...] plus Gaussian jitter.

    Args:
        values: dict name -> array, as returned by `check_init`.
        num_chains: number of chains.
        init_jitter: sd of the jitter; 0 starts every chain exactly at `values`.
        rng: a `numpy.random.Generator`; its draws are taken name by name, in order.

    Returns:
        A dict name -> float64 array [num_chains, ...].

    #### Examples

    ```python
    jittered_start({"mu": np.zeros(())}, 2, 0.1, np.random.default_rng(0))
    ```
    """
    starts = {}
    for name, value in values.items():
        shape = (num_chains,) + value.shape
        starts[name] = np.broadcast_to(value, shape) + init_jitter * rng.standard_normal(shape)
    return starts
