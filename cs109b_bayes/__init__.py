"""cs109b_bayes: Bayesian deep learning labs with TensorFlow Probability.

Importing the package first makes TensorFlow use Keras 2 (`tf_keras`), which
TFP's layers need; see `cs109b_bayes._guard`.

#### Examples

```python
import cs109b_bayes as cb
data = cb.data.advertising()
result = cb.metropolis(log_prob_fn, {"beta0": 7.0, "beta1": 0.05},
                       proposal_scale=0.05, num_steps=5000, seed=1)
print(result.summary())
```
"""

from cs109b_bayes._guard import ensure_legacy_keras

ensure_legacy_keras()

from cs109b_bayes import quiet  # noqa: E402

quiet.install()   # TensorFlow's log lines stay out of notebooks

import os as _os  # noqa: E402

import importlib as _importlib  # noqa: E402

import sys as _sys  # noqa: E402

from cs109b_bayes.inference import MCMCResult, bootstrap, diagnostics, metropolis, sample_hmc, sample_sgld  # noqa: E402

# `cb.diagnostics` lives in `cs109b_bayes.inference.diagnostics`; the old module path
# `cs109b_bayes.diagnostics` stays importable (`from cs109b_bayes.diagnostics import ...`).
_sys.modules["cs109b_bayes.diagnostics"] = diagnostics

from cs109b_bayes import data, grading, models, plotting, predictive, progress, seeds  # noqa: E402
from cs109b_bayes.grading import check, hint, ready  # noqa: E402

# Modules that build TensorFlow models load on first use (`cb.bnn`, `cb.vae`, ...), so the
# numpy labs and the command line start without importing TensorFlow.
_LAZY_MODULES = ("active", "bnn", "metrics", "vae", "variational", "widgets")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return _importlib.import_module(f"cs109b_bayes.{name}")
    raise AttributeError(f"module 'cs109b_bayes' has no attribute {name!r}")


def __dir__():
    # Tab completion shows the lazily loaded modules too.
    return sorted(set(globals()) | set(_LAZY_MODULES))

__version__ = "0.1.0"

__all__ = [
    "MCMCResult",
    "active",
    "bnn",
    "bootstrap",
    "check",
    "data",
    "diagnostics",
    "fast_mode",
    "grading",
    "hint",
    "metrics",
    "metropolis",
    "models",
    "plotting",
    "predictive",
    "progress",
    "quiet",
    "ready",
    "sample_hmc",
    "sample_sgld",
    "seeds",
    "variational",
    "vae",
    "widgets",
]


def fast_mode():
    """True when `CS109B_FAST=1`: labs shrink chains, epochs and data.

    #### Examples

    ```python
    import cs109b_bayes as cb
    NUM_STEPS = 2_000 if cb.fast_mode() else 20_000
    ```
    """
    return _os.environ.get("CS109B_FAST", "0") not in ("", "0", "false", "False")
