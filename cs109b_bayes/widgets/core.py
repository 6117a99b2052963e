"""`explore`: one function that turns a drawing function into sliders (or a static figure).

`draw(**values)` draws into a fresh figure (and may return numbers it shows, for tests). In a
Jupyter notebook with a person at it, `explore` shows ipywidgets sliders and redraws on every
change; in a headless run (`CS109B_HEADLESS=1`: `cs109b-bayes run`, the grader, the tests) it
draws once with the default values, so executed notebooks still show the figure.

#### Examples

```python
import cs109b_bayes as cb

def draw(scale):
    ...                       # draw with matplotlib for this scale
    return {"acceptance": 0.3}

panel = cb.widgets.explore(draw, controls={"scale": (0.1, 5.0, 0.1, 1.0)})
panel.set(scale=2.0)          # what moving the slider does; returns draw's result
```
"""

import dataclasses
import numbers
import os

__all__ = ["Explorer", "explore"]


def _slider(name, spec):
    import ipywidgets  # noqa: PLC0415

    if isinstance(spec, (list, tuple)) and len(spec) == 4 and all(isinstance(v, numbers.Real) for v in spec):
        low, high, step, value = spec
        if not low <= value <= high or step <= 0:
            raise ValueError(f"control {name!r}: need low <= value <= high and step > 0, got {spec}")
        if all(isinstance(v, numbers.Integral) for v in spec):
            return ipywidgets.IntSlider(value=value, min=low, max=high, step=step, description=name,
                                        continuous_update=False)
        return ipywidgets.FloatSlider(value=value, min=low, max=high, step=step, description=name,
                                      continuous_update=False, readout_format=".3g")
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(v, str) for v in spec):
        return ipywidgets.Dropdown(options=list(spec), value=spec[0], description=name)
    raise ValueError(f"control {name!r} must be (low, high, step, value) or a list of options, got {spec!r}")


def _default(spec):
    return spec[3] if all(isinstance(v, numbers.Real) for v in spec) else spec[0]


@dataclasses.dataclass
class Explorer:
    """What `explore` returns: the controls, the last drawn values and the drawing's result.

    Attributes:
        draw: the drawing function.
        values: the current value of each control.
        result: what `draw` returned for `values`.
        widget: the ipywidgets box (None in headless runs).
    """

    draw: object
    values: dict
    result: object = None
    widget: object = None
    _output: object = None

    def set(self, **values):
        """Move controls (as a student would) and redraw; returns the drawing's result.

        Raises:
            ValueError: for a control this explorer does not have.
        """
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; this explorer has {sorted(self.values)}")
        if self.widget is not None:
            for control in self.widget.children[:-1]:
                if control.description in values:
                    control.value = values[control.description]   # triggers _redraw
            return self.result
        self.values.update(values)
        return self._redraw()

    def _redraw(self, *_):
        import matplotlib.pyplot as plt  # noqa: PLC0415

        if self.widget is not None:
            self.values = {c.description: c.value for c in self.widget.children[:-1]}
            with self._output:
                self._output.clear_output(wait=True)
                self.result = self.draw(**self.values)
                plt.show()
        else:
            self.result = self.draw(**self.values)
        return self.result

    def _ipython_display_(self):
        from IPython.display import display  # noqa: PLC0415

        if self.widget is not None:
            display(self.widget)


def explore(draw, *, controls, interactive=None):
    """Sliders that redraw `draw(**values)` in Jupyter; one static drawing in headless runs.

    Args:
        draw: a function of the controls' values that draws a matplotlib figure (and may
            return numbers, e.g. an acceptance rate, for display or tests).
        controls: name -> `(low, high, step, value)` for a slider (ints give an integer
            slider) or a list of strings for a drop-down (the first is the default).
        interactive: True for widgets, False for one static drawing, None to decide: widgets
            unless `CS109B_HEADLESS` is set. Default value: None.

    Returns:
        An `Explorer` (it displays its widgets in Jupyter).

    Raises:
        ValueError: for a malformed control, or no controls.
        TypeError: if `draw` is not callable.

    #### Examples

    ```python
    panel = cb.widgets.explore(lambda n: plt.plot(range(n)), controls={"n": (1, 10, 1, 5)})
    ```
    """
    if not callable(draw):
        raise TypeError(f"draw must be callable, got {type(draw).__name__}")
    if not controls:
        raise ValueError("explore needs at least one control")
    if interactive is None:
        interactive = os.environ.get("CS109B_HEADLESS", "0") in ("", "0", "false", "False")
    if not interactive:
        for name, spec in controls.items():
            if not isinstance(spec, (list, tuple)) or not spec:
                raise ValueError(f"control {name!r} must be (low, high, step, value) or a list of options")
        explorer = Explorer(draw, {name: _default(spec) for name, spec in controls.items()})
        explorer._redraw()
        return explorer
    import ipywidgets  # noqa: PLC0415

    sliders = [_slider(name, spec) for name, spec in controls.items()]
    output = ipywidgets.Output()
    box = ipywidgets.VBox([*sliders, output])
    explorer = Explorer(draw, {s.description: s.value for s in sliders}, widget=box, _output=output)
    for slider in sliders:
        slider.observe(explorer._redraw, names="value")
    explorer._redraw()
    return explorer
