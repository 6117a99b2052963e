"""Progress bars for long work: shown in Jupyter, quiet in headless runs and tests.

Samplers (`cb.sample_hmc`), trainers (`cb.bnn.fit`, `cb.vae.train`) and long loops in the labs take
`progress=None`, which means "decide for me": a bar in a Jupyter notebook that a person is
looking at, nothing when `CS109B_HEADLESS=1` (set by `cs109b-bayes run`, the grader and the
tests) or outside a notebook without a terminal. `progress=True` / `False` force it either way.

#### Examples

```python
import cs109b_bayes as cb
with cb.progress.bar(total=100, desc="resamples", progress=None) as bar:
    for _ in range(100):
        ...
        bar.update(1)
```
"""

import contextlib
import os
import sys

__all__ = ["bar", "enabled", "iterate"]

_OFF = ("", "0", "false", "False")


def _in_notebook():
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def enabled(progress=None):
    """Whether to show a progress bar.

    Args:
        progress: True or False to decide, None to decide from the environment: off when
            `CS109B_HEADLESS` is set, on in a Jupyter kernel or when stderr is a terminal.
            Default value: `None`.

    Returns:
        A bool.

    Raises:
        TypeError: if `progress` is not None or a bool.

    #### Examples

    ```python
    cb.progress.enabled(True)    # True
    cb.progress.enabled()        # True in a notebook, False in `cs109b-bayes run`
    ```
    """
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be True, False or None, got {progress!r}")
        return progress
    if os.environ.get("CS109B_HEADLESS", "0") not in _OFF:
        return False
    return _in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Silent:
    """Stands in for a tqdm bar when progress is off."""

    n = 0

    def update(self, count=1):
        self.n += count

    def set_postfix_str(self, text, refresh=True):
        pass

    def set_description(self, text, refresh=True):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def bar(*, total, desc, unit="it", progress=None):
    """A tqdm progress bar (or a silent stand-in) as a context manager.

    Args:
        total: the number of units of work.
        desc: a few words shown before the bar.
        unit: what one unit is ("step", "epoch", ...). Default value: `"it"`.
        progress: see `enabled`. Default value: `None`.

    Yields:
        An object with `update(n)`, `set_postfix_str(text)` and `set_description(text)`.

    Raises:
        TypeError: if `progress` is not None or a bool.

    #### Examples

    ```python
    with cb.progress.bar(total=3, desc="chains", unit="chain", progress=True) as b:
        for _ in range(3):
            b.update(1)
    ```
    """
    if not enabled(progress):
        yield _Silent()
        return
    from tqdm.auto import tqdm  # noqa: PLC0415  (loads ipywidgets in a notebook)

    handle = tqdm(total=total, desc=desc, unit=unit, leave=True)
    try:
        yield handle
    finally:
        handle.close()


def iterate(items, *, desc, unit="it", progress=None):
    """Iterate over `items` with a progress bar (see `bar`).

    Args:
        items: a sized iterable (a list, a range, ...).
        desc: a few words shown before the bar.
        unit: what one item is. Default value: `"it"`.
        progress: see `enabled`. Default value: `None`.

    Yields:
        The items, one by one.

    Raises:
        TypeError: if `progress` is not None or a bool.

    #### Examples

    ```python
    for scale in cb.progress.iterate([0.2, 1.0, 5.0], desc="proposal scales"):
        ...
    ```
    """
    items = list(items)
    with bar(total=len(items), desc=desc, unit=unit, progress=progress) as handle:
        for item in items:
            yield item
            handle.update(1)
