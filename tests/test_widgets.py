"""`cb.widgets.explore`: sliders drive the drawing; headless runs draw once."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import cs109b_bayes as cb  # noqa: E402


def _draw(n, scale, kind="line"):
    fig, ax = plt.subplots()
    ax.plot(range(n), [scale * i for i in range(n)])
    plt.close(fig)
    return {"n": n, "scale": scale, "kind": kind}


def test_sliders_redraw_with_the_new_values():
    panel = cb.widgets.explore(_draw, controls={"n": (1, 10, 1, 5), "scale": (0.1, 2.0, 0.1, 1.0),
                                                "kind": ["line", "dots"]}, interactive=True)
    assert panel.result == {"n": 5, "scale": 1.0, "kind": "line"}
    assert panel.set(n=8) == {"n": 8, "scale": 1.0, "kind": "line"}
    panel.widget.children[1].value = 0.5          # what dragging the slider does
    assert panel.result["scale"] == 0.5 and panel.values["scale"] == 0.5
    assert panel.set(kind="dots")["kind"] == "dots"
    assert type(panel.widget.children[0]).__name__ == "IntSlider"


def test_headless_draws_once_with_the_defaults(monkeypatch):
    monkeypatch.setenv("CS109B_HEADLESS", "1")
    panel = cb.widgets.explore(_draw, controls={"n": (1, 10, 1, 3), "scale": (0.1, 2.0, 0.1, 1.5)})
    assert panel.widget is None and panel.result == {"n": 3, "scale": 1.5, "kind": "line"}
    assert panel.set(scale=2.0)["scale"] == 2.0


@pytest.mark.parametrize("controls, match", [
    ({}, "at least one"),
    ({"n": (1, 10, 1, 50)}, "low <= value"),
    ({"n": "abc"}, "must be"),
])
def test_bad_controls(controls, match):
    with pytest.raises(ValueError, match=match):
        cb.widgets.explore(_draw, controls=controls, interactive=True)


def test_bad_draw_and_unknown_control():
    with pytest.raises(TypeError, match="callable"):
        cb.widgets.explore(3, controls={"n": (1, 2, 1, 1)})
    panel = cb.widgets.explore(_draw, controls={"n": (1, 10, 1, 5), "scale": (0.1, 2.0, 0.1, 1.0)},
                               interactive=False)
    with pytest.raises(ValueError, match="unknown control"):
        panel.set(width=3)
