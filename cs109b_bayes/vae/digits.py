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

__all__ = ["classify_digits", "digit_classifier", "latent_knn_accuracy", "manifold_classes"]


def digit_classifier(images, labels, *, regularization=0.05, max_iter=100, seed=0):
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
        max_iter: iterations of the solver (it stops there without a warning: the
            classifier only has to name digits, not be optimal). Default value: 100.
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
    import warnings  # noqa: PLC0415

    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    seed = seeds.check_seed(seed)
    x = np.asarray(check_image_batch(images, np.shape(images)[-1] if np.ndim(images) == 2 else 784),
                   dtype=np.float64)
    y = np.asarray(labels).astype(int).ravel()
    if len(y) != len(x):
        raise ValueError(f"got {len(x)} images but {len(y)} labels")
    if not regularization > 0:
        raise ValueError(f"regularization must be > 0, got {regularization}")
    classifier = LogisticRegression(C=float(regularization), max_iter=int(max_iter), tol=1e-3,
                                    random_state=seeds.sub_seed(seed, "digit classifier") % 2**31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
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
    x = np.asarray(check_image_batch(x, int(getattr(classifier, "n_features_in_", 784))), dtype=np.float64)
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


def latent_knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, num_neighbors=10):
    """How separable the classes are in a code space: k-nearest-neighbour accuracy on held-out codes.

    A k-NN classifier (Euclidean distance, scikit-learn) is fitted on the training codes and
    their labels and scored on the test codes. High accuracy means each class occupies its
    own region; chance is about 1 / (number of classes).

    Args:
        train_codes: float array [n, d].
        train_labels: int array [n].
        test_codes: float array [m, d].
        test_labels: int array [m].
        num_neighbors: k, a positive int. Default value: 10.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: for codes and labels of different lengths, codes that are not 2-D
            arrays of the same width, or a non-positive `num_neighbors`.

    #### Examples

    ```python
    accuracy = cb.vae.digits.latent_knn_accuracy(vae.encode(x_train)[0], mnist.y,
                                                 vae.encode(x_test)[0], mnist.y_test)
    ```
    """
    from sklearn.neighbors import KNeighborsClassifier  # noqa: PLC0415

    train = np.asarray(train_codes, dtype=np.float64)
    test = np.asarray(test_codes, dtype=np.float64)
    y_train, y_test = np.asarray(train_labels).ravel(), np.asarray(test_labels).ravel()
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1]:
        raise ValueError(f"codes must be [n, d] arrays of one width, got {train.shape} and {test.shape}")
    if len(train) != len(y_train) or len(test) != len(y_test):
        raise ValueError("each code needs one label")
    if isinstance(num_neighbors, bool) or not isinstance(num_neighbors, (int, np.integer)) or num_neighbors <= 0:
        raise ValueError(f"num_neighbors must be a positive integer, got {num_neighbors!r}")
    knn = KNeighborsClassifier(n_neighbors=int(num_neighbors)).fit(train, y_train)
    return float(np.mean(knn.predict(test) == y_test))
