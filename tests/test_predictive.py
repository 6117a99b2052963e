"""cs109b_bayes.predictive: the one predictive type of MCMC draws and networks, and the plots that take it."""

import ast
import pathlib

import matplotlib
import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.predictive import COMPONENTS, Predictive

matplotlib.use("Agg")

SEED = 20261121


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


def _predictive(rng, m=6):
    locs = rng.normal(size=(2, 30, m))
    scales = rng.uniform(0.1, 0.5, size=(2, 30, m))
    return locs, scales, Predictive.from_draws(locs, scales, x=np.linspace(-1, 1, m), seed=3)


def test_from_draws_is_the_law_of_total_variance(rng):
    locs, scales, pred = _predictive(rng)
    flat_locs, flat_scales = locs.reshape(60, -1), scales.reshape(60, -1)
    np.testing.assert_allclose(pred.mean, flat_locs.mean(0))
    np.testing.assert_allclose(pred.epistemic_sd, flat_locs.std(0))
    np.testing.assert_allclose(pred.aleatoric_sd, np.sqrt((flat_scales**2).mean(0)))
    # the mixture's variance, computed directly: E[y^2] - E[y]^2 with E[y^2] = mean(mu^2 + sigma^2)
    mixture_variance = (flat_locs**2 + flat_scales**2).mean(0) - flat_locs.mean(0) ** 2
    np.testing.assert_allclose(pred.total_sd**2, mixture_variance)
    assert pred.draws.shape == (2, 30, 6) and pred.num_samples == 60 and pred.seed == 3


def test_from_draws_takes_one_chain_and_a_known_noise_sd(rng):
    locs = rng.normal(size=(40, 5))
    pred = Predictive.from_draws(locs, 0.2)
    assert pred.draws.shape == (1, 40, 5) and pred.x is None and pred.seed is None
    np.testing.assert_allclose(pred.aleatoric_sd, 0.2)
    np.testing.assert_allclose(pred.total_sd, np.sqrt(locs.var(0) + 0.04))


def test_band_and_sd_of(rng):
    _, _, pred = _predictive(rng)
    low, high = pred.band()
    np.testing.assert_allclose(low, pred.mean - 2 * pred.total_sd)
    np.testing.assert_allclose(high, pred.mean + 2 * pred.total_sd)
    low, high = pred.band(1.5, component="aleatoric")
    np.testing.assert_allclose(high - low, 3 * pred.aleatoric_sd)
    for component in COMPONENTS:
        assert pred.sd_of(component) is getattr(pred, f"{component}_sd")
    with pytest.raises(ValueError, match="component"):
        pred.sd_of("noise")
    for bad in (-1.0, np.nan, True):
        with pytest.raises(ValueError, match="num_sd"):
            pred.band(bad)


def test_repr_is_short(rng):
    _, _, pred = _predictive(rng, m=500)
    text = repr(pred)
    assert len(text) < 250 and "500 points" in text and "draws [2, 30, 500]" in text


@pytest.mark.parametrize("change, match", [
    (dict(mean=np.zeros((2, 3))), "mean"),
    (dict(total_sd=np.ones(4)), "total_sd"),
    (dict(aleatoric_sd=-np.ones(3)), "aleatoric_sd"),
    (dict(x=np.zeros(5)), "x"),
    (dict(draws=np.zeros((4, 3))), "draws"),
    (dict(draws=np.zeros((1, 4, 2))), "draws"),
])
def test_predictive_rejects_inconsistent_fields(change, match):
    fields = dict(mean=np.zeros(3), aleatoric_sd=np.ones(3), epistemic_sd=np.ones(3), total_sd=np.ones(3)) | change
    with pytest.raises(ValueError, match=match):
        Predictive(**fields)


def test_from_draws_rejects_bad_input():
    with pytest.raises(ValueError, match="locs"):
        Predictive.from_draws(np.zeros(5), 0.1)
    with pytest.raises(ValueError, match="scales"):
        Predictive.from_draws(np.zeros((3, 5)), -0.1)


def test_models_and_bnn_share_the_type():
    assert cb.models.Predictive is Predictive
    assert cb.bnn.Predictive is Predictive


# ---- plotting ----
def _band_widths(fig):
    widths = []
    for collection in fig.axes[0].collections:
        for path in collection.get_paths():
            vertices = path.vertices
            widths.append(np.ptp(vertices[:, 1]))
    return widths


def test_plot_predictive_band_takes_a_predictive_or_arrays(rng):
    _, _, pred = _predictive(rng)
    grid = pred.x
    from_predictive = cb.plotting.plot_predictive_band(grid, pred)
    from_arrays = cb.plotting.plot_predictive_band(grid, pred.mean, pred.total_sd)
    labels = [c.get_label() for c in from_predictive.axes[0].collections]
    assert labels == [c.get_label() for c in from_arrays.axes[0].collections] == ["mean +- 2 sd"]
    np.testing.assert_allclose(from_predictive.axes[0].collections[0].get_paths()[0].vertices,
                               from_arrays.axes[0].collections[0].get_paths()[0].vertices)
    two = cb.plotting.plot_predictive_band(grid, pred, ("total", "aleatoric"), x=[0.0], y=[0.0])
    assert sorted(c.get_label() for c in two.axes[0].collections if c.get_label() != "data") == [
        "aleatoric sd", "total sd"]
    stacked = cb.plotting.plot_predictive_band(grid, pred.mean, {"total": pred.total_sd, "aleatoric": 0.1})
    assert len(stacked.axes[0].collections) == 2
    matplotlib.pyplot.close("all")


def test_plot_predictive_band_rejects_bad_input(rng):
    _, _, pred = _predictive(rng)
    with pytest.raises(TypeError, match="sd is required"):
        cb.plotting.plot_predictive_band(pred.x, pred.mean)
    with pytest.raises(TypeError, match="component"):
        cb.plotting.plot_predictive_band(pred.x, pred, pred.total_sd)
    with pytest.raises(ValueError, match="component"):
        cb.plotting.plot_predictive_band(pred.x, pred, "noise")
    with pytest.raises(ValueError, match="shape"):
        cb.plotting.plot_predictive_band(pred.x, pred.mean, np.ones(2))
    matplotlib.pyplot.close("all")


def test_plot_chain_predictions_needs_draws_and_x(rng):
    locs, _, pred = _predictive(rng)
    fig = cb.plotting.plot_chain_predictions(pred)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), locs[0].mean(0))
    with pytest.raises(ValueError, match="draws"):
        cb.plotting.plot_chain_predictions(Predictive.from_draws(locs, 0.1))          # no x
    no_draws = Predictive(pred.mean, pred.aleatoric_sd, pred.epistemic_sd, pred.total_sd, x=pred.x)
    with pytest.raises(ValueError, match="draws"):
        cb.plotting.plot_chain_predictions(no_draws)
    matplotlib.pyplot.close("all")


# ---- structure of the modules this type ties together ----
_PACKAGE = pathlib.Path(cb.__file__).parent
_MODULES = ["predictive.py", "noise.py", "tfp_internals.py", "bnn", "variational", "models", "plotting"]


def _module_files():
    for name in _MODULES:
        path = _PACKAGE / name
        yield from (sorted(path.glob("*.py")) if path.is_dir() else [path])


def _module_name(path):
    parts = path.relative_to(_PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_private_names_cross_modules_and_no_import_cycles():
    graph = {}
    for path in _module_files():
        module = _module_name(path)
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cs109b_bayes"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{module} imports private {private} from {node.module}"
                graph[module].add(node.module)
                graph[module].update(f"{node.module}.{alias.name}" for alias in node.names)

    def visit(module, stack):
        assert module not in stack, f"import cycle: {' -> '.join(stack + [module])}"
        for target in graph.get(module, ()):
            if target in graph:
                visit(target, stack + [module])

    for module in graph:
        visit(module, [])
