"""`latent_explorer`: pick a point of a VAE's 2-D latent space with two sliders and see its decoded digit.

#### Examples

```python
from cs109b_bayes.widgets.vae import latent_explorer
panel = latent_explorer(vae, codes=z_mean, labels=mnist.y_test)
panel.set(z1=1.5, z2=-0.5)          # what dragging the sliders does
```
"""

import numpy as np

from cs109b_bayes.widgets.core import explore

__all__ = ["latent_explorer"]


def latent_explorer(model, *, codes=None, labels=None, classifier=None, limit=3.0, step=0.1,
                    start=(0.0, 0.0), image_shape=(28, 28), interactive=None):
    """Two sliders (z1, z2) -> the point in the latent space and the digit the decoder draws there.

    Left: the latent codes (e.g. the test digits' encoder means, coloured by label) and a
    cross at the chosen point; right: the decoder's mean image at that point. In headless
    runs one static figure at `start` is drawn.

    Args:
        model: a `VAE` or `AE` with a 2-D latent space (`decode_means`, `latent_dim`).
        codes: float array [n, 2] of latent codes to show as a backdrop, or None. Default value: None.
        labels: int array [n] of their classes (colours), or None. Default value: None.
        classifier: a fitted digit classifier (`cb.vae.digits.digit_classifier`) whose
            reading of the decoded image is shown in the title, or None. Default value: None.
        limit: the sliders run from -limit to limit, a number > 0. Default value: 3.0.
        step: slider step, a number > 0. Default value: 0.1.
        start: the first point (z1, z2). Default value: (0.0, 0.0).
        image_shape: (height, width) of the decoded image. Default value: (28, 28).
        interactive: True for sliders, False for one static figure, None to decide (see
            `cb.widgets.explore`). Default value: None.

    Returns:
        An `Explorer`; each drawing returns a dict with `z` (the point, [2]), `image`
        (the decoded mean image [height, width]) and `digit` (the classifier's class, or None).

    Raises:
        ValueError: if the model's latent space is not two-dimensional, `limit` or `step`
            is not positive, or `codes` is not [n, 2] / `labels` not [n].

    #### Examples

    ```python
    panel = latent_explorer(vae, codes=z_mean, labels=mnist.y_test, classifier=classifier)
    panel.set(z1=-1.0)["digit"]
    ```
    """
    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim != 2:
        raise ValueError(f"latent_explorer needs a 2-D latent space, got latent_dim={latent_dim}")
    if not (limit > 0 and step > 0):
        raise ValueError(f"limit and step must be > 0, got limit={limit}, step={step}")
    if codes is not None:
        codes = np.asarray(codes, dtype=float)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(f"codes must have shape [n, 2], got {codes.shape}")
        if labels is not None and np.shape(labels) != (len(codes),):
            raise ValueError(f"labels must have shape [{len(codes)}], got {np.shape(labels)}")

    def draw(z1, z2):
        import matplotlib.pyplot as plt  # noqa: PLC0415

        z = np.array([z1, z2], dtype=np.float32)
        image = np.asarray(model.decode_means(z[None])).reshape(image_shape)
        digit = None
        if classifier is not None:
            digit = int(np.asarray(classifier.predict(image.reshape(1, -1).astype(np.float64)))[0])
        fig, (ax_codes, ax_image) = plt.subplots(1, 2, figsize=(8.5, 4))
        if codes is not None:
            ax_codes.scatter(codes[:, 0], codes[:, 1], c=labels if labels is not None else "0.6",
                             cmap="tab10", vmin=-0.5, vmax=9.5, s=4)
        ax_codes.plot([z1], [z2], "kx", markersize=14, markeredgewidth=3)
        ax_codes.set_xlim(-limit, limit)
        ax_codes.set_ylim(-limit, limit)
        ax_codes.set_xlabel("z1")
        ax_codes.set_ylabel("z2")
        ax_codes.set_title("latent space: the chosen point (x)")
        ax_image.imshow(image, cmap="Greys_r", vmin=0.0, vmax=1.0)
        ax_image.set_xticks([])
        ax_image.set_yticks([])
        seen = "" if digit is None else f"; the classifier reads a {digit}"
        ax_image.set_title(f"decoded mean at z = ({z1:.1f}, {z2:.1f}){seen}", fontsize=10)
        fig.tight_layout()
        return {"z": z, "image": image, "digit": digit}

    slider = (-float(limit), float(limit), float(step))
    return explore(draw, controls={"z1": (*slider, float(start[0])), "z2": (*slider, float(start[1]))},
                   interactive=interactive)
