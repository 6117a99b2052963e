"""Inference: MCMC samplers, the bootstrap, diagnostics and the one result type.

- `metropolis` (numpy random-walk Metropolis) and `hmc.sample_hmc` (compiled TFP
  NUTS / HMC) take parameters by name and return an `MCMCResult`;
- `sgld.sample_sgld` (stochastic-gradient Langevin dynamics on minibatches, TensorFlow)
  returns an `MCMCResult` too;
- `bootstrap` refits a model on resampled data;
- `diagnostics` (`cb.diagnostics`): ESS, R-hat, MCSE and `MCMCResult`.

Importing this package does not import TensorFlow (`sample_hmc` and `sample_sgld` do, when called).

#### Examples

```python
from cs109b_bayes.inference import MCMCResult, bootstrap, diagnostics, metropolis, sample_hmc, sample_sgld
```
"""

from cs109b_bayes.inference import diagnostics, hmc
from cs109b_bayes.inference.bootstrap import bootstrap
from cs109b_bayes.inference.convergence import effective_sample_size, mcse_mean, potential_scale_reduction
from cs109b_bayes.inference.hmc.sampler import sample_hmc
from cs109b_bayes.inference.metropolis import metropolis
from cs109b_bayes.inference.result import MCMCResult
from cs109b_bayes.inference.sgld import sample_sgld

__all__ = [
    "MCMCResult",
    "bootstrap",
    "diagnostics",
    "effective_sample_size",
    "hmc",
    "mcse_mean",
    "metropolis",
    "potential_scale_reduction",
    "sample_hmc",
    "sample_sgld",
]
