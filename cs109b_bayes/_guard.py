"""Make sure TensorFlow uses Keras 2 (`tf_keras`), which TFP's layers need.

TensorFlow >= 2.16 ships Keras 3 as `tf.keras`, but TensorFlow Probability's
layers (`DenseFlipout`, `DenseReparameterization`, ...) are Keras 2 layers. This
module runs before anything imports TensorFlow and sets `TF_USE_LEGACY_KERAS=1`
so that `tf.keras` is `tf_keras`. If TensorFlow was already imported with
Keras 3 there is no way back in the same process, so we raise a clear error.
"""

import os
import sys

__all__ = ["ensure_legacy_keras"]

_FIX = (
        "cs109b_bayes needs Keras 2 (tf_keras) because TensorFlow Probability's "
        "layers are Keras 2 layers, but TensorFlow was imported before cs109b_bayes "
        "with Keras 3 as tf.keras. Fix: import cs109b_bayes before tensorflow (or set "
        "the environment variable TF_USE_LEGACY_KERAS=1 before starting Python), "
        "then restart the kernel."
)


def ensure_legacy_keras():
    """Set `TF_USE_LEGACY_KERAS=1`, or raise if Keras 3 is already in use.

    Returns:
        None.

    Raises:
        ImportError: if TensorFlow was imported earlier and its `tf.keras` is Keras 3.

    #### Examples

    ```python
    from cs109b_bayes._guard import ensure_legacy_keras
    ensure_legacy_keras()   # called for you by `import cs109b_bayes`
    ```
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return
    keras_module = getattr(tf, "keras", None)
    name = getattr(keras_module, "__name__", "")
    if not name.startswith("tf_keras"):
        raise ImportError(_FIX + f" (tf.keras is {name or 'unknown'!r})")
