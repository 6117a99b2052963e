"""Stan's windowed warm-up schedule, as a list of typed `Window`s.

Burn-in is cut into windows (Stan Reference Manual, "Automatic parameter
tuning"): an initial fast window (75 steps) adapts only the step size; slow
windows of 25, 50, 100, ... steps each end with a new mass matrix estimated
from that window's draws (the last one stretched to the start of the final
window, when the next doubled window would not fit); a terminal fast window (50
steps) tunes the step size to the final mass matrix. Burn-ins shorter than
75 + 25 + 50 = 150 steps use 15% / 75% / 10% (one slow window), and burn-ins
shorter than 20 steps, or runs without a mass matrix, adapt only the step size,
over one fast window. The windows are Stan's `windowed_adaptation` with one
deliberate difference: Stan never stretches its *first* slow window, so for
151-199 burn-in steps it follows the 25-step window with a short one (1 step at
151, 30 at 180) whose mass matrix comes from a handful of draws; here the first
window is stretched like any other (one slow window from step 75 to the
terminal window), so no slow window is shorter than its nominal size.
`tests/test_hmc_warmup.py` checks both against a line-by-line port of Stan's
code. Numbers only, no TensorFlow.

#### Examples

```python
from cs109b_bayes.inference.hmc.warmup import warmup_schedule
[(w.kind, w.length) for w in warmup_schedule(500)]
# [('fast', 75), ('slow', 25), ('slow', 50), ('slow', 100), ('slow', 200), ('fast', 50)]
```

#### References

[1] Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning".
    https://mc-stan.org/docs/reference-manual/mcmc.html
"""

import dataclasses

from cs109b_bayes.inference import validation

__all__ = ["INIT_BUFFER", "MIN_ADAPTED_BURNIN", "TERM_BUFFER", "BASE_WINDOW", "Window", "warmup_schedule"]

INIT_BUFFER = 75          # Stan's adapt_init_buffer
TERM_BUFFER = 50          # Stan's adapt_term_buffer
BASE_WINDOW = 25          # Stan's adapt_window
MIN_ADAPTED_BURNIN = 20   # below this Stan adapts no metric


@dataclasses.dataclass(frozen=True)
class Window:
    """One warm-up window: steps `start` to `start + length - 1` of the burn-in.

    Every window restarts step-size adaptation (dual averaging) at its first step.

    Attributes:
        kind: `"fast"` (adapts the step size only) or `"slow"` (also collects
            draws for the mass matrix).
        start: index of the window's first burn-in step.
        length: number of steps, at least 1.

    Raises:
        ValueError: for an unknown kind, a negative start or a length below 1.

    #### Examples

    ```python
    Window("slow", start=75, length=25).ends_with_metric_update   # True
    ```
    """

    kind: str
    start: int
    length: int

    def __post_init__(self):
        validation.check_choice("kind", self.kind, ("fast", "slow"))
        validation.check_count("start", self.start, minimum=0)
        validation.check_count("length", self.length, minimum=1)

    @property
    def end(self):
        """Index one past the window's last step."""
        return self.start + self.length

    @property
    def ends_with_metric_update(self):
        """True for slow windows: their draws set a new mass matrix when they end."""
        return self.kind == "slow"


def _slow_windows(start, size, end):
    """Slow windows from `start` to `end` (exclusive), each double the last, the last one stretched."""
    windows = []
    while start < end:
        if start + 3 * size > end:          # the next (doubled) window would not fit: stretch this one
            size = end - start
        windows.append(Window("slow", start, size))
        start, size = start + size, 2 * size
    return windows


def warmup_schedule(num_burnin_steps, *, adapt_metric=True):
    """Stan's warm-up windows for a burn-in of `num_burnin_steps` steps.

    Args:
        num_burnin_steps: burn-in steps per chain (0 gives no windows).
        adapt_metric: False for a unit mass matrix: one fast window over the whole
            burn-in. Default value: True.

    Returns:
        A list of `Window`s, contiguous from step 0 to `num_burnin_steps`.

    Raises:
        ValueError: if `num_burnin_steps` is not an integer >= 0.

    #### Examples

    ```python
    [(w.kind, w.start, w.length) for w in warmup_schedule(100)]
    # [('fast', 0, 15), ('slow', 15, 75), ('fast', 90, 10)]     (short burn-in: 15% / 75% / 10%)
    [w.length for w in warmup_schedule(1000)]
    # [75, 25, 50, 100, 200, 500, 50]
    ```
    """
    n = validation.check_count("num_burnin_steps", num_burnin_steps, minimum=0)
    if n == 0:
        return []
    if not adapt_metric or n < MIN_ADAPTED_BURNIN:
        return [Window("fast", 0, n)]
    init_buffer, term_buffer, base_window = INIT_BUFFER, TERM_BUFFER, BASE_WINDOW
    if init_buffer + base_window + term_buffer > n:
        init_buffer, term_buffer = int(0.15 * n), int(0.1 * n)      # Stan truncates to integers too
        base_window = n - init_buffer - term_buffer
    end = n - term_buffer
    return ([Window("fast", 0, init_buffer)]
            + _slow_windows(init_buffer, base_window, end)
            + [Window("fast", end, term_buffer)])
