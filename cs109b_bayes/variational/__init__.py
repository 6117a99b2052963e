"""Variational inference: Gaussian KL, the ELBO, mean-field Gaussian VI, gradient variance.

Variational inference replaces the posterior `p(w | D)` by the member of a
family `q_phi(w)` that maximises the evidence lower bound

    ELBO(phi) = E_q[log p(D | w)] - KL(q_phi(w) || p(w))  <=  log p(D),

and the gap is exactly `KL(q || p(w | D))`. With a mean-field Gaussian
`q = prod_i N(m_i, s_i^2)` and a Gaussian prior the KL is closed form and the
expected log-likelihood is estimated with the reparameterization trick,
`w = m + s * eps`, `eps ~ N(0, I)`, so its gradient reaches `m` and `s`.

Parameters are named, as in `cb.metropolis`: dicts name -> array, and a
`log_likelihood_fn(**params)` that receives each parameter with a leading
sample axis [S, ...] and returns one log-likelihood per sample, shape [S]
(TensorFlow tensors).

`gradient_variance` measures how much the gradient of a Bayesian network's
loss varies over the network's own noise (the weight or activation draws) at
fixed variational parameters and a fixed minibatch: the quantity Flipout and
the local reparameterization trick reduce.

Every function takes an explicit int `seed` and derives its draws from it with
`cs109b_bayes.seeds` (no global random state is read or written).

Modules: `kl` (closed-form and Monte Carlo KL), `evidence` (`elbo`),
`mean_field` (`fit_mean_field`), `gradient_noise` (`gradient_variance`),
`retracing` (`quiet_retracing_warnings`), `checks` (argument checks),
`estimators` (score-function and reparameterization gradients of an ELBO, a Bernoulli
latent), `estimator_variance` (estimator variance against the number of samples).

#### References

[1] Blei, Kucukelbir, McAuliffe. Variational inference: a review for
    statisticians. https://arxiv.org/abs/1601.00670
[2] Kingma, Welling. Auto-encoding variational Bayes. https://arxiv.org/abs/1312.6114
[3] Wen, Vicol, Ba, Tran, Grosse. Flipout. https://arxiv.org/abs/1803.04386
"""

from cs109b_bayes.variational.estimator_variance import VarianceCurve, variance_by_num_samples
from cs109b_bayes.variational.estimators import (
    bernoulli_exact_gradient, bernoulli_score_gradient, quadratic_gradient, reparameterization_gradient,
    score_function_gradient)
from cs109b_bayes.variational.evidence import elbo
from cs109b_bayes.variational.gradient_noise import GradientVariance, gradient_variance
from cs109b_bayes.variational.kl import MonteCarloEstimate, kl_gaussian, kl_monte_carlo
from cs109b_bayes.variational.mean_field import VIResult, fit_mean_field
from cs109b_bayes.variational.retracing import quiet_retracing_warnings

__all__ = [
    "GradientVariance",
    "MonteCarloEstimate",
    "VIResult",
    "VarianceCurve",
    "bernoulli_exact_gradient",
    "bernoulli_score_gradient",
    "elbo",
    "fit_mean_field",
    "gradient_variance",
    "kl_gaussian",
    "kl_monte_carlo",
    "quadratic_gradient",
    "quiet_retracing_warnings",
    "reparameterization_gradient",
    "score_function_gradient",
    "variance_by_num_samples",
]
