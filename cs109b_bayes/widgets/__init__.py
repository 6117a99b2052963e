"""Interactive exploration with ipywidgets: sliders in Jupyter, a static figure in headless runs.

* `core`: `explore(draw, controls=...)`, the one way every lab builds a widget.
* `mcmc`: the proposal-scale explorer of lab 02 (acceptance rate, trace, histogram).
* `hmc`: the step-size / leapfrog-steps explorer of lab 04 (a trajectory on a 2-D posterior).
* `vae`: the latent-point explorer of lab 10 (a point in latent space -> its decoded digit).

The lab explorers load on first use (`cb.widgets.mcmc`), so a numpy lab never imports TensorFlow.

#### Examples

```python
import cs109b_bayes as cb
panel = cb.widgets.explore(lambda scale: plot_chain(scale), controls={"scale": (0.1, 5.0, 0.1, 1.0)})
```
"""

import importlib

from cs109b_bayes.widgets.core import Explorer, explore

__all__ = ["Explorer", "explore", "hmc", "mcmc", "vae"]

_EXPLORERS = ("hmc", "mcmc", "vae")


def __getattr__(name):
    if name in _EXPLORERS:
        return importlib.import_module(f"cs109b_bayes.widgets.{name}")
    raise AttributeError(f"module 'cs109b_bayes.widgets' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPLORERS))
