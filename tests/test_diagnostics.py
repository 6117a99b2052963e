"""ESS and R-hat against closed forms; the MCMCResult type."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.inference.diagnostics import effective_sample_size, mcse_mean, potential_scale_reduction


def ar1(rng, phi, chains, draws):
    """Gaussian AR(1) chains started in stationarity: x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t."""
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(size=chains)
    noise = rng.normal(size=(chains, draws)) * np.sqrt(1 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ess_matches_ar1_closed_form(seed, phi):
    """For AR(1), ESS = N (1 - phi) / (1 + phi); the estimate's sd is a few percent here."""
    draws = ar1(np.random.default_rng(seed), phi, chains=4, draws=20_000)
    expected = draws.size * (1 - phi) / (1 + phi)
    for method in ("bulk", "mean"):
        assert effective_sample_size(draws, method=method) == pytest.approx(expected, rel=0.1)


def test_ess_is_per_element_and_mcse_matches_theory(seed):
    rng = np.random.default_rng(seed)
    draws = np.stack([ar1(rng, 0.0, 4, 5000), ar1(rng, 0.8, 4, 5000)], axis=-1)
    ess = effective_sample_size(draws)
    assert ess.shape == (2,)
    assert ess[0] > 3 * ess[1]
    # MCSE of the mean of AR(1) with unit variance: sqrt((1 + phi) / ((1 - phi) N)).
    expected = np.sqrt([1 / 20_000, 1.8 / (0.2 * 20_000)])
    np.testing.assert_allclose(mcse_mean(draws), expected, rtol=0.12)


def test_rhat_near_one_for_mixed_chains_and_large_for_stuck_ones(seed):
    rng = np.random.default_rng(seed)
    mixed = rng.normal(size=(4, 2000))
    assert potential_scale_reduction(mixed) < 1.01
    stuck = mixed + np.array([0.0, 0.0, 0.0, 1.0])[:, None]   # one chain in another place
    assert potential_scale_reduction(stuck) > 1.1
    # Same mean, different spread: only the folded (tail) R-hat sees it.
    wide = mixed * np.array([1.0, 1.0, 1.0, 3.0])[:, None]
    assert potential_scale_reduction(wide) > 1.05


def test_rhat_detects_a_trend_within_chains(seed):
    rng = np.random.default_rng(seed)
    trend = rng.normal(size=(4, 1000)) + np.linspace(0, 2, 1000)
    assert potential_scale_reduction(trend) > 1.1   # split chains catch non-stationarity


def test_diagnostics_bad_input():
    with pytest.raises(ValueError, match="chain, draw"):
        effective_sample_size(np.zeros(10))
    with pytest.raises(ValueError, match="at least 4 draws"):
        potential_scale_reduction(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="method"):
        effective_sample_size(np.zeros((2, 10)), method="tail")
    assert np.isnan(effective_sample_size(np.ones((2, 10))))   # constant draws: undefined


def test_from_draws_and_summary(seed):
    rng = np.random.default_rng(seed)
    result = cb.MCMCResult.from_draws(
        {"theta": rng.normal(2.0, 0.5, size=(2, 1000)), "w": rng.normal(size=(2, 1000, 3))},
        kernel="mine", seed=seed)
    assert result.num_chains == 2 and result.num_draws == 1000
    assert result.ess["w"].shape == (3,)
    assert result.flat("w").shape == (2000, 3)
    table = result.summary()
    assert list(table.index) == ["theta", "w[0]", "w[1]", "w[2]"]
    assert table.loc["theta", "mean"] == pytest.approx(2.0, abs=4 * 0.5 / np.sqrt(2000))
    assert table.loc["theta", "sd"] == pytest.approx(0.5, rel=0.1)
    assert table.loc["theta", "3%"] < table.loc["theta", "mean"] < table.loc["theta", "97%"]
    one_chain = cb.MCMCResult.from_draws({"theta": rng.normal(size=500)})
    assert one_chain.samples["theta"].shape == (1, 500)
    assert result.min_ess_per_second() == np.inf   # no time recorded


def test_from_draws_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        cb.MCMCResult.from_draws({})
    with pytest.raises(ValueError, match="NaN"):
        cb.MCMCResult.from_draws({"a": np.array([[0.0, np.nan, 1.0, 2.0, 3.0]])})
    with pytest.raises(ValueError, match="share"):
        cb.MCMCResult.from_draws({"a": np.zeros((2, 10)), "b": np.zeros((3, 10))})


def test_to_arviz_or_clear_import_error(seed):
    result = cb.MCMCResult.from_draws({"theta": np.random.default_rng(seed).normal(size=(2, 100))})
    try:
        import arviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install"):
            result.to_arviz()
    else:
        data = result.to_arviz()
        assert data.posterior["theta"].shape == (2, 100)


def test_diagnostics_namespace_and_old_module_path():
    import cs109b_bayes.inference.diagnostics as new_path
    from cs109b_bayes.diagnostics import MCMCResult  # the old module path still imports

    assert cb.diagnostics is new_path and MCMCResult is cb.MCMCResult
    assert set(new_path.__all__) == {"MCMCResult", "effective_sample_size", "mcse_mean",
                                     "potential_scale_reduction"}
    assert all(callable(getattr(cb.diagnostics, name)) for name in new_path.__all__)


def test_summary_docstring_shows_the_columns_the_table_has(seed):
    """The example table in `MCMCResult.summary`'s docstring has the real header."""
    doc_lines = [line.strip().lstrip("#").split() for line in cb.MCMCResult.summary.__doc__.splitlines()]
    header = next(words for words in doc_lines if words[:2] == ["mean", "sd"])
    table = cb.MCMCResult.from_draws({"beta0": np.random.default_rng(seed).normal(size=(2, 100))}).summary()
    assert header == list(table.columns)
    assert "hdi" not in cb.MCMCResult.summary.__doc__
