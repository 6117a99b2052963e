"""Anomaly scores from densities: ROC AUC of in- vs out-of-distribution scores, a PCA + Gaussian mixture baseline.

A density model flags an input as anomalous when its log p(x) is low. `roc_auc` measures how
well a score separates held-out in-distribution examples from an out-of-distribution set: the
probability that a random in-distribution score exceeds a random out-of-distribution one (ties
count 1/2); 1 is perfect, 1/2 is chance, below 1/2 means the OOD set scores HIGHER.
`PcaGaussianMixture` is the classical baseline: a Gaussian mixture fitted on the leading
principal components of the images, scored by its per-example log-likelihood (in the PCA
feature space, so its numbers are not comparable with a VAE's nats over pixels; its AUCs are).

#### Examples

```python
import cs109b_bayes as cb
baseline = cb.vae.PcaGaussianMixture.fit(x_train, seed=0)
auc = cb.vae.roc_auc(baseline.log_likelihood(x_test), baseline.log_likelihood(noise_images))
```
"""

import dataclasses

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import positive_int

__all__ = ["PcaGaussianMixture", "roc_auc"]


def _scores(name, values):
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of scores, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def roc_auc(in_distribution, out_of_distribution):
    """Area under the ROC curve of a score that should be HIGHER in distribution (e.g. log p(x)).

    Equals P(s_in > s_out) + P(s_in = s_out) / 2 for independent random draws from the two
    sets (the Mann-Whitney U statistic divided by n_in * n_out), computed with scikit-learn's
    `roc_auc_score` (in-distribution labelled 1).

    Args:
        in_distribution: scores of in-distribution examples, 1-d.
        out_of_distribution: scores of out-of-distribution examples, 1-d.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: for empty, non-1-d or non-finite scores.

    #### Examples

    ```python
    cb.vae.roc_auc([3.0, 2.0], [1.0, 2.0])     # (1 + 1 + 1 + 0.5) / 4 = 0.875
    ```
    """
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415

    inside = _scores("in_distribution", in_distribution)
    outside = _scores("out_of_distribution", out_of_distribution)
    labels = np.concatenate([np.ones(inside.size), np.zeros(outside.size)])
    return float(roc_auc_score(labels, np.concatenate([inside, outside])))


@dataclasses.dataclass(frozen=True)
class PcaGaussianMixture:
    """A Gaussian mixture on the leading principal components of flattened images: a density baseline.

    Build it with `PcaGaussianMixture.fit`.

    Attributes:
        pca: the fitted `sklearn.decomposition.PCA`.
        mixture: the fitted `sklearn.mixture.GaussianMixture` (full covariances).
        num_components: principal components kept.
        num_clusters: mixture components.
        seed: the seed of the fit.

    #### Examples

    ```python
    baseline = cb.vae.PcaGaussianMixture.fit(x_train, seed=0)
    baseline.log_likelihood(x_test[:5])          # [5], higher = more typical
    ```
    """

    pca: object
    mixture: object
    num_components: int
    num_clusters: int
    seed: int

    @classmethod
    def fit(cls, images, *, num_components=30, num_clusters=10, seed=0):
        """Fit PCA (`num_components`) then a full-covariance Gaussian mixture (`num_clusters`) on the features.

        Args:
            images: training images, float array [n, d] (e.g. `prepare_images` output).
            num_components: principal components kept. Default value: 30.
            num_clusters: mixture components. Default value: 10.
            seed: int seed of PCA's solver and the mixture's initialisation. Default value: 0.

        BLAS runs on one thread here (`threadpoolctl`): for these small matrices that is about
        20x faster than OpenBLAS's threads on two busy cores, and gives the same fit.

        Returns:
            A fitted `PcaGaussianMixture`.

        Raises:
            ValueError: for images that are not [n, d] with n > num_clusters and d >= num_components,
                or non-positive sizes.
            TypeError: for a seed that is not an int.

        #### Examples

        ```python
        baseline = cb.vae.PcaGaussianMixture.fit(x_train, num_components=30, num_clusters=10, seed=0)
        ```
        """
        from sklearn.decomposition import PCA  # noqa: PLC0415
        from sklearn.mixture import GaussianMixture  # noqa: PLC0415
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        num_components = positive_int("num_components", num_components)
        num_clusters = positive_int("num_clusters", num_clusters)
        seed = seeds.check_seed(seed)
        x = np.asarray(images, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] <= max(num_clusters, num_components) or x.shape[1] < num_components:
            raise ValueError(f"images must be [n, d] with n > max(num_clusters, num_components) and "
                             f"d >= num_components, got shape {x.shape}")
        with threadpool_limits(1):    # small matrices: one BLAS thread is ~20x faster on 2 busy cores
            pca = PCA(n_components=num_components, random_state=seeds.sub_seed(seed, "pca") % 2**31).fit(x)
            mixture = GaussianMixture(n_components=num_clusters, covariance_type="full", reg_covar=1e-3,
                                      random_state=seeds.sub_seed(seed, "gaussian mixture") % 2**31)
            mixture.fit(pca.transform(x))
        return cls(pca=pca, mixture=mixture, num_components=num_components, num_clusters=num_clusters, seed=seed)

    def log_likelihood(self, images):
        """Per-example log-density of the PCA features under the mixture, a float64 array [n].

        Args:
            images: float array [n, d], d as in the training images.

        Returns:
            A float64 array [n].

        Raises:
            ValueError: for images with another number of pixels than the training images.

        #### Examples

        ```python
        scores = baseline.log_likelihood(x_test)     # higher = more typical
        ```
        """
        x = np.asarray(images, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.pca.n_features_in_:
            raise ValueError(f"images must be [n, {self.pca.n_features_in_}], got shape {x.shape}")
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        with threadpool_limits(1):
            return self.mixture.score_samples(self.pca.transform(x))
