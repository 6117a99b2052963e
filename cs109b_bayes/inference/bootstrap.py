"""The nonparametric bootstrap: refit a model on data resampled with replacement (`cb.bootstrap`).

#### Examples

```python
import numpy as np, cs109b_bayes as cb
ads = cb.data.advertising()
betas = cb.bootstrap(lambda x, y: np.polyfit(x, y, 1)[::-1], ads.x, ads.y, seed=0)
```
"""

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.inference import validation

__all__ = ["bootstrap"]


def bootstrap(fit_fn, x, y, *, num_resamples=100, seed):
    """Refit a model on data resampled with replacement.

    Each resample draws `len(x)` row indices uniformly with replacement (from
    `cb.seeds.numpy_rng(seed, "bootstrap")`; no global random state) and refits
    `fit_fn` on those rows.

    Args:
        fit_fn: `fit_fn(x, y) -> parameters` (a number, an array or a dict of them).
        x: inputs, indexed along the first axis.
        y: targets, same length as `x`.
        num_resamples: bootstrap resamples. Default value: 100.
        seed: int seed; the same seed gives the same resamples.

    Returns:
        The fitted parameters stacked along a new first axis of length
        `num_resamples`: an array, or a dict of arrays if `fit_fn` returns a dict.

    Raises:
        TypeError: if `seed` is not an int.
        ValueError: if `x` and `y` differ in length, hold NaN or inf, or
            `num_resamples` < 1.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    ads = cb.data.advertising()
    fit = lambda x, y: np.polyfit(x, y, 1)[::-1]          # (beta0, beta1)
    betas = cb.bootstrap(fit, ads.x, ads.y, num_resamples=100, seed=0)
    np.percentile(betas[:, 1], [2.5, 97.5])              # 95% interval for beta1
    ```

    #### References

    [1] Efron, B. Bootstrap methods: another look at the jackknife. Annals of Statistics, 1979.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    for name, value in (("x", x), ("y", y)):
        if np.issubdtype(value.dtype, np.number) and not np.all(np.isfinite(value)):
            raise ValueError(f"{name} has NaN or inf values")
    validation.check_count("num_resamples", num_resamples)
    rng = seeds.numpy_rng(seed, "bootstrap")
    fits = [fit_fn(x[idx], y[idx]) for idx in rng.integers(0, len(x), size=(num_resamples, len(x)))]
    if isinstance(fits[0], dict):
        return {name: np.stack([np.asarray(f[name]) for f in fits]) for name in fits[0]}
    return np.stack([np.asarray(f, dtype=float) for f in fits])
