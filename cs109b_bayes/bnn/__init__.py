"""Bayesian neural-network regressors on tf_keras, and their predictive uncertainty.

`build_regressor(kind, ...)` builds a small fully connected regressor
`x -> hidden layers -> Normal(mu(x), sigma(x))` in one of eight flavours:

| kind | where the randomness is |
|---|---|
| `deterministic` | none: a point prediction `mu(x)` trained by squared error |
| `output_only` | the output: the network outputs `mu` and `sigma = softplus(.)` (lecture option 1) |
| `reparameterization` | the weights, one draw per minibatch (Bayes by Backprop, `DenseReparameterization`) |
| `flipout` | the weights, pseudo-independent per example (`DenseFlipout`) |
| `local_reparameterization` | the pre-activations, independent per example (`DenseLocalReparameterization`) |
| `stochastic_hidden` | the hidden units, `h = m(x) + s(x) * eps` per unit per example (option 3) |
| `mc_dropout` | dropout kept on at prediction time |
| `ensemble` | several `output_only` networks trained side by side |

Every probabilistic kind outputs a `tfd.Normal` with `loc` and `scale` of shape
[n, 1] (for `ensemble`, [n, num_members]), so the training loss is the Gaussian
negative log-likelihood `-log N(y | mu, sigma)`.

**KL scaling.** The weight-noise layers add `KL(q(w) || p(w)) / num_train` to
`model.losses`, one term per layer. Kernels are Bayesian (a mean and a scale
per weight, so the kernel parameters double); biases stay point estimates, as
in TFP's defaults and the Flipout paper (a bias sampled once per minibatch
would add gradient noise shared by all examples). With the NLL averaged over a
minibatch, the training loss is therefore `-ELBO / N`, the negative ELBO per
training example, an unbiased minibatch estimate whatever the batch size.
`stochastic_hidden` adds `kl_weight * mean_batch sum_units KL(q(h|x) || N(0, 1))`.

`predict(model, x, num_samples=...)` runs `num_samples` stochastic forward
passes and splits the predictive variance (law of total variance):
`aleatoric^2 = mean_t sigma_t^2`, `epistemic^2 = var_t mu_t`,
`total^2 = aleatoric^2 + epistemic^2`.

`predict` returns a `Predictive` (`cs109b_bayes.predictive`), the same type as
`cb.models.posterior_predictive`.

**Seeds.** `build_regressor` seeds every initialiser from its `seed`
(`cb.seeds.sub_seeds`). `predict`, `fit` (and `cb.variational.gradient_variance`)
draw all the layers' noise with stateless ops inside a
`cs109b_bayes.noise.stateless_noise` block seeded from their `seed` argument: the
same seed gives the same numbers whatever ran before in the process. None of them
reads or writes global random state (NumPy's, Python's or TensorFlow's global
seed). A plain call `model(x)` uses TF's stateful random ops instead (fine for a
quick look, not reproducible).

Modules: `kinds` (the kinds), `layers` (Gaussian hidden units, MC dropout),
`builders` (`build_regressor`), `training` (`fit`), `prediction` (`predict`).

#### References

[1] Blundell, Cornebise, Kavukcuoglu, Wierstra. Weight uncertainty in neural
    networks. ICML 2015. https://arxiv.org/abs/1505.05424
[2] Wen, Vicol, Ba, Tran, Grosse. Flipout: efficient pseudo-independent weight
    perturbations on mini-batches. ICLR 2018. https://arxiv.org/abs/1803.04386
[3] Kingma, Salimans, Welling. Variational dropout and the local
    reparameterization trick. NeurIPS 2015. https://arxiv.org/abs/1506.02557
[4] Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016.
    https://arxiv.org/abs/1506.02142
[5] Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive
    uncertainty estimation using deep ensembles. NeurIPS 2017.
    https://arxiv.org/abs/1612.01474
"""

from cs109b_bayes.bnn.builders import build_regressor, negative_log_likelihood
from cs109b_bayes.bnn.kinds import KINDS, WEIGHT_NOISE_KINDS
from cs109b_bayes.bnn.layers import GaussianHiddenUnits
from cs109b_bayes.bnn.prediction import predict
from cs109b_bayes.bnn.training import TrainingHistory, fit
from cs109b_bayes.predictive import Predictive

__all__ = [
    "KINDS",
    "WEIGHT_NOISE_KINDS",
    "GaussianHiddenUnits",
    "Predictive",
    "TrainingHistory",
    "build_regressor",
    "fit",
    "negative_log_likelihood",
    "predict",
]
