"""Stan's windowed warm-up schedule, against a line-by-line port of Stan's own code."""

import pytest

from cs109b_bayes.inference.hmc.warmup import Window, warmup_schedule


def stan_windows(num_warmup, init_buffer=75, term_buffer=50, base_window=25):
    """A literal port of stan/mcmc/windowed_adaptation.hpp: (kind, start, length) per window.

    Stan counts iterations; at each one `adaptation_window()` says whether the draw feeds the
    metric estimate and `end_adaptation_window()` whether the metric is updated after it (then
    `compute_next_window()`). We record the iterations at which windows end.
    """
    if num_warmup < 20:
        return [("fast", 0, num_warmup)] if num_warmup else []
    if init_buffer + base_window + term_buffer > num_warmup:
        init_buffer = int(0.15 * num_warmup)
        term_buffer = int(0.1 * num_warmup)
        base_window = num_warmup - (init_buffer + term_buffer)
    window_size = base_window
    next_window = init_buffer + window_size - 1
    ends, collected = [], []
    for counter in range(num_warmup):
        if init_buffer <= counter < num_warmup - term_buffer and counter != num_warmup:   # adaptation_window
            collected.append(counter)
        if counter == next_window and counter != num_warmup:                              # end_adaptation_window
            ends.append(counter)
            # compute_next_window
            if next_window == num_warmup - term_buffer - 1:
                continue
            window_size *= 2
            next_window = counter + window_size
            if next_window == num_warmup - term_buffer - 1:
                continue
            if next_window + 2 * window_size >= num_warmup - term_buffer:
                next_window = num_warmup - term_buffer - 1
    windows = [("fast", 0, init_buffer)]
    start = init_buffer
    for end in ends:
        windows.append(("slow", start, end - start + 1))
        start = end + 1
    assert collected == list(range(init_buffer, start))      # every collected draw is in a window
    windows.append(("fast", start, num_warmup - start))
    return windows


def as_tuples(windows):
    return [(w.kind, w.start, w.length) for w in windows]


@pytest.mark.parametrize("num_burnin_steps, expected", [
    (20, [("fast", 0, 3), ("slow", 3, 15), ("fast", 18, 2)]),              # short: 15% / 75% / 10%
    (100, [("fast", 0, 15), ("slow", 15, 75), ("fast", 90, 10)]),
    (150, [("fast", 0, 75), ("slow", 75, 25), ("fast", 100, 50)]),
    (500, [("fast", 0, 75), ("slow", 75, 25), ("slow", 100, 50), ("slow", 150, 100), ("slow", 250, 200),
           ("fast", 450, 50)]),
    (1000, [("fast", 0, 75), ("slow", 75, 25), ("slow", 100, 50), ("slow", 150, 100), ("slow", 250, 200),
            ("slow", 450, 500), ("fast", 950, 50)]),
    (1999, [("fast", 0, 75), ("slow", 75, 25), ("slow", 100, 50), ("slow", 150, 100), ("slow", 250, 200),
            ("slow", 450, 400), ("slow", 850, 1099), ("fast", 1949, 50)]),
])
def test_schedule_matches_stan_for_typical_lengths(num_burnin_steps, expected):
    assert as_tuples(warmup_schedule(num_burnin_steps)) == expected
    assert stan_windows(num_burnin_steps) == expected


def test_schedule_matches_the_stan_port_for_every_length_up_to_3000():
    """Identical to Stan except for 151-199 steps, where Stan's second slow window is cut short."""
    for n in range(3001):
        ours, stan = as_tuples(warmup_schedule(n)), stan_windows(n)
        if 151 <= n <= 199:
            # Stan: 25-step window, then a window of n - 150 < 50 steps (1 step at n = 151).
            assert stan[1:3] == [("slow", 75, 25), ("slow", 100, n - 150)], n
            # Ours stretches the first slow window instead: no slow window shorter than 25.
            assert ours == [("fast", 0, 75), ("slow", 75, n - 125), ("fast", n - 50, 50)], n
        else:
            assert ours == stan, n


@pytest.mark.parametrize("num_burnin_steps", [1, 19, 20, 149, 150, 151, 180, 777, 2500])
def test_windows_are_contiguous_and_slow_windows_never_shrink(num_burnin_steps):
    windows = warmup_schedule(num_burnin_steps)
    assert windows[0].start == 0 and windows[-1].end == num_burnin_steps
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))
    slow = [w.length for w in windows if w.kind == "slow"]
    assert all(later >= earlier for earlier, later in zip(slow, slow[1:]))
    assert all(w.ends_with_metric_update == (w.kind == "slow") for w in windows)


def test_short_or_unadapted_burn_in_is_one_fast_window():
    assert warmup_schedule(0) == []
    assert as_tuples(warmup_schedule(19)) == [("fast", 0, 19)]            # Stan: no metric below 20
    assert as_tuples(warmup_schedule(1000, adapt_metric=False)) == [("fast", 0, 1000)]
    assert not any(w.ends_with_metric_update for w in warmup_schedule(1000, adapt_metric=False))


def test_window_is_a_frozen_checked_dataclass():
    window = Window("slow", start=75, length=25)
    assert window.end == 100 and window.ends_with_metric_update
    assert not Window("fast", 0, 75).ends_with_metric_update
    with pytest.raises(Exception):
        window.length = 3
    with pytest.raises(ValueError, match="kind"):
        Window("medium", 0, 5)
    with pytest.raises(ValueError, match="length"):
        Window("fast", 0, 0)
    with pytest.raises(ValueError, match="start"):
        Window("fast", -1, 5)


@pytest.mark.parametrize("bad", [-1, 2.5, "100", True])
def test_schedule_rejects_bad_lengths(bad):
    with pytest.raises(ValueError, match="num_burnin_steps"):
        warmup_schedule(bad)
