"""Latent spaces and images: scatter by label, decoded manifold, image rows, loss curves."""

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_image_rows", "plot_latent_scatter", "plot_loss_curves", "plot_manifold", "plot_reconstructions"]


def _as_images(images, image_shape):
    images = np.asarray(images, dtype=float)
    height, width = image_shape
    if images.ndim == 2 and images.shape[1] == height * width:
        images = images.reshape(-1, height, width)
    if images.ndim != 3 or images.shape[1:] != (height, width):
        raise ValueError(f"images must be [n, {height * width}] or [n, {height}, {width}], got shape {images.shape}")
    return images


def plot_latent_scatter(codes, labels, *, ax=None, title=None, cmap="tab10", point_size=4, colorbar=True):
    """Scatter 2-D latent codes coloured by digit label, with a colorbar.

    Args:
        codes: array [n, 2] (for a VAE, the encoder means z_mean).
        labels: integer labels [n] (0-9 for MNIST).
        ax: axes to draw on. Default value: a new figure.
        title: axes title. Default value: None.
        cmap: colour map. Default value: "tab10".
        point_size: marker size. Default value: 4.
        colorbar: draw a colorbar with one tick per label. Default value: True.

    Returns:
        The matplotlib `Figure`.

    Raises:
        ValueError: if `codes` is not [n, 2] or `labels` has another length.

    #### Examples

    ```python
    z_mean, _ = vae.encode(x_test)
    cb.plotting.plot_latent_scatter(z_mean, mnist.y_test, title="VAE: z_mean of test digits")
    ```
    """
    codes = np.asarray(codes, dtype=float)
    labels = np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes must be [n, 2], got shape {codes.shape}")
    if labels.shape != (len(codes),):
        raise ValueError(f"labels must be [{len(codes)}], got shape {labels.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    fig = ax.figure
    classes = np.unique(labels)
    lo, hi = classes.min() - 0.5, classes.max() + 0.5
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=plt.get_cmap(cmap, len(classes)),
                        vmin=lo, vmax=hi, s=point_size, alpha=0.8)
    if colorbar:
        bar = fig.colorbar(points, ax=ax, ticks=classes)
        bar.set_label("digit")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    if title:
        ax.set_title(title)
    return fig


def plot_manifold(canvas, grid, *, ax=None, title=None):
    """Show a decoded latent grid (from `cb.vae.decode_manifold`) with z1, z2 tick labels.

    Args:
        canvas: array [num_points * height, num_points * width] of mean images.
        grid: the grid values [num_points] (z1 left to right, z2 bottom to top).
        ax: axes to draw on. Default value: a new figure.
        title: axes title. Default value: None.

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    canvas, grid = cb.vae.decode_manifold(vae, num_points=15)
    cb.plotting.plot_manifold(canvas, grid, title="decoded 15 x 15 manifold")
    ```
    """
    canvas = np.asarray(canvas, dtype=float)
    grid = np.asarray(grid, dtype=float)
    n = len(grid)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 8))
    fig = ax.figure
    ax.imshow(canvas, cmap="Greys_r", vmin=0.0, vmax=1.0)
    cell_h, cell_w = canvas.shape[0] / n, canvas.shape[1] / n
    ticks = np.arange(0, n, max(1, n // 7))
    ax.set_xticks(cell_w * (ticks + 0.5), [f"{grid[t]:.2f}" for t in ticks])
    ax.set_yticks(cell_h * (ticks + 0.5), [f"{grid[n - 1 - t]:.2f}" for t in ticks])
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    if title:
        ax.set_title(title)
    return fig


def plot_image_rows(rows, *, row_labels=None, title=None, image_shape=(28, 28), cell_size=1.0):
    """Draw rows of small grey images (inputs, reconstructions, interpolations, samples).

    Args:
        rows: a list of image arrays, each [num_images, height * width] or
            [num_images, height, width]; rows may have different lengths.
        row_labels: one label per row, shown on the left. Default value: None.
        title: figure title. Default value: None.
        image_shape: (height, width). Default value: (28, 28).
        cell_size: inches per image. Default value: 1.0.

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    cb.plotting.plot_image_rows([x_test[:8], recon[:8]], row_labels=["input", "VAE"])
    ```
    """
    rows = [_as_images(r, image_shape) for r in rows]
    num_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), num_cols, figsize=(cell_size * num_cols + 1.0, cell_size * len(rows) + 0.5),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j in range(num_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(row):
                ax.imshow(row[j], cmap="Greys_r", vmin=0.0, vmax=1.0)
            else:
                ax.axis("off")
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_reconstructions(originals, reconstructions, *, num_images=10, title=None, labels=("input", "reconstruction")):
    """Test images (top row) above their reconstructions (bottom row).

    Args:
        originals: images [n, 784] or [n, 28, 28].
        reconstructions: the decoder's mean images, same shape.
        num_images: how many to show. Default value: 10.
        title: figure title. Default value: None.
        labels: the two row labels. Default value: ("input", "reconstruction").

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    cb.plotting.plot_reconstructions(x_test[:10], vae.reconstruct(x_test[:10]).numpy())
    ```
    """
    return plot_image_rows([np.asarray(originals)[:num_images], np.asarray(reconstructions)[:num_images]],
                           row_labels=list(labels), title=title)


def plot_loss_curves(history, *, keys=None, ax=None, title=None, xlabel="epoch"):
    """Plot training curves (loss, reconstruction, KL, ...) from a history dict.

    Args:
        history: dict name -> list of values (`TrainResult.history`, Keras
            `History.history`, or your own loop's record).
        keys: which curves. Default value: every key.
        ax: axes to draw on. Default value: a new figure.
        title: axes title. Default value: None.
        xlabel: x-axis label. Default value: "epoch".

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    result = cb.vae.train(vae, x_train, epochs=20)
    cb.plotting.plot_loss_curves(result.history, title="negative ELBO per example (nats)")
    ```
    """
    keys = list(keys or history)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.5))
    fig = ax.figure
    for key in keys:
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=key, ls="--" if key.startswith("val_") else "-")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("nats per example")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
