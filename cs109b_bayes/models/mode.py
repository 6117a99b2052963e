"""`find_mode`: the posterior mode by BFGS with seeded random restarts."""

import dataclasses

import numpy as np
from scipy import optimize

from cs109b_bayes import seeds

__all__ = ["Mode", "find_mode"]


@dataclasses.dataclass(frozen=True)
class Mode:
    """A local maximum of a log-density found by `find_mode`.

    Attributes:
        params: dict name -> value (no chain axis), ready as a sampler's `init`.
        log_prob: the log-density there.
    """

    params: dict
    log_prob: float


def find_mode(log_prob_fn, init, *, num_restarts=0, restart_sd=3.0, seed=0):
    """Maximise a numpy log-density with BFGS, from `init` and optional random restarts.

    The lecture's warning for the sin network ("this is not going to converge
    unless we start very near the mode") is why the labs start their chains
    here. Restart points are `init + restart_sd * N(0, I)`; the best local
    maximum over all starts is returned.

    Args:
        log_prob_fn: numpy `log_prob_fn(**params) -> [num_chains]`, as for `cb.metropolis`.
        init: dict name -> initial value (scalar or array).
        num_restarts: extra random starts. Default value: 0 (a local search from `init`).
        restart_sd: sd of the restart jitter. Default value: 3.
        seed: int seed of the restarts (drawn from `cb.seeds.numpy_rng(seed, "find_mode")`;
            no global random state is read or written). Default value: 0.

    Returns:
        A `Mode` (params and log-density).

    Raises:
        ValueError: if `init` is empty or not finite, or the log-density is not finite at `init`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    gap = cb.data.sin_gap()
    log_prob_fn = cb.models.gap5_log_prob(gap.x, gap.y)
    mode = cb.models.find_mode(log_prob_fn, cb.models.GAP5_START, num_restarts=20, seed=0)
    mode.params, mode.log_prob
    ```
    """
    seed = seeds.check_seed(seed)
    if not isinstance(init, dict) or not init:
        raise ValueError("init must be a non-empty dict name -> initial value")
    names = list(init)
    shapes = {n: np.shape(init[n]) for n in names}
    sizes = [int(np.prod(shapes[n], dtype=int)) for n in names]
    start = np.concatenate([np.ravel(np.asarray(init[n], dtype=float)) for n in names])
    if not np.all(np.isfinite(start)):
        raise ValueError(f"init must be finite, got {init!r}")

    def unpack(vector):
        parts = np.split(vector, np.cumsum(sizes)[:-1])
        return {n: p.reshape((1,) + shapes[n]) for n, p in zip(names, parts)}

    def negative(vector):
        value = float(np.asarray(log_prob_fn(**unpack(vector))).reshape(-1)[0])
        return -value if np.isfinite(value) else 1e300

    if negative(start) >= 1e300:
        raise ValueError(f"log_prob_fn is not finite at init {init!r}")
    rng = seeds.numpy_rng(seed, "find_mode")
    starts = [start] + [start + restart_sd * rng.normal(size=start.size) for _ in range(num_restarts)]
    best = None
    for point in starts:
        fit = optimize.minimize(negative, point, method="BFGS")
        if best is None or fit.fun < best.fun:
            best = fit
    params = {n: (v[0].item() if v.ndim == 1 else v[0]) for n, v in unpack(best.x).items()}
    return Mode(params, -float(best.fun))

