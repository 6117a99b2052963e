"""`cb.metrics` against closed forms: Gaussian and mixture NLL, RMSE, coverage, width, calibration."""

import numpy as np
import pytest
from scipy import stats

import cs109b_bayes as cb
from cs109b_bayes.predictive import Predictive


def _predictive(mean, sd):
    mean = np.asarray(mean, dtype=float)
    sd = np.broadcast_to(np.asarray(sd, dtype=float), mean.shape)
    return Predictive(mean, sd, np.zeros_like(mean), sd)


def test_gaussian_nll_and_rmse_closed_form():
    pred = _predictive([0.0, 1.0, -2.0], [1.0, 2.0, 0.5])
    y = np.array([0.0, 3.0, -2.5])
    expected = np.mean(0.5 * np.log(2 * np.pi) + np.log(pred.total_sd) + 0.5 * ((y - pred.mean) / pred.total_sd) ** 2)
    assert cb.metrics.gaussian_nll(pred, y) == pytest.approx(expected)
    assert cb.metrics.rmse(pred, y) == pytest.approx(np.sqrt((0 + 4 + 0.25) / 3))
    assert cb.metrics.gaussian_nll(pred, list(y)) == pytest.approx(expected)   # lists accepted


def test_mixture_nll_closed_form_and_single_component():
    locs = np.array([[0.0, 1.0], [2.0, -1.0]])          # two components, two points
    y = np.array([0.5, 0.0])
    density = 0.5 * (stats.norm.pdf(y, locs[0], 0.7) + stats.norm.pdf(y, locs[1], 0.7))
    assert cb.metrics.mixture_nll(locs, 0.7, y) == pytest.approx(-np.mean(np.log(density)))
    assert cb.metrics.mixture_nll(locs[None], np.full((1, 2, 2), 0.7), y) == pytest.approx(-np.mean(np.log(density)))
    one = _predictive(locs[0], 0.7)
    assert cb.metrics.mixture_nll(locs[:1], 0.7, y) == pytest.approx(cb.metrics.gaussian_nll(one, y))


def test_coverage_and_width_closed_form(seed):
    rng = cb.seeds.numpy_rng(seed, "coverage")
    mean, sd = rng.normal(size=20_000), rng.uniform(0.5, 2.0, size=20_000)
    y = mean + sd * rng.normal(size=mean.size)          # draws from the predictive itself: calibrated
    pred = _predictive(mean, sd)
    coverage, width = cb.metrics.interval_coverage(pred, y, level=0.9)
    assert abs(coverage - 0.9) < 4.5 * np.sqrt(0.9 * 0.1 / y.size)
    assert width == pytest.approx(2 * stats.norm.ppf(0.95) * sd.mean())
    levels, observed = cb.metrics.calibration_curve(pred, y)
    assert np.allclose(levels, np.arange(0.05, 0.96, 0.05))
    assert np.all(np.abs(observed - levels) < 4.5 * np.sqrt(levels * (1 - levels) / y.size))
    # Power: a predictive twice too narrow is over-confident at every level.
    narrow = _predictive(mean, sd / 2)
    assert np.all(cb.metrics.calibration_curve(narrow, y)[1] < levels - 0.02)


def test_coverage_by_hand():
    pred = _predictive([0.0, 0.0, 0.0, 0.0], 1.0)
    y = [0.1, -1.0, 1.7, -3.0]               # 90% half-width is 1.645: the first two are inside
    assert cb.metrics.interval_coverage(pred, y) == pytest.approx((0.5, 2 * 1.6448536))


def test_score_row_and_table():
    pred = _predictive([0.0, 1.0], 1.0)
    row = cb.metrics.score("ensemble", pred, [0.0, 1.0], seconds=2.5)
    assert isinstance(row, cb.metrics.PredictiveScore)
    assert row.rmse == 0.0 and row.coverage == 1.0 and row.seconds == 2.5 and row.level == 0.9
    assert row.nll == pytest.approx(0.5 * np.log(2 * np.pi))
    table = cb.metrics.format_table([row, cb.metrics.score("hmc", pred, [3.0, 1.0], seconds=1)], title="gap")
    lines = table.splitlines()
    assert lines[0] == "gap" and "90% cover" in lines[1] and lines[2].startswith("ensemble") and len(lines) == 4
    assert "0.50" in lines[3]


def test_errors():
    pred = _predictive([0.0, 1.0], 1.0)
    with pytest.raises(TypeError, match="Predictive"):
        cb.metrics.rmse((np.zeros(2), np.ones(2)), [0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        cb.metrics.gaussian_nll(pred, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        cb.metrics.rmse(pred, [0.0, np.nan])
    with pytest.raises(ValueError, match="total_sd > 0"):
        cb.metrics.gaussian_nll(_predictive([0.0], 0.0), [0.0])
    for level in (0.0, 1.0, 1.5, True, [0.5]):
        with pytest.raises(ValueError, match="level"):
            cb.metrics.interval_coverage(pred, [0.0, 1.0], level=level)
    with pytest.raises(ValueError, match="level"):
        cb.metrics.calibration_curve(pred, [0.0, 1.0], levels=[0.5, 1.2])
    with pytest.raises(ValueError, match="locs"):
        cb.metrics.mixture_nll(np.zeros(3), 1.0, np.zeros(3))
    with pytest.raises(ValueError, match="scales"):
        cb.metrics.mixture_nll(np.zeros((2, 3)), 0.0, np.zeros(3))
    with pytest.raises(ValueError, match="y must"):
        cb.metrics.mixture_nll(np.zeros((2, 3)), 1.0, np.zeros(2))
    with pytest.raises(TypeError, match="method"):
        cb.metrics.score(3, pred, [0.0, 1.0], seconds=1.0)
    with pytest.raises(ValueError, match="seconds"):
        cb.metrics.score("a", pred, [0.0, 1.0], seconds=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        cb.metrics.format_table([])
    with pytest.raises(TypeError, match="PredictiveScore"):
        cb.metrics.format_table([("a", 1.0)])
    rows = [cb.metrics.score("a", pred, [0.0, 1.0], seconds=1.0, level=level) for level in (0.9, 0.5)]
    with pytest.raises(ValueError, match="same interval level"):
        cb.metrics.format_table(rows)
