"""MCMC diagnostics, the public namespace `cb.diagnostics`.

`effective_sample_size`, `potential_scale_reduction` and `mcse_mean` (numpy,
Vehtari et al. 2021; computed in `cs109b_bayes.inference.convergence`) judge any
sampler's draws [chain, draw, ...]; `MCMCResult` is the result type that carries
them. `cs109b_bayes.diagnostics` is this module.

#### Examples

```python
import numpy as np, cs109b_bayes as cb
draws = np.random.default_rng(0).normal(size=(4, 1000))
cb.diagnostics.effective_sample_size(draws), cb.diagnostics.potential_scale_reduction(draws)
```

#### References

[1] Vehtari, Gelman, Simpson, Carpenter, Buerkner. Rank-normalization, folding,
    and localization: an improved R-hat for assessing convergence of MCMC.
    Bayesian Analysis, 2021. https://arxiv.org/abs/1903.08008
"""

from cs109b_bayes.inference.convergence import effective_sample_size, mcse_mean, potential_scale_reduction
from cs109b_bayes.inference.result import MCMCResult

__all__ = [
    "MCMCResult",
    "effective_sample_size",
    "mcse_mean",
    "potential_scale_reduction",
]
