"""Lab 04's leapfrog widget: the sliders change the trajectory it draws, as the physics says."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs109b_bayes.widgets import hmc  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_sliders_drive_the_trajectory():
    panel = hmc.explore_leapfrog(interactive=True)
    assert panel.values == {"step_size": 0.15, "num_steps": 20}
    assert panel.result["path"].positions.shape == (21, 2)
    longer = panel.set(num_steps=60)
    assert longer["path"].positions.shape == (61, 2)
    panel.widget.children[0].value = 0.02                    # dragging the step-size slider
    assert panel.values["step_size"] == 0.02
    assert panel.result["path"].positions.shape == (61, 2)
    assert abs(panel.result["energy_error"]) < 0.01          # small steps: energy nearly conserved


def test_small_steps_conserve_energy_large_steps_diverge():
    small = hmc.leapfrog_result(0.05, 40)
    medium = hmc.leapfrog_result(0.1, 20)
    large = hmc.leapfrog_result(0.55, 20)                    # past 2 x narrowest sd (0.45)
    assert small["max_energy_error"] < medium["max_energy_error"] < large["max_energy_error"]
    assert 3 < medium["max_energy_error"] / small["max_energy_error"] < 5   # O(step^2), same path length
    assert small["accept_prob"] > 0.95 and large["accept_prob"] < 0.01
    assert np.allclose(small["path"].positions[0], hmc.START)


def test_headless_draws_once_and_draws_the_path(monkeypatch):
    monkeypatch.setenv("CS109B_HEADLESS", "1")
    panel = hmc.explore_leapfrog(step_size=0.2, num_steps=10)
    assert panel.widget is None and panel.result["path"].positions.shape == (11, 2)
    fig = plt.gcf()
    ax = fig.axes[0]
    drawn = [line.get_xydata() for line in ax.lines if len(line.get_xydata()) == 11]
    assert drawn and np.allclose(drawn[0], panel.result["path"].positions)


def test_same_seed_same_momentum_and_bad_options():
    a, b = hmc.leapfrog_result(0.1, 5, seed=3), hmc.leapfrog_result(0.1, 5, seed=3)
    assert np.array_equal(a["path"].momenta, b["path"].momenta)
    assert not np.array_equal(a["path"].momenta[0], hmc.leapfrog_result(0.1, 5, seed=4)["path"].momenta[0])
    with pytest.raises(ValueError, match="correlation"):
        hmc.explore_leapfrog(correlation=1.5, interactive=False)
    with pytest.raises(ValueError, match="low <= value"):
        hmc.explore_leapfrog(step_size=2.0, interactive=True)
