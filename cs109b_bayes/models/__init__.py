"""Shared model code for the MCMC labs and the benchmarks.

Two models, each with a log-density that labs, checks and benchmarks import
instead of copying:

* Bayesian linear regression with known noise, `y ~ N(beta0 + beta1 x, noise_sd^2)`,
  independent priors `beta_k ~ N(prior_mean, prior_sd^2)`. Its posterior is
  Gaussian in closed form (`conjugate_linear_posterior`), so samplers can be
  judged against the exact answer. Labs 02 and 05.
* The sin network of lectures 27-28, `x -> H sin hidden units -> linear output`:
  `f(x) = sum_k w2k sin(w1k x) + b1`, weights `~ N(0, prior_sd^2)` and
  `y ~ N(f(x), noise_sd^2)`. With `H = 2` it is the 5-weight "gap5" network
  (`w11, w12, w21, w22, b1`) fitted to `cb.data.sin_gap()`. Labs 03 and 04.

The log-densities are proper (every normalising constant included), so the
numbers agree with `scipy.stats` and with other frameworks (NumPyro, PyMC) that
write the same model. They follow the samplers' convention: parameters arrive by
name, each with a leading chain axis, and one log-density per chain is returned.
`backend="numpy"` gives plain numpy functions for `cb.metropolis`;
`backend="tensorflow"` gives TensorFlow functions (differentiable) for
`cb.sample_hmc`; `backend="jax"` gives `jax.numpy` functions (needs JAX).

#### Examples

```python
import numpy as np, cs109b_bayes as cb
gap = cb.data.sin_gap()
log_prob_fn = cb.models.gap5_log_prob(gap.x, gap.y)              # numpy, for cb.metropolis
mode = cb.models.find_mode(log_prob_fn, cb.models.GAP5_START, num_restarts=20, seed=0)
result = cb.metropolis(log_prob_fn, mode.params, proposal_scale=0.05,
                       num_steps=10_000, num_chains=4, burn_in=0.2, seed=1)
band = cb.models.posterior_predictive(result, np.linspace(-1.5, 1.5, 200), noise_sd=0.1)
```

Modules: `backends` (numpy / TensorFlow / JAX ops, checks), `linear` (conjugate linear
regression), `sin_networks` (the sin network and gap5), `mode` (`find_mode`),
`predictive` (`posterior_predictive`, returning the shared `Predictive` type of
`cs109b_bayes.predictive`). None of them imports TensorFlow until a
`backend="tensorflow"` function is built.

#### References

[1] Bishop. Pattern Recognition and Machine Learning, section 3.3 (Bayesian linear regression), 2006.
[2] Neal. Bayesian Learning for Neural Networks, 1996 (weight-space symmetries, HMC for BNNs).
"""

from cs109b_bayes.models.linear import (
    GaussianPosterior,
    conjugate_linear_posterior,
    linear_log_evidence,
    linear_log_prob,
)
from cs109b_bayes.models.mode import Mode, find_mode
from cs109b_bayes.models.predictive import posterior_predictive
from cs109b_bayes.models.sin_networks import (GAP5_NAMES, GAP5_NOISE_SD, GAP5_PRIOR_SD, GAP5_START, gap5_forward,
                                              gap5_log_prob, sin_network, sin_network_log_prob)
from cs109b_bayes.predictive import Predictive

__all__ = [
    "GAP5_NAMES",
    "GAP5_NOISE_SD",
    "GAP5_PRIOR_SD",
    "GAP5_START",
    "GaussianPosterior",
    "Mode",
    "Predictive",
    "conjugate_linear_posterior",
    "find_mode",
    "gap5_forward",
    "gap5_log_prob",
    "linear_log_evidence",
    "linear_log_prob",
    "posterior_predictive",
    "sin_network",
    "sin_network_log_prob",
]
