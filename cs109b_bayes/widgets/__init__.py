"""Interactive exploration with ipywidgets: sliders in Jupyter, a static figure in headless runs.

* `core`: `explore(draw, controls=...)`, the one way every lab builds a widget.

Lab-specific explorers live beside it (`mcmc`, `vae`) and are built on `explore`.

#### Examples

```python
import cs109b_bayes as cb
panel = cb.widgets.explore(lambda scale: plot_chain(scale), controls={"scale": (0.1, 5.0, 0.1, 1.0)})
```
"""

from cs109b_bayes.widgets.core import Explorer, explore

__all__ = ["Explorer", "explore"]
