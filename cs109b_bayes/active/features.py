"""PCA features of images (numpy): a small input for the fast active-learning classifier."""

import numpy as np

from cs109b_bayes.checks import check_count

__all__ = ["pca_features"]


def pca_features(fit_images, *other_images, num_components=40):
    """Project images on the leading principal components of `fit_images`.

    Images are flattened and scaled to [0, 1]; the mean and the components come from
    `fit_images` alone (in active learning: the unlabelled pool, which needs no labels), and
    every set is centred and projected with them. The features are divided by the sd of the
    first component, so they are of order 1 while keeping the components' relative scales.

    Args:
        fit_images: array [n, ...] (e.g. uint8 [n, 28, 28]) the PCA is fitted on.
        *other_images: more arrays [m, ...] of the same image shape, projected the same way.
        num_components: k, the number of components kept. Default value: 40.

    Returns:
        A list of float32 arrays [n, k], [m, k], ...: one per image set, in the order given.

    Raises:
        ValueError: for sets of different image shapes, non-finite pixels, or `num_components`
            above the number of pixels or of fitting images.

    #### Examples

    ```python
    mnist = cb.data.load_mnist()
    pool_x, test_x = cb.active.pca_features(mnist.x, mnist.x_test, num_components=40)
    ```
    """
    sets = [np.asarray(images, dtype=float) for images in (fit_images, *other_images)]
    shape = sets[0].shape[1:]
    if sets[0].ndim < 2 or any(s.shape[1:] != shape for s in sets):
        raise ValueError(f"every image set must be [n, ...] with the same image shape, got {[s.shape for s in sets]}")
    flat = [s.reshape(len(s), -1) for s in sets]
    if not all(np.all(np.isfinite(f)) for f in flat):
        raise ValueError("images must be finite")
    scale = 255.0 if max(float(f.max(initial=0.0)) for f in flat) > 1.0 else 1.0
    flat = [f / scale for f in flat]
    num_components = check_count("num_components", num_components)
    if num_components > min(flat[0].shape):
        raise ValueError(f"num_components must be at most {min(flat[0].shape)} (pixels and fitting images), "
                         f"got {num_components}")
    mean = flat[0].mean(axis=0)
    centred = flat[0] - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / max(len(centred) - 1, 1))
    components = vectors[:, ::-1][:, :num_components].T          # leading eigenvectors, [k, pixels]
    first_sd = np.sqrt(max(float(variances[-1]), 0.0))
    return [((f - mean) @ components.T / max(first_sd, 1e-12)).astype(np.float32) for f in flat]
