"""`decode_manifold`: decode a grid of prior quantiles of a 2-D latent space into one canvas of images.

#### Examples

```python
import cs109b_bayes as cb
canvas, grid = cb.vae.decode_manifold(vae, num_points=15)
cb.plotting.plot_manifold(canvas, grid)
```
"""

import numpy as np

from cs109b_bayes.vae.images import latent_grid

__all__ = ["decode_manifold"]


def decode_manifold(model, *, num_points=15, low=0.01, high=0.99, image_shape=(28, 28)):
    """Decode a num_points x num_points grid of a 2-D latent space into one canvas of mean images.

    Column j decodes z1 = grid[j] (left to right, increasing); row i decodes
    z2 = grid[num_points - 1 - i] (top to bottom, decreasing), so the canvas has the
    orientation of a latent scatter plot. The images are the decoder's means
    (`decode_means`: sigmoid of the logits, applied once). Nothing is random: the same
    model gives the same canvas.

    Args:
        model: a `VAE` or `AE` with a 2-D latent space.
        num_points: grid points per axis. Default value: 15.
        low: lowest prior quantile. Default value: 0.01.
        high: highest prior quantile. Default value: 0.99.
        image_shape: (height, width) of one image. Default value: (28, 28).

    Returns:
        `(canvas, grid)`: a float array [num_points * height, num_points * width] and
        the grid values [num_points].

    Raises:
        ValueError: if the latent space is not two-dimensional, or for a bad grid
            (see `latent_grid`).

    #### Examples

    ```python
    import cs109b_bayes as cb
    canvas, grid = cb.vae.decode_manifold(vae, num_points=15)
    cb.plotting.plot_manifold(canvas, grid)
    ```
    """
    if model.latent_dim != 2:
        raise ValueError(f"decode_manifold needs a 2-D latent space, got latent_dim={model.latent_dim}")
    grid = latent_grid(num_points, low=low, high=high)
    z1, z2 = np.meshgrid(grid, grid[::-1])
    z = np.stack([z1.ravel(), z2.ravel()], axis=1)
    height, width = image_shape
    means = np.asarray(model.decode_means(z)).reshape(num_points, num_points, height, width)
    canvas = means.transpose(0, 2, 1, 3).reshape(num_points * height, num_points * width)
    return canvas, grid
