"""Every question of labs 05-09 passes a correct answer and fails wrong ones."""

import cs109b_bayes  # noqa: F401  (sets up Keras 2 before TensorFlow)
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes.grading import check

tfd = tfp.distributions


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


# ---- lab 05 ----
def kl_right(qm, qs, pm, ps):
    return np.log(ps / qs) + (qs**2 + (qm - pm) ** 2) / (2 * ps**2) - 0.5


def kl_swapped(qm, qs, pm, ps):          # KL(p || q): the asymmetry matters
    return kl_right(pm, ps, qm, qs)


def kl_variances(qm, qs, pm, ps):        # sds used where variances belong
    return np.log(ps / qs) + (qs + (qm - pm) ** 2) / (2 * ps) - 0.5


def test_lab05_kl_gaussian():
    assert check("lab05.kl_gaussian", kl_gaussian=kl_right).passed
    assert not check("lab05.kl_gaussian", kl_gaussian=kl_swapped).passed
    assert not check("lab05.kl_gaussian", kl_gaussian=kl_variances).passed
    assert not check("lab05.kl_gaussian", kl_gaussian=...).passed


def _elbo(q_mean, q_sd, eps, x, y, noise_sd, prior_sd, *, with_kl=True, detach=False):
    if detach:
        q_mean, q_sd = tf.constant(np.asarray(q_mean)), tf.constant(np.asarray(q_sd))
    w = q_mean[None, :] + q_sd[None, :] * eps
    mu = w[:, 0:1] + w[:, 1:2] * x[None, :]
    dist = tfd.Normal(tf.cast(mu, tf.float64), tf.cast(noise_sd, tf.float64))
    log_lik = tf.reduce_mean(tf.reduce_sum(dist.log_prob(y[None, :]), axis=1))
    kl = tf.reduce_sum(tfd.kl_divergence(tfd.Normal(q_mean, q_sd),
                                         tfd.Normal(tf.zeros_like(q_mean), tf.cast(prior_sd, tf.float64))))
    return log_lik - kl if with_kl else log_lik


def test_lab05_elbo_estimate():
    assert check("lab05.elbo_estimate", elbo_estimate=_elbo).passed
    no_kl = check("lab05.elbo_estimate", elbo_estimate=lambda *a: _elbo(*a, with_kl=False))
    assert not no_kl.passed
    detached = check("lab05.elbo_estimate", elbo_estimate=lambda *a: _elbo(*a, detach=True))
    assert not detached.passed and "gradient" in detached.message
    # sampling w with the mean only (no q_sd * eps): value and gradient wrong
    assert not check("lab05.elbo_estimate",
                     elbo_estimate=lambda m, s, e, *r: _elbo(m, s, tf.zeros_like(e), *r)).passed
    assert not check("lab05.elbo_estimate", elbo_estimate=lambda *a: ...).passed


def _posterior(x, y, noise_sd, prior_sd, *, prior_term=True):
    design = np.stack([np.ones_like(x), x], axis=1)
    precision = design.T @ design / noise_sd**2 + (np.eye(2) / prior_sd**2 if prior_term else 0)
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / noise_sd**2, cov


def test_lab05_exact_posterior():
    assert check("lab05.exact_posterior", exact_posterior=_posterior).passed
    assert not check("lab05.exact_posterior",
                     exact_posterior=lambda *a: _posterior(*a, prior_term=False)).passed
    assert not check("lab05.exact_posterior", exact_posterior=lambda *a: ...).passed


# ---- lab 06 ----
def test_lab06_gaussian_nll():
    right = lambda y, mu, s: tf.reduce_mean(-tfd.Normal(mu, s).log_prob(y))  # noqa: E731
    no_log_sigma = lambda y, mu, s: tf.reduce_mean(0.5 * ((y - mu) / s) ** 2)  # noqa: E731
    summed = lambda y, mu, s: tf.reduce_sum(-tfd.Normal(mu, s).log_prob(y))  # noqa: E731
    assert check("lab06.gaussian_nll", gaussian_nll=right).passed
    float64 = lambda y, mu, s: tf.reduce_mean(-tfd.Normal(tf.cast(mu, tf.float64), tf.cast(s, tf.float64))  # noqa: E731
                                              .log_prob(tf.cast(y, tf.float64)))
    assert check("lab06.gaussian_nll", gaussian_nll=float64).passed
    assert not check("lab06.gaussian_nll", gaussian_nll=no_log_sigma).passed
    assert not check("lab06.gaussian_nll", gaussian_nll=summed).passed
    assert not check("lab06.gaussian_nll", gaussian_nll=...).passed


def test_lab06_coverage():
    right = lambda y, m, s, k: np.mean(np.abs(y - m) <= k * s)  # noqa: E731
    ignores_k = lambda y, m, s, k: np.mean(np.abs(y - m) <= 2 * s)  # noqa: E731
    assert check("lab06.coverage", coverage=right).passed
    assert not check("lab06.coverage", coverage=ignores_k).passed
    as_percent = lambda y, m, s, k: 100 * np.mean(np.abs(y - m) <= k * s)  # noqa: E731
    one_sided = lambda y, m, s, k: np.mean(y - m <= k * s)  # noqa: E731
    assert not check("lab06.coverage", coverage=as_percent).passed
    assert not check("lab06.coverage", coverage=one_sided).passed
    as_array = lambda y, m, s, k: np.asarray(np.mean(np.abs(y - m) <= k * s), dtype=np.float32)  # noqa: E731
    assert check("lab06.coverage", coverage=as_array).passed


# ---- lab 07 ----
def test_lab07_scaled_kl():
    right = lambda n: (lambda q, p, _: tfd.kl_divergence(q, p) / n)  # noqa: E731
    unscaled = lambda n: (lambda q, p, _: tfd.kl_divergence(q, p))  # noqa: E731
    fixed = lambda n: (lambda q, p, _: tfd.kl_divergence(q, p) / 300)  # noqa: E731
    assert check("lab07.scaled_kl", make_divergence_fn=right).passed
    assert not check("lab07.scaled_kl", make_divergence_fn=unscaled).passed
    assert not check("lab07.scaled_kl", make_divergence_fn=fixed).passed

    def as_def(num_train):                 # right, in another form: a named function, a float32 cast
        def divergence(q, p, ignore):
            return tfd.kl_divergence(q, p) / tf.cast(num_train, tf.float32)
        return divergence

    assert check("lab07.scaled_kl", make_divergence_fn=as_def).passed
    message = check("lab07.scaled_kl", make_divergence_fn=unscaled).message
    assert "expected" in message and "kl_divergence(q, p) /" not in message, message   # teaches, does not tell


def _split(locs, scales, *, add_sds=False):
    alea, epi = np.sqrt(np.mean(scales**2, 0)), np.std(locs, 0)
    total = alea + epi if add_sds else np.sqrt(alea**2 + epi**2)
    return locs.mean(0), alea, epi, total


def test_lab07_predictive_split():
    assert check("lab07.predictive_split", predictive_split=_split).passed
    assert not check("lab07.predictive_split", predictive_split=lambda l, s: _split(l, s, add_sds=True)).passed
    wrong_axis = lambda l, s: _split(l.T, s.T)  # noqa: E731
    assert not check("lab07.predictive_split", predictive_split=wrong_axis).passed
    as_list = lambda l, s: [np.float32(v) for v in _split(l, s)]  # noqa: E731  (a list, float32: right)
    assert check("lab07.predictive_split", predictive_split=as_list).passed
    message = check("lab07.predictive_split", predictive_split=lambda l, s: _split(l, s, add_sds=True)).message
    assert "total_sd" in message and "expected" in message, message


# ---- lab 08 ----
def test_lab08_flipout_dense():
    right = lambda x, loc, d, si, so: x @ loc + ((x * si) @ d) * so  # noqa: E731
    shared = lambda x, loc, d, si, so: x @ (loc + d)  # noqa: E731  (Bayes by Backprop: no signs)
    assert check("lab08.flipout_dense", flipout_dense=right).passed
    assert not check("lab08.flipout_dense", flipout_dense=shared).passed
    einsum = lambda x, loc, d, si, so: (np.einsum("bi,io->bo", x, loc)  # noqa: E731  (right, another form)
                                        + np.einsum("bi,io->bo", x * si, d) * so).tolist()
    assert check("lab08.flipout_dense", flipout_dense=einsum).passed
    assert "expected" in check("lab08.flipout_dense", flipout_dense=shared).message


def test_lab08_local_reparam_dense():
    right = lambda x, loc, sd, e: x @ loc + np.sqrt((x**2) @ (sd**2)) * e  # noqa: E731
    sd_not_var = lambda x, loc, sd, e: x @ loc + (np.abs(x) @ sd) * e  # noqa: E731
    assert check("lab08.local_reparam_dense", local_reparam_dense=right).passed
    assert not check("lab08.local_reparam_dense", local_reparam_dense=sd_not_var).passed
    float32 = lambda x, loc, sd, e: (x @ loc + np.sqrt(np.square(x) @ np.square(sd)) * e).astype(np.float32)  # noqa: E731
    assert check("lab08.local_reparam_dense", local_reparam_dense=float32).passed


# ---- lab 09 ----
def test_lab09_sample_hidden():
    right = lambda loc, scale, seed: loc + scale * tf.random.stateless_normal(tf.shape(loc), seed=seed)  # noqa: E731
    assert check("lab09.sample_hidden", sample_hidden=right).passed

    def shared_over_batch(loc, scale, seed):
        return loc + scale * tf.random.stateless_normal(tf.shape(loc)[1:], seed=seed)[None, :]

    def shared_over_units(loc, scale, seed):
        return loc + scale * tf.random.stateless_normal(tf.shape(loc)[:1], seed=seed)[:, None]

    def detached(loc, scale, seed):
        return tf.constant((loc + scale * tf.random.stateless_normal(tf.shape(loc), seed=seed)).numpy())

    def stateful(loc, scale, seed):
        return loc + scale * tf.random.normal(tf.shape(loc))

    for wrong in (shared_over_batch, shared_over_units, detached, stateful):
        assert not check("lab09.sample_hidden", sample_hidden=wrong).passed, wrong.__name__


def test_lab09_hidden_kl():
    right = lambda m, s: tf.reduce_mean(tf.reduce_sum(0.5 * (m**2 + s**2 - 1) - tf.math.log(s), 1))  # noqa: E731
    summed_batch = lambda m, s: tf.reduce_sum(0.5 * (m**2 + s**2 - 1) - tf.math.log(s))  # noqa: E731
    assert check("lab09.hidden_kl", hidden_kl=right).passed
    assert not check("lab09.hidden_kl", hidden_kl=summed_batch).passed
    numpy_form = lambda m, s: float(np.mean(np.sum(0.5 * (np.square(m) + np.square(s) - 1) - np.log(s), 1)))  # noqa: E731
    assert check("lab09.hidden_kl", hidden_kl=numpy_form).passed
    divided_by_n = lambda m, s: right(m, s) / 300  # noqa: E731  (the old beta = 1/N weight: not the KL)
    assert not check("lab09.hidden_kl", hidden_kl=divided_by_n).passed
    assert "expected" in check("lab09.hidden_kl", hidden_kl=summed_batch).message


# ---- student copies: a blanked function body returns None; the check must fail cleanly ----
@pytest.mark.parametrize("question, answer", [
    ("lab05.kl_gaussian", "kl_gaussian"), ("lab05.elbo_estimate", "elbo_estimate"),
    ("lab05.exact_posterior", "exact_posterior"), ("lab06.gaussian_nll", "gaussian_nll"),
    ("lab06.coverage", "coverage"), ("lab07.scaled_kl", "make_divergence_fn"),
    ("lab07.predictive_split", "predictive_split"), ("lab08.flipout_dense", "flipout_dense"),
    ("lab08.local_reparam_dense", "local_reparam_dense"), ("lab09.sample_hidden", "sample_hidden"),
    ("lab09.hidden_kl", "hidden_kl"),
])
def test_blank_answers_fail_with_a_message(question, answer):
    def blank(*args):
        ...

    result = check(question, **{answer: blank})
    assert not result.passed
    assert "not answered" in result.message or "should return" in result.message, result.message


def test_every_question_of_labs_05_09_is_tested():
    from cs109b_bayes import grading

    tested = {"lab05.kl_gaussian", "lab05.elbo_estimate", "lab05.exact_posterior", "lab06.gaussian_nll",
              "lab06.coverage", "lab07.scaled_kl", "lab07.predictive_split", "lab08.flipout_dense",
              "lab08.local_reparam_dense", "lab09.sample_hidden", "lab09.hidden_kl"}
    registered = set()
    for lab in ("lab05", "lab06", "lab07", "lab08", "lab09"):
        registered |= set(grading.questions(lab))
    assert registered == tested
