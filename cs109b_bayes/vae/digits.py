"""Name decoded images by digit class: a pixel classifier, and the classes a manifold or a batch shows.

The labs claim things like "the manifold shows every digit class" or "reconstructions keep
their class"; these functions measure such claims with a classifier trained on the labelled
digits (multinomial logistic regression on the 784 pixel values, scikit-learn).

#### Examples

```python
import cs109b_bayes as cb
mnist = cb.data.load_mnist()
classifier = cb.vae.digit_classifier(cb.vae.prepare_images(mnist.x), mnist.y, seed=0)
counts = cb.vae.manifold_classes(canvas, classifier)      # {digit: cells}
```
"""

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import check_image_batch

__all__ = ["classify_digits", "digit_classifier", "manifold_classes"]


def digit_classifier(images, labels, *, regularization=0.05, max_iter=300, seed=0):
    """A logistic-regression digit classifier on flattened images in [0, 1].

    Multinomial logistic regression on the raw pixels (L2 penalty): about 90% accuracy on
    held-out binarised MNIST digits, enough to name what a decoded image looks like.
    Decoded Bernoulli means are grey where the decoder is unsure; the classifier reads
    them as they are (pixel probabilities), like its binary training digits.

    Args:
        images: float array [n, 784] of pixel values in [0, 1].
        labels: int array [n] of digit classes 0-9.
        regularization: inverse strength `C` of the L2 penalty, a number > 0.
            Default value: 0.05.
        max_iter: iterations of the solver. Default value: 300.
        seed: int seed of the solver. Default value: 0.

    Returns:
        A fitted `sklearn.linear_model.LogisticRegression` (`predict` gives digit classes).

    Raises:
        ValueError: for images of the wrong shape, labels of another length, or a
            non-positive `regularization`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    classifier = cb.vae.digit_classifier(x_train, mnist.y, seed=0)
    print((classifier.predict(x_test) == mnist.y_test).mean())
    ```
    """
    from sklearn.linear_model import LogisticRegression

    seed = seeds.check_seed(seed)
    x = np.asarray(check_image_batch(images, None), dtype=np.float64)
    y = np.asarray(labels).astype(int).ravel()
    if len(y) != len(x):
        raise ValueError(f"got {len(x)} images but {len(y)} labels")
    if not regularization > 0:
        raise ValueError(f"regularization must be > 0, got {regularization}")
    classifier = LogisticRegression(C=float(regularization), max_iter=int(max_iter),
                                    random_state=seeds.sub_seed(seed, "digit classifier") % 2**31)
    return classifier.fit(x, y)


def classify_digits(images, classifier):
    """The digit class the classifier sees in each image.

    Args:
        images: float array [n, 784] (or [n, 28, 28]) of pixel values in [0, 1].
        classifier: a fitted classifier with `predict` (see `digit_classifier`).

    Returns:
        An int array [n].

    Raises:
        ValueError: for images that are not a batch of 784-pixel images.

    #### Examples

    ```python
    predicted = cb.vae.classify_digits(vae.reconstruct(x_test[:100]).numpy(), classifier)
    ```
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 3:
        x = x.reshape(len(x), -1)
    x = np.asarray(check_image_batch(x, None), dtype=np.float64)
    return np.asarray(classifier.predict(x)).astype(int)


def manifold_classes(canvas, classifier, *, image_shape=(28, 28)):
    """How many cells of a decoded manifold canvas the classifier puts in each digit class.

    Args:
        canvas: float array [k * height, k * width] from `decode_manifold`.
        classifier: a fitted classifier with `predict` (see `digit_classifier`).
        image_shape: (height, width) of one cell. Default value: (28, 28).

    Returns:
        A dict {digit: number of cells}, only the classes that occur, sorted by digit.

    Raises:
        ValueError: if the canvas is not a whole number of cells.

    #### Examples

    ```python
    canvas, grid = cb.vae.decode_manifold(vae)
    counts = cb.vae.manifold_classes(canvas, classifier)
    print(f"{len(counts)} of 10 digit classes on the manifold")
    ```
    """
    canvas = np.asarray(canvas, dtype=np.float64)
    height, width = image_shape
    if canvas.ndim != 2 or canvas.shape[0] % height or canvas.shape[1] % width:
        raise ValueError(f"canvas of shape {canvas.shape} is not a grid of {height} x {width} cells")
    rows, cols = canvas.shape[0] // height, canvas.shape[1] // width
    cells = canvas.reshape(rows, height, cols, width).transpose(0, 2, 1, 3).reshape(rows * cols, height * width)
    predicted = classify_digits(cells, classifier)
    digits, counts = np.unique(predicted, return_counts=True)
    return {int(d): int(c) for d, c in zip(digits, counts)}
