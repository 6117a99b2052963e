"""Hamiltonian Monte Carlo: `sample_hmc` and the pieces it strings together.

- `warmup`: Stan's windowed warm-up schedule (`Window`, `warmup_schedule`);
- `metric`: the regularised mass-matrix estimate (dense, diagonal or unit; the dense one
  shrunk towards its diagonal as far as the window's draws call for);
- `coordinates`: named parameters <-> flat state <-> whitened z = L^-1 theta;
- `kernels`: NUTS, jittered HMC and dual-averaging step-size adaptation (TFP);
- `chunks`: the compiled function running chunks of steps;
- `fingerprint` and `cache`: the compiled-sampler cache (`clear_cache`, `cache_info`);
- `sampler`: the `sample_hmc` driver (chain groups run at the same time in threads);
- `leapfrog`: a small numpy leapfrog integrator and plain-HMC step, to draw trajectories (lab 04).

Importing this package does not import TensorFlow; `kernels` and `chunks` do, and
`sample_hmc` imports them when called.

#### Examples

```python
from cs109b_bayes.inference import hmc
result = hmc.sample_hmc(log_prob_fn, {"mu": 0.0}, num_results=500, num_burnin_steps=500, seed=0)
hmc.clear_cache()
```
"""

from cs109b_bayes.inference.hmc import cache, coordinates, fingerprint, leapfrog, metric, sampler, warmup
from cs109b_bayes.inference.hmc.cache import cache_info, clear_cache
from cs109b_bayes.inference.hmc.sampler import sample_hmc
from cs109b_bayes.inference.hmc.warmup import Window, warmup_schedule

__all__ = [
    "Window",
    "cache",
    "cache_info",
    "clear_cache",
    "coordinates",
    "fingerprint",
    "leapfrog",
    "metric",
    "sample_hmc",
    "sampler",
    "warmup",
    "warmup_schedule",
]
