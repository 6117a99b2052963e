"""Random-walk Metropolis in numpy, vectorised over chains: `cb.metropolis`.

#### Examples

```python
import cs109b_bayes as cb
result = cb.metropolis(lambda mu: -0.5 * (mu - 1.0) ** 2, {"mu": 0.0}, proposal_scale=1.0,
                       num_steps=5000, num_chains=4, seed=0)
```
"""

import numbers
import time

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.inference import start, validation
from cs109b_bayes.inference.result import MCMCResult

__all__ = ["metropolis"]


def _proposal_scales(proposal_scale, names):
    validation.check_positive("proposal_scale", proposal_scale)
    if not isinstance(proposal_scale, dict):
        return {n: float(proposal_scale) for n in names}
    if set(proposal_scale) != set(names):
        raise ValueError(f"proposal_scale names {sorted(proposal_scale)} must match init names {sorted(names)}")
    return {n: np.asarray(proposal_scale[n], dtype=float) for n in names}


def metropolis(log_prob_fn, init, *, proposal_scale, num_steps, seed, burn_in=0.3,
               num_chains=1, init_jitter=0.1):
    """Random-walk Metropolis in numpy, vectorised over chains.

    Each step proposes `theta* = theta + proposal_scale * N(0, I)` for every
    chain and accepts it with probability `min(1, p(theta* | D) / p(theta | D))`
    (the Gaussian proposal is symmetric, so its density cancels). The first
    `burn_in` fraction of steps is discarded. Every argument is checked before
    `log_prob_fn` is first called. The random numbers come from
    `cb.seeds.numpy_rng(seed, "metropolis")`: the same seed gives the same draws,
    and no global random state is read or written.

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [num_chains]` unnormalised log posterior,
            each parameter with a leading chain axis (numpy).
        init: dict name -> initial value (no chain axis).
        proposal_scale: positive float, or dict name -> positive float or array.
        num_steps: total steps per chain, burn-in included.
        seed: int seed; the same seed gives identical samples.
        burn_in: fraction of steps discarded, in [0, 1). Default value: 0.3.
        num_chains: independent chains, run in lock step. Default value: 1.
        init_jitter: sd of the Gaussian jitter added to `init` per chain; 0 starts
            every chain exactly at `init`. Default value: 0.1.

    Returns:
        An `MCMCResult` (`kernel="metropolis"`, `step_size` = the proposal scale).

    Raises:
        TypeError: if `seed` is not an int.
        ValueError: for non-finite `init`, names that do not match `log_prob_fn`,
            a non-positive proposal scale, `num_steps` < 1 or too few kept draws,
            `burn_in` outside [0, 1), a log-density with the wrong shape or not
            finite at the start.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    def log_prob_fn(mu):                      # mu has shape [num_chains]
        return -0.5 * (mu - 1.0) ** 2
    result = cb.metropolis(log_prob_fn, {"mu": 0.0}, proposal_scale=1.0,
                           num_steps=5000, num_chains=4, seed=0)
    result.summary()                          # mean close to 1, sd close to 1
    ```

    #### References

    [1] Metropolis, Rosenbluth, Rosenbluth, Teller, Teller. Equation of state
        calculations by fast computing machines. J. Chem. Phys., 1953.
    """
    values = start.check_init(init)
    validation.check_signature(log_prob_fn, list(values))
    validation.check_count("num_steps", num_steps)
    validation.check_count("num_chains", num_chains)
    if isinstance(burn_in, bool) or not isinstance(burn_in, numbers.Real) or not 0.0 <= burn_in < 1.0:
        raise ValueError(f"burn_in must be a fraction in [0, 1), got {burn_in!r}")
    scales = _proposal_scales(proposal_scale, list(values))
    init_jitter = validation.check_non_negative("init_jitter", init_jitter)
    rng = seeds.numpy_rng(seed, "metropolis")
    num_burnin = int(burn_in * num_steps)
    num_kept = num_steps - num_burnin
    if num_kept < 4:
        raise ValueError(f"num_steps={num_steps} with burn_in={burn_in} keeps {num_kept} draws; need at least 4")

    state = start.jittered_start(values, num_chains, init_jitter, rng)
    log_prob = validation.check_log_prob(log_prob_fn(**state), num_chains, "at the initial state")
    kept = {n: np.empty((num_kept,) + v.shape) for n, v in state.items()}
    kept_log_prob = np.empty((num_kept, num_chains))
    accept_prob = np.empty((num_kept, num_chains))
    started = time.perf_counter()
    for step in range(num_steps):
        proposal = {n: v + scales[n] * rng.standard_normal(v.shape) for n, v in state.items()}
        proposal_log_prob = np.asarray(log_prob_fn(**proposal), dtype=float).reshape(num_chains)
        log_ratio = np.where(np.isnan(proposal_log_prob), -np.inf, proposal_log_prob - log_prob)
        accept = np.log(rng.uniform(size=num_chains)) < log_ratio
        for n in state:
            mask = accept.reshape((num_chains,) + (1,) * (state[n].ndim - 1))
            state[n] = np.where(mask, proposal[n], state[n])
        log_prob = np.where(accept, proposal_log_prob, log_prob)
        if step >= num_burnin:
            row = step - num_burnin
            for n in state:
                kept[n][row] = state[n]
            kept_log_prob[row] = log_prob
            accept_prob[row] = np.exp(np.minimum(0.0, log_ratio))
    seconds = time.perf_counter() - started
    return MCMCResult.from_draws(
        {n: np.moveaxis(v, 0, 1) for n, v in kept.items()},
        log_prob=kept_log_prob.T,
        acceptance_rate=accept_prob.mean(),
        step_size=proposal_scale,
        seconds=seconds,
        seed=seed,
        kernel="metropolis",
        num_burnin_steps=num_burnin,
    )
