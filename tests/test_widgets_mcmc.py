"""The lab 02 proposal-scale explorer: moving the slider changes what the chain does."""

import matplotlib
import numpy as np
import pytest

from cs109b_bayes.widgets import mcmc

matplotlib.use("Agg")


def _standard_normal(mu):
    return -0.5 * mu**2


def test_acceptance_falls_as_the_proposal_scale_grows(seed):
    panel = mcmc.proposal_scale_explorer(_standard_normal, {"mu": 0.0}, seed=seed, num_steps=2000,
                                         interactive=False)
    rates = [panel.set(proposal_scale=s)["acceptance_rate"] for s in (0.1, 1.0, 8.0)]
    assert rates[0] > 0.9 and rates[2] < 0.3, rates   # N(0,1): tiny steps almost always, huge ones rarely
    assert rates[0] > rates[1] > rates[2], rates
    assert panel.values == {"proposal_scale": 8.0}


def test_the_drawing_shows_the_trace_histogram_and_reference(seed):
    import matplotlib.pyplot as plt

    plt.close("all")
    grid_seen = []

    def density(grid):
        grid_seen.append(grid)
        return np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi)

    panel = mcmc.proposal_scale_explorer(_standard_normal, {"mu": 0.0}, seed=seed, num_steps=500,
                                         reference=density, interactive=False)
    fig = plt.gcf()
    trace_ax, hist_ax = fig.axes
    assert len(trace_ax.lines[0].get_ydata()) == 500 - int(0.3 * 500)     # the kept draws
    assert grid_seen and len(hist_ax.lines) == 1                           # the exact density drawn
    assert f"acceptance {panel.result['acceptance_rate']:.2f}" in fig._suptitle.get_text()


def test_scale_unit_per_parameter(seed):
    import matplotlib.pyplot as plt

    def log_prob(a, b):
        return -0.5 * (a**2 + (b / 100.0) ** 2)

    spreads = {}
    for label, unit in (("own scales", {"a": 1.0, "b": 100.0}), ("one scale", 1.0)):
        mcmc.proposal_scale_explorer(log_prob, {"a": 0.0, "b": 0.0}, seed=seed, num_steps=1000, scale_unit=unit,
                                     name="b", interactive=False)
        spreads[label] = np.std(plt.gcf().axes[0].lines[0].get_ydata())   # the trace of b
    # b has sd 100: on its own scale the chain covers it; with step 1 it crawls
    assert spreads["own scales"] > 50 and spreads["one scale"] < 0.3 * spreads["own scales"], spreads


@pytest.mark.parametrize("kwargs, error", [
    ({"name": "nope"}, ValueError),
    ({"num_steps": 5}, ValueError),
    ({"scales": (0.0, 1.0, 0.1, 0.5)}, ValueError),
    ({"reference": 3.0}, TypeError),
])
def test_bad_arguments(seed, kwargs, error):
    with pytest.raises(error):
        mcmc.proposal_scale_explorer(_standard_normal, {"mu": 0.0}, seed=seed, interactive=False, **kwargs)


def test_log_prob_must_be_callable(seed):
    with pytest.raises(TypeError):
        mcmc.proposal_scale_explorer(None, {"mu": 0.0}, seed=seed, interactive=False)
    with pytest.raises(ValueError):
        mcmc.proposal_scale_explorer(_standard_normal, {}, seed=seed, interactive=False)
