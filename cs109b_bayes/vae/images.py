"""Images in and out of a VAE: flattening and binarising pixels, the latent grid of prior quantiles.

#### Examples

```python
import cs109b_bayes as cb
mnist = cb.data.load_mnist()
x_train = cb.vae.prepare_images(mnist.x)     # [n, 784] of 0.0 / 1.0
grid = cb.vae.latent_grid(15)                # prior quantiles from 1% to 99%
```
"""

import statistics

import numpy as np

from cs109b_bayes.vae.checks import positive_int

__all__ = ["latent_grid", "prepare_images"]


def prepare_images(images, *, binarize=True, threshold=0.5, image_shape=(28, 28)):
    """Flatten images to float32 [n, height * width] in [0, 1], optionally binarised.

    Accepts uint8 pixels in [0, 255] (as `load_mnist` returns them) or floats in
    [0, 1], shaped [n, height, width], [n, height, width, 1] or [n, height * width].
    Binarising thresholds the [0, 1] intensities (`pixel > threshold`), which is the
    data a Bernoulli decoder models.

    Args:
        images: array of images.
        binarize: threshold to {0, 1}. Default value: True.
        threshold: intensity above which a pixel is 1. Default value: 0.5.
        image_shape: (height, width). Default value: (28, 28).

    Returns:
        A float32 numpy array [n, height * width].

    Raises:
        ValueError: for a shape that is not a batch of `image_shape` images, NaN or
            inf values, or pixels outside [0, 255] (integers) / [0, 1] (floats).

    #### Examples

    ```python
    import cs109b_bayes as cb
    mnist = cb.data.load_mnist()
    x_train = cb.vae.prepare_images(mnist.x)           # [4000, 784] of 0.0 / 1.0
    x_grey = cb.vae.prepare_images(mnist.x, binarize=False)
    ```
    """
    array = np.asarray(images)
    height, width = image_shape
    pixels = height * width
    shape = array.shape
    ok = (
        (array.ndim == 2 and shape[1] == pixels)
        or (array.ndim == 3 and shape[1:] == (height, width))
        or (array.ndim == 4 and shape[1:] == (height, width, 1))
    )
    if not ok or shape[0] == 0:
        raise ValueError(
            f"images must be a non-empty batch shaped [n, {height}, {width}], [n, {height}, {width}, 1] "
            f"or [n, {pixels}], got shape {shape}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"images must be numeric, got dtype {array.dtype}")
    flat = array.reshape(shape[0], pixels)
    if np.issubdtype(array.dtype, np.integer):
        if flat.min() < 0 or flat.max() > 255:
            raise ValueError("integer images must have pixels in [0, 255]")
        flat = flat.astype(np.float32) / 255.0
    else:
        flat = flat.astype(np.float32)
        if not np.all(np.isfinite(flat)):
            raise ValueError("images contain NaN or inf")
        if flat.min() < 0.0 or flat.max() > 1.0:
            raise ValueError("float images must have pixels in [0, 1] (divide uint8 pixels by 255)")
    if binarize:
        flat = (flat > threshold).astype(np.float32)
    return flat


def latent_grid(num_points=15, *, low=0.01, high=0.99):
    """Grid values z = norm.ppf(linspace(low, high, num_points)): evenly spaced prior quantiles.

    Each cell of a grid built from these values covers the same prior mass, which is
    how `decode_manifold` lays out the decoded images.

    Args:
        num_points: points per axis. Default value: 15.
        low: lowest quantile. Default value: 0.01.
        high: highest quantile. Default value: 0.99.

    Returns:
        A float32 numpy array [num_points].

    Raises:
        ValueError: unless 0 < low < high < 1 and num_points is positive.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.vae.latent_grid(15)      # from -2.33 to 2.33
    ```
    """
    num_points = positive_int("num_points", num_points)
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    standard_normal = statistics.NormalDist()
    return np.array([standard_normal.inv_cdf(q) for q in np.linspace(low, high, num_points)], np.float32)
