"""Out-of-distribution image sets for a digit density model: noise, inverted, shifted, near-blank, other digits.

Every set is built from in-distribution digits (or from a seeded generator) and returned the
way a VAE's training data is prepared: flattened to [n, 784] and binarised with
`prepare_images` (pixel > 0.5 of its [0, 1] intensity). The "other source" is scikit-learn's
bundled 8x8 `load_digits` (offline, no download), each image's intensities scaled to [0, 1]
and upscaled by linear interpolation to 20x20 inside a 28x28 frame, as MNIST centres its
digits in a 20x20 box.

#### Examples

```python
import cs109b_bayes as cb
mnist = cb.data.load_mnist()
sets = cb.vae.out_of_distribution_sets(mnist.x_test[:500], seed=0)
sorted(sets)      # ['inverted', 'near-blank', 'noise', 'other digits (8x8 upscaled)', 'shifted']
```
"""

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import positive_int
from cs109b_bayes.vae.images import prepare_images

__all__ = ["OOD_SETS", "out_of_distribution_sets", "upscaled_sklearn_digits"]

#: The names of the sets `out_of_distribution_sets` returns, in its order.
OOD_SETS = ("noise", "inverted", "shifted", "near-blank", "other digits (8x8 upscaled)")


def upscaled_sklearn_digits(num_images, *, seed=0):
    """scikit-learn's 8x8 digits (offline) as 28x28 intensities in [0, 1], MNIST-like framing.

    Each 8x8 image (values 0..16) is divided by 16, upscaled by linear interpolation to 20x20
    and padded with 4 black pixels on every side. Images are drawn without replacement by a
    seeded permutation of the 1,797 bundled digits.

    Args:
        num_images: how many, at most 1,797.
        seed: int seed of the choice. Default value: 0.

    Returns:
        `(images, labels)`: float32 [num_images, 28, 28] in [0, 1], int labels [num_images].

    Raises:
        ValueError: for a `num_images` that is not in [1, 1797].
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    images, labels = cb.vae.ood.upscaled_sklearn_digits(100, seed=0)
    images.shape        # (100, 28, 28)
    ```
    """
    from scipy import ndimage  # noqa: PLC0415
    from sklearn.datasets import load_digits  # noqa: PLC0415

    num_images = positive_int("num_images", num_images)
    bundled = load_digits()
    if num_images > len(bundled.images):
        raise ValueError(f"num_images must be at most {len(bundled.images)}, got {num_images}")
    order = seeds.numpy_rng(seeds.check_seed(seed), "sklearn digits").permutation(len(bundled.images))[:num_images]
    small = bundled.images[order] / 16.0
    big = np.stack([ndimage.zoom(image, 2.5, order=1) for image in small])      # [n, 20, 20]
    framed = np.pad(np.clip(big, 0.0, 1.0), ((0, 0), (4, 4), (4, 4)))
    return framed.astype(np.float32), bundled.target[order]


def _shift(images, shift):
    """Translate each image by `shift` pixels right and down, filling with black (no wrap-around)."""
    moved = np.zeros_like(images)
    moved[:, shift:, shift:] = images[:, :28 - shift, :28 - shift]
    return moved


def out_of_distribution_sets(digits, *, shift=6, near_blank_rate=0.01, seed=0):
    """Out-of-distribution versions of held-out digits, binarised and flattened like the training data.

    Five sets of n images each (n = len(digits)): "noise" (independent uniform [0, 1] pixels,
    so about half are on after binarising), "inverted" (1 - intensity), "shifted" (each digit
    moved `shift` pixels right and down, black fill), "near-blank" (black images with each
    pixel on with probability `near_blank_rate`: a few scattered dots) and
    "other digits (8x8 upscaled)" (`upscaled_sklearn_digits`, at most 1,797 images).

    Args:
        digits: in-distribution images [n, 28, 28] (uint8 in [0, 255] or floats in [0, 1]), e.g.
            `load_mnist().x_test`, not yet binarised.
        shift: pixels of the translation, in [1, 27]. Default value: 6.
        near_blank_rate: probability of an on-pixel in "near-blank", in [0, 1). Default value: 0.01.
        seed: int seed of the random sets. Default value: 0.

    Returns:
        A dict name -> float32 array [n, 784] of 0.0 / 1.0, in the order of `OOD_SETS`.

    Raises:
        ValueError: for digits that are not [n, 28, 28] images, a bad `shift` or `near_blank_rate`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    sets = cb.vae.out_of_distribution_sets(mnist.x_test[:500], seed=0)
    {name: images.sum(axis=1).mean() for name, images in sets.items()}   # on-pixels per image
    ```
    """
    seed = seeds.check_seed(seed)
    grey = prepare_images(digits, binarize=False).reshape(-1, 28, 28)
    shift = positive_int("shift", shift)
    if shift > 27:
        raise ValueError(f"shift must be in [1, 27], got {shift}")
    if not 0.0 <= near_blank_rate < 1.0:
        raise ValueError(f"near_blank_rate must be in [0, 1), got {near_blank_rate!r}")
    n = len(grey)
    noise = seeds.numpy_rng(seed, "ood noise").uniform(size=grey.shape)
    dots = (seeds.numpy_rng(seed, "ood near-blank").uniform(size=grey.shape) < near_blank_rate).astype(np.float32)
    other, _ = upscaled_sklearn_digits(min(n, 1797), seed=seed)
    grey_sets = {"noise": noise, "inverted": 1.0 - grey, "shifted": _shift(grey, shift),
                 "near-blank": dots, "other digits (8x8 upscaled)": other}
    return {name: prepare_images(grey_sets[name].astype(np.float32)) for name in OOD_SETS}
