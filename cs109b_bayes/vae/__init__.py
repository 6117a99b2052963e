"""Variational auto-encoders (VAE) and plain auto-encoders (AE) on images, in `tf_keras`.

Kingma & Welling's model: a prior p(z) = N(0, I) on a small latent vector z, a
decoder p(x | z) (Bernoulli on binarised pixels, or Gaussian with a learned or
fixed scale), and an encoder q(z | x) = N(z_mean(x), diag(exp(z_log_var(x)))).
Training maximises the evidence lower bound, per example

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x),

with z = z_mean + exp(z_log_var / 2) * eps, eps ~ N(0, I) (the reparameterisation
trick) and the KL either analytic or estimated from the same L samples of z.

The modules, one job each:

- `images`: `prepare_images` (flatten, binarise), `latent_grid` (prior quantiles);
- `losses`: `analytic_kl`, `sampled_kl`, Gaussian log-densities, decoder log-likelihoods;
- `networks`: `build_encoder` / `build_decoder` (dense, optional Flipout encoder);
- `models`: the `VAE` and `AE` tf_keras models (stateless, seeded training noise);
- `builders`: `build_vae` / `build_ae` (the lecture's architecture in one call);
- `training`: `train` (seeded shuffling, Adam that carries over between calls) and `TrainResult`;
- `compiled`: the cached compiled epochs of `train` (`epoch_program`, `bound`, `cache_info`, `clear_cache`);
- `evaluation`: `evaluate` (held-out ELBO, its parts, the importance-weighted bound), `HeldOutScore` and `log_mean_exp`;
- `manifold`: `decode_manifold`;
- `digits`: a digit classifier for measuring decoded images and latent separability;
- `density`: per-example importance-weighted bounds on log p(x) for several k (`DensityEstimate`);
- `ood`: the out-of-distribution image sets of lab 15;
- `anomaly`: `roc_auc` and the `PcaGaussianMixture` density baseline;
- `toy`: the lecture's toy model x = z/10 + z/||z|| + e and its exact density;
- `io`: `save` / `load`.

Every random number comes from an explicit int seed through `cs109b_bayes.seeds` and
`cs109b_bayes.noise` (stateless ops); no function here reads or writes NumPy's, Python's or
TensorFlow's global random state (a Flipout encoder called directly, `encoder(x)`, outside
`train` / `evaluate` uses TensorFlow's stateful ops; see `networks`).

#### Examples

```python
import cs109b_bayes as cb
mnist = cb.data.load_mnist()
x_train, x_test = cb.vae.prepare_images(mnist.x), cb.vae.prepare_images(mnist.x_test)
vae = cb.vae.build_vae(latent_dim=2, seed=0)
result = cb.vae.train(vae, x_train, epochs=20, seed=0)
print(cb.vae.evaluate(vae, x_test, num_samples=100, seed=0))
canvas, grid = cb.vae.decode_manifold(vae)
```

#### References

[1]: Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
     https://arxiv.org/abs/1312.6114
[2]: Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders.
     https://arxiv.org/abs/1509.00519
[3]: Wen, Y. et al. Flipout: Efficient Pseudo-Independent Weight Perturbations on
     Mini-Batches. https://arxiv.org/abs/1803.04386
"""

from cs109b_bayes.vae.anomaly import PcaGaussianMixture, roc_auc
from cs109b_bayes.vae.builders import build_ae, build_vae
from cs109b_bayes.vae.density import DensityEstimate, log_importance_weights, log_likelihood_bounds
from cs109b_bayes.vae.digits import classify_digits, digit_classifier, latent_knn_accuracy, manifold_classes
from cs109b_bayes.vae.evaluation import HeldOutScore, evaluate, log_mean_exp
from cs109b_bayes.vae.images import latent_grid, prepare_images
from cs109b_bayes.vae.io import load, save
from cs109b_bayes.vae.losses import analytic_kl, sampled_kl
from cs109b_bayes.vae.manifold import decode_manifold
from cs109b_bayes.vae.models import AE, VAE
from cs109b_bayes.vae.networks import build_decoder, build_encoder
from cs109b_bayes.vae.ood import OOD_SETS, out_of_distribution_sets
from cs109b_bayes.vae.toy import grid_points, sample_toy, toy_log_density, toy_mean
from cs109b_bayes.vae.training import TrainResult, train

__all__ = [
    "AE",
    "analytic_kl",
    "build_ae",
    "build_decoder",
    "build_encoder",
    "build_vae",
    "classify_digits",
    "decode_manifold",
    "DensityEstimate",
    "digit_classifier",
    "evaluate",
    "grid_points",
    "HeldOutScore",
    "latent_grid",
    "latent_knn_accuracy",
    "load",
    "log_importance_weights",
    "log_likelihood_bounds",
    "log_mean_exp",
    "manifold_classes",
    "OOD_SETS",
    "out_of_distribution_sets",
    "PcaGaussianMixture",
    "prepare_images",
    "roc_auc",
    "sample_toy",
    "sampled_kl",
    "save",
    "toy_log_density",
    "toy_mean",
    "train",
    "TrainResult",
    "VAE",
]
