"""`cb.models.linear.linear_log_evidence` against a direct numerical integration of p(D | beta) p(beta)."""

import numpy as np
import pytest
from scipy import integrate, stats

import cs109b_bayes as cb
from cs109b_bayes.models import linear


def _evidence_by_quadrature(x, y, noise_sd, prior_sd, prior_mean):
    post = linear.conjugate_linear_posterior(x, y, noise_sd=noise_sd, prior_sd=prior_sd, prior_mean=prior_mean)
    log_joint = linear.linear_log_prob(x, y, noise_sd=noise_sd, prior_sd=prior_sd, prior_mean=prior_mean)
    peak = float(log_joint(post.mean[0], post.mean[1]))
    half = 8 * post.sd
    value, _ = integrate.dblquad(
        lambda b1, b0: np.exp(float(log_joint(b0, b1)) - peak),
        post.mean[0] - half[0], post.mean[0] + half[0], post.mean[1] - half[1], post.mean[1] + half[1],
        epsabs=0, epsrel=1e-9)
    return peak + np.log(value)


@pytest.mark.parametrize("noise_sd, prior_sd, prior_mean", [(0.7, 2.0, 0.3), (1.5, 0.5, -1.0)])
def test_log_evidence_matches_numerical_integration(noise_sd, prior_sd, prior_mean):
    rng = np.random.default_rng(3)
    x = rng.normal(size=15) * 2 + 1
    y = 0.5 - 0.8 * x + rng.normal(size=15) * noise_sd
    got = linear.linear_log_evidence(x, y, noise_sd=noise_sd, prior_sd=prior_sd, prior_mean=prior_mean)
    assert got == pytest.approx(_evidence_by_quadrature(x, y, noise_sd, prior_sd, prior_mean), abs=1e-6)


def test_log_evidence_is_the_bayes_identity_and_bounds_the_elbo():
    """log p(D) = log p(D, beta) - log p(beta | D) at any beta; an ELBO with a worse q is lower."""
    ads = cb.data.advertising()
    x = (ads.x - ads.x.mean()) / ads.x.std()
    post = linear.conjugate_linear_posterior(x, ads.y, noise_sd=3.26, prior_sd=10.0)
    log_joint = linear.linear_log_prob(x, ads.y, noise_sd=3.26, prior_sd=10.0)
    evidence = linear.linear_log_evidence(x, ads.y, noise_sd=3.26, prior_sd=10.0)

    for beta in (post.mean, post.mean + np.array([1.0, -0.5])):
        log_posterior = stats.multivariate_normal(post.mean, post.cov).logpdf(beta)
        assert float(log_joint(beta[0], beta[1])) - log_posterior == pytest.approx(evidence, abs=1e-8)
    assert np.isfinite(evidence) and evidence < 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=[1.0, 2.0, 3.0], y=[1.0, 2.0], noise_sd=1.0), "length|shape|same"),
    (dict(x=[1.0, 2.0], y=[1.0, 2.0], noise_sd=0.0), "noise_sd"),
    (dict(x=[1.0, 2.0], y=[1.0, 2.0], noise_sd=1.0, prior_sd=-1.0), "prior_sd"),
])
def test_log_evidence_rejects_bad_input(kwargs, match):
    x, y = kwargs.pop("x"), kwargs.pop("y")
    with pytest.raises(ValueError, match=match):
        linear.linear_log_evidence(x, y, **kwargs)
