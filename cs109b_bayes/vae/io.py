"""`save` and `load`: a model made by `build_vae` / `build_ae` as `architecture.json` plus `weights.h5`.

#### Examples

```python
import cs109b_bayes as cb
folder = cb.vae.save(vae, "build/vae_lab10")
same = cb.vae.load(folder)
```
"""

import json
import pathlib

from cs109b_bayes.vae.builders import build_ae, build_vae

__all__ = ["load", "save"]


def save(model, path):
    """Save a model made by `build_vae` / `build_ae`: `path/architecture.json` + weights.

    Args:
        model: a `VAE` or `AE` from `build_vae` or `build_ae`.
        path: a folder (created if needed).

    Returns:
        The folder as a `pathlib.Path`.

    Raises:
        ValueError: for a model not made by a builder (its architecture is unknown).

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.vae.save(vae, "build/vae_lab10")
    same = cb.vae.load("build/vae_lab10")
    ```
    """
    if getattr(model, "architecture", None) is None:
        raise ValueError("save needs a model made by cb.vae.build_vae or cb.vae.build_ae")
    folder = pathlib.Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "architecture.json").write_text(json.dumps(dict(model.architecture), indent=1), encoding="utf-8")
    model.save_weights(str(folder / "weights.h5"))
    return folder


def load(path):
    """Rebuild a model saved by `save` and restore its weights.

    Args:
        path: the folder given to `save`.

    Returns:
        The `VAE` or `AE`.

    Raises:
        FileNotFoundError: if the folder lacks `architecture.json` or `weights.h5`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.load("build/vae_lab10")
    ```
    """
    folder = pathlib.Path(path)
    for name in ("architecture.json", "weights.h5"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder / name} is missing; was the model saved with cb.vae.save?")
    architecture = json.loads((folder / "architecture.json").read_text(encoding="utf-8"))
    kind = architecture.pop("kind")
    model = build_vae(**architecture) if kind == "vae" else build_ae(**architecture)
    model.load_weights(str(folder / "weights.h5"))
    return model
