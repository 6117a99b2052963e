"""Labs 02-04 checks: correct answers pass, wrong answers fail, blanks fail cleanly."""

import numpy as np
import pytest
from scipy import stats

import cs109b_bayes as cb
from cs109b_bayes import models


def passes(question_id, **answers):
    return cb.check(question_id, **answers).passed


# ---------------------------------------------------------------- lab 02


def good_log_prior(beta0, beta1, prior_sd):
    return stats.norm.logpdf([beta0, beta1], 0.0, prior_sd).sum()


def good_log_likelihood(beta0, beta1, x, y, noise_sd):
    return stats.norm.logpdf(y, beta0 + beta1 * x, noise_sd).sum()


def good_log_posterior(beta0, beta1, x, y, noise_sd, prior_sd):
    return good_log_prior(beta0, beta1, prior_sd) + good_log_likelihood(beta0, beta1, x, y, noise_sd)


def good_step(beta, log_posterior_fn, proposal_scale, rng):
    proposal = beta + proposal_scale * rng.normal(size=np.shape(beta))
    if rng.uniform() < np.exp(min(0.0, log_posterior_fn(proposal) - log_posterior_fn(beta))):
        return proposal, True
    return beta, False


def test_log_prior(lenient):
    assert passes("lab02.log_prior", log_prior=good_log_prior)
    no_constant = lambda b0, b1, s: -0.5 * (b0**2 + b1**2) / s**2  # noqa: E731
    variance_for_sd = lambda b0, b1, s: stats.norm.logpdf([b0, b1], 0.0, s**2).sum()  # noqa: E731
    one_coefficient = lambda b0, b1, s: stats.norm.logpdf(b0, 0.0, s)  # noqa: E731
    for wrong in (no_constant, variance_for_sd, one_coefficient):
        assert not passes("lab02.log_prior", log_prior=wrong)


def test_log_likelihood(lenient):
    assert passes("lab02.log_likelihood", log_likelihood=good_log_likelihood)
    scaffold = lambda b0, b1, x, y, s: -np.sum(np.log((y - (b0 + b1 * x)) ** 2))  # noqa: E731
    no_half = lambda b0, b1, x, y, s: good_log_likelihood(b0, b1, x, y, s / np.sqrt(2)) + len(y) * np.log(np.sqrt(2))  # noqa: E731,E501
    unnormalised = lambda b0, b1, x, y, s: -0.5 * np.sum((y - b0 - b1 * x) ** 2) / s**2  # noqa: E731
    mean_not_sum = lambda b0, b1, x, y, s: stats.norm.logpdf(y, b0 + b1 * x, s).mean()  # noqa: E731
    for wrong in (scaffold, no_half, unnormalised, mean_not_sum):
        assert not passes("lab02.log_likelihood", log_likelihood=wrong)


def test_log_posterior(lenient):
    assert passes("lab02.log_posterior", log_posterior=good_log_posterior)
    likelihood_only = lambda b0, b1, x, y, n, p: good_log_likelihood(b0, b1, x, y, n)  # noqa: E731
    product = lambda b0, b1, x, y, n, p: good_log_prior(b0, b1, p) * good_log_likelihood(b0, b1, x, y, n)  # noqa: E731
    for wrong in (likelihood_only, product):
        assert not passes("lab02.log_posterior", log_posterior=wrong)
    result = cb.check("lab02.log_posterior", log_posterior=product)
    assert "product" in result.message and "norm.logpdf" not in result.message


def test_log_posterior_is_judged_with_reference_earlier_answers(lenient):
    # A notebook where log_prior is wrong (no constants) but log_posterior is right: only the
    # log_prior check may fail, and the notebook's own log_prior is put back afterwards.
    namespace = {"np": np}
    exec("def log_prior(beta0, beta1, prior_sd):\n    return -0.5 * (beta0**2 + beta1**2) / prior_sd**2\n"
         "def log_likelihood(beta0, beta1, x, y, noise_sd):\n    return 0.0\n"
         "def log_posterior(beta0, beta1, x, y, noise_sd, prior_sd):\n"
         "    return log_prior(beta0, beta1, prior_sd) + log_likelihood(beta0, beta1, x, y, noise_sd)\n", namespace)
    wrong_prior = namespace["log_prior"]
    assert passes("lab02.log_posterior", log_posterior=namespace["log_posterior"])
    assert namespace["log_prior"] is wrong_prior
    result = cb.check("lab02.log_prior", log_prior=wrong_prior)
    assert not result.passed and "same constant" in result.message


def test_log_density_failures_teach_without_the_formula(lenient):
    cb.grading.progress_log.reset()
    no_constant = lambda b0, b1, x, y, s: -0.5 * np.sum((y - b0 - b1 * x) ** 2) / s**2  # noqa: E731
    result = cb.check("lab02.log_likelihood", log_likelihood=no_constant)
    assert not result.passed and "same constant" in result.message and "normalising constant" in result.message
    assert not result.show_hint and "sqrt(2 pi)" not in result.text()
    assert passes("lab02.log_likelihood", log_likelihood=lambda *a: np.array(good_log_likelihood(*a)))
    cb.grading.progress_log.reset()


def _step_with(accept_rule, proposal=lambda beta, scale, rng: beta + scale * rng.normal(size=2)):
    def step(beta, log_posterior_fn, proposal_scale, rng):
        new = proposal(beta, proposal_scale, rng)
        if accept_rule(log_posterior_fn(new), log_posterior_fn(beta), rng.uniform()):
            return new, True
        return beta, False
    return step


@pytest.mark.parametrize("wrong", [
    _step_with(lambda new, old, u: u > np.exp(new - old)),                       # accepts when u > alpha
    _step_with(lambda new, old, u: u < new / old if old else True),            # ratio of log-posteriors
    _step_with(lambda new, old, u: True),                                        # always accepts
    _step_with(lambda new, old, u: new > old),                                   # greedy: never goes downhill
    _step_with(lambda new, old, u: u < np.exp(old - new)),                       # ratio upside down
    _step_with(lambda new, old, u: u < np.exp(new - old),
               proposal=lambda beta, scale, rng: beta + rng.normal(size=2)),     # ignores the proposal scale
    _step_with(lambda new, old, u: u < np.exp(new - old),
               proposal=lambda beta, scale, rng: beta + scale * rng.uniform(size=2)),  # not centred
])
def test_metropolis_step(lenient, wrong):
    assert passes("lab02.metropolis_step", metropolis_step=good_step)
    assert not passes("lab02.metropolis_step", metropolis_step=wrong)


def test_metropolis_step_with_wrong_return_fails_cleanly(lenient):
    assert not passes("lab02.metropolis_step", metropolis_step=lambda b, f, s, r: good_step(b, f, s, r)[0])
    lying = lambda b, f, s, r: (good_step(b, f, s, r)[0], True)  # noqa: E731
    assert not passes("lab02.metropolis_step", metropolis_step=lying)


def _exact_draws(rng, *, sd_factor=1.0, shift=0.0, size=(2, 2000)):
    ads = cb.data.advertising()
    exact = models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=ads.truth["sigma"], prior_sd=10.0)
    return cb.MCMCResult.from_draws({
        name: exact.mean[k] + shift * exact.sd[k] + sd_factor * exact.sd[k] * rng.normal(size=size)
        for k, name in enumerate(exact.names)})


def test_posterior_summary(lenient, seed):
    rng = np.random.default_rng(seed)
    assert passes("lab02.posterior_summary", result=_exact_draws(rng))
    assert not passes("lab02.posterior_summary", result=_exact_draws(rng, sd_factor=1 / np.sqrt(2)))  # no -1/2
    assert not passes("lab02.posterior_summary", result=_exact_draws(rng, shift=0.3))
    assert not passes("lab02.posterior_summary", result=_exact_draws(rng, size=(1, 150)))          # too short
    stuck = cb.MCMCResult.from_draws({"beta0": np.full(500, 6.5), "beta1": np.full(500, 0.05)})
    assert not passes("lab02.posterior_summary", result=stuck)
    assert not passes("lab02.posterior_summary", result={"beta0": 1.0})


@pytest.mark.slow
def test_posterior_summary_of_a_real_chain(lenient, seed):
    """The lab's own recipe (a correct step, 30% burn-in) passes; the scaffold's likelihood fails."""
    ads = cb.data.advertising()
    scale = np.array([0.45, 0.0027])

    def run(log_likelihood, num_steps=12_000):
        rng = np.random.default_rng(seed)
        log_post = lambda b: good_log_prior(b[0], b[1], 10.0) + log_likelihood(b[0], b[1], ads.x, ads.y, 3.26)  # noqa: E731,E501
        beta, chain = np.array([0.0, 0.0]), []
        for _ in range(num_steps):
            beta, _ = good_step(beta, log_post, scale, rng)
            chain.append(beta)
        kept = np.array(chain[int(0.3 * num_steps):])
        return cb.MCMCResult.from_draws({"beta0": kept[:, 0], "beta1": kept[:, 1]})

    fast_likelihood = lambda b0, b1, x, y, s: -0.5 * np.sum((y - b0 - b1 * x) ** 2) / s**2  # noqa: E731
    assert passes("lab02.posterior_summary", result=run(fast_likelihood))
    scaffold = lambda b0, b1, x, y, s: -np.sum(np.log((y - (b0 + b1 * x)) ** 2))  # noqa: E731
    assert not passes("lab02.posterior_summary", result=run(scaffold))


# ---------------------------------------------------------------- lab 03

GAP = cb.data.sin_gap()


def good_forward(x, w11, w12, w21, w22, b1):
    return models.gap5_forward(x, w11, w12, w21, w22, b1)


def good_log_posterior_03(w11, w12, w21, w22, b1):
    return models.gap5_log_prob(GAP.x, GAP.y)(w11, w12, w21, w22, b1) + 123.0   # constants are free


def test_forward(lenient):
    assert passes("lab03.forward", sin_network=good_forward)
    def cosine(x, w11, w12, w21, w22, b1):
        w11, w12, w21, w22, b1 = (np.asarray(w)[..., None] for w in (w11, w12, w21, w22, b1))
        return w21 * np.cos(w11 * x) + w22 * np.sin(w12 * x) + b1

    def no_bias(x, w11, w12, w21, w22, b1):
        return good_forward(x, w11, w12, w21, w22, 0.0 * b1)

    def crossed(x, w11, w12, w21, w22, b1):          # w21 multiplies the second unit
        return good_forward(x, w11, w12, w22, w21, b1)

    def no_chain_axis(x, w11, w12, w21, w22, b1):    # [n, num_chains] instead of [num_chains, n]
        return w21 * np.sin(w11 * x[:, None]) + w22 * np.sin(w12 * x[:, None]) + b1

    for wrong in (cosine, no_bias, crossed, no_chain_axis):
        assert not passes("lab03.forward", sin_network=wrong)


def test_log_posterior_03(lenient):
    assert passes("lab03.log_posterior", log_posterior=good_log_posterior_03)
    unnormalised = lambda w11, w12, w21, w22, b1: (  # noqa: E731
        -0.5 * np.sum((GAP.y - good_forward(GAP.x, w11, w12, w21, w22, b1)) ** 2, -1) / 0.01
        - 0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2))
    assert passes("lab03.log_posterior", log_posterior=unnormalised)
    wrong_noise = models.gap5_log_prob(GAP.x, GAP.y, noise_sd=1.0)
    wide_prior = models.gap5_log_prob(GAP.x, GAP.y, prior_sd=10.0)
    no_prior = models.gap5_log_prob(GAP.x, GAP.y, prior_sd=None)
    summed_over_chains = lambda **w: np.sum(models.gap5_log_prob(GAP.x, GAP.y)(**w))  # noqa: E731
    no_half = lambda **w: 2 * unnormalised(**w)  # noqa: E731
    for wrong in (wrong_noise, wide_prior, no_prior, summed_over_chains, no_half):
        assert not passes("lab03.log_posterior", log_posterior=wrong)


def test_log_posterior_03_is_judged_with_the_reference_forward_pass(lenient):
    # The notebook's sin_network lacks the chain axis (Question 1 wrong); a correct
    # log_posterior that calls it must still pass, and the notebook keeps its own version.
    namespace = {"np": np, "x": GAP.x, "y": GAP.y}
    exec("def sin_network(x, w11, w12, w21, w22, b1):\n"
         "    return w21 * np.sin(w11 * x) + w22 * np.sin(w12 * x) + b1\n"
         "def log_posterior(w11, w12, w21, w22, b1):\n"
         "    residual = y - sin_network(x, w11, w12, w21, w22, b1)\n"
         "    return (-0.5 * np.sum(residual**2, axis=-1) / 0.01\n"
         "            - 0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2))\n", namespace)
    wrong_forward = namespace["sin_network"]
    assert passes("lab03.log_posterior", log_posterior=namespace["log_posterior"])
    assert namespace["sin_network"] is wrong_forward
    assert not passes("lab03.forward", sin_network=wrong_forward)


def good_flip(w, k):
    return dict(w, **{f"w1{k}": -w[f"w1{k}"], f"w2{k}": -w[f"w2{k}"]})


def good_swap(w):
    return dict(w, w11=w["w12"], w12=w["w11"], w21=w["w22"], w22=w["w21"])


def test_symmetries(lenient):
    assert passes("lab03.symmetries", flip_sign=good_flip, swap_units=good_swap)
    identity = lambda w, *k: dict(w)  # noqa: E731
    first_layer_only = lambda w, k: dict(w, **{f"w1{k}": -w[f"w1{k}"]})  # noqa: E731
    wrong_unit = lambda w, k: good_flip(w, 3 - k)  # noqa: E731
    swap_first_layer = lambda w: dict(w, w11=w["w12"], w12=w["w11"])  # noqa: E731
    flip_everything = lambda w, k: {n: -v for n, v in w.items()}  # noqa: E731
    assert not passes("lab03.symmetries", flip_sign=identity, swap_units=good_swap)
    assert not passes("lab03.symmetries", flip_sign=good_flip, swap_units=identity)
    assert not passes("lab03.symmetries", flip_sign=first_layer_only, swap_units=good_swap)
    assert not passes("lab03.symmetries", flip_sign=wrong_unit, swap_units=good_swap)
    assert not passes("lab03.symmetries", flip_sign=good_flip, swap_units=swap_first_layer)
    assert not passes("lab03.symmetries", flip_sign=flip_everything, swap_units=good_swap)


# ---------------------------------------------------------------- lab 04


def test_log_posterior_tf(lenient):
    tf = pytest.importorskip("tensorflow")
    good = models.gap5_log_prob(GAP.x, GAP.y, backend="tensorflow")
    assert passes("lab04.log_posterior_tf", log_posterior_tf=good)
    x_tf, y_tf = tf.constant(GAP.x, tf.float32), tf.constant(GAP.y, tf.float32)

    def unnormalised(w11, w12, w21, w22, b1, noise=0.1, prior=1.0, sin=tf.sin):
        f = w21[..., None] * sin(w11[..., None] * x_tf) + w22[..., None] * sin(w12[..., None] * x_tf) + b1[..., None]
        return (-0.5 * tf.reduce_sum((y_tf - f) ** 2, -1) / noise**2
                - 0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2) / prior**2)

    assert passes("lab04.log_posterior_tf", log_posterior_tf=unnormalised)
    numpy_sin = lambda w11, w12, w21, w22, b1: unnormalised(w11, w12, w21, w22, b1, sin=lambda v: tf.constant(np.sin(v.numpy())))  # noqa: E731,E501
    numpy_all = lambda **w: models.gap5_log_prob(GAP.x, GAP.y)(**{n: v.numpy() for n, v in w.items()})  # noqa: E731
    wrong_noise = lambda **w: unnormalised(**w, noise=1.0)  # noqa: E731
    no_prior = lambda **w: unnormalised(**w, prior=1e6)  # noqa: E731
    for wrong in (numpy_sin, numpy_all, wrong_noise, no_prior):
        assert not passes("lab04.log_posterior_tf", log_posterior_tf=wrong)


def test_hack(lenient):
    pytest.importorskip("tensorflow")
    good = lambda w11, w12: models.gap5_log_prob(GAP.x, GAP.y, fixed={"w11": w11, "w12": w12}, backend="tensorflow")  # noqa: E731,E501
    assert passes("lab04.hack", make_hack_log_posterior=good)
    ignores_arguments = lambda w11, w12: good(4.3, 0.13)  # noqa: E731
    swapped = lambda w11, w12: good(w12, w11)  # noqa: E731
    full_prior = lambda w11, w12: (lambda **w: good(w11, w12)(**w) - 0.5 * (w11**2 + w12**2) * w["b1"])  # noqa: E731
    not_a_function = lambda w11, w12: 0.0  # noqa: E731
    for wrong in (ignores_arguments, swapped, full_prior, not_a_function):
        assert not passes("lab04.hack", make_hack_log_posterior=wrong)


def good_predictive(samples, x, noise_sd):
    band = models.posterior_predictive(samples, x, noise_sd=noise_sd)
    return band.mean, band.total_sd


def test_predictive(lenient):
    assert passes("lab04.predictive", predictive_mean_sd=good_predictive)
    with_ddof = lambda s, x, n: (good_predictive(s, x, n)[0],  # noqa: E731
                                 np.sqrt(models.gap5_forward(x, **{k: v.ravel() for k, v in s.items()}).var(0, ddof=1) + n**2))  # noqa: E501
    assert passes("lab04.predictive", predictive_mean_sd=with_ddof)
    as_list = lambda s, x, n: list(good_predictive(s, x, n))  # noqa: E731
    float32 = lambda s, x, n: tuple(np.float32(v) for v in good_predictive(s, x, n))  # noqa: E731
    assert passes("lab04.predictive", predictive_mean_sd=as_list)
    assert passes("lab04.predictive", predictive_mean_sd=float32)
    assert not passes("lab04.predictive", predictive_mean_sd=lambda s, x, n: good_predictive(s, x, n)[1])
    no_noise = lambda s, x, n: good_predictive(s, x, 0.0)  # noqa: E731
    noise_added_to_sd = lambda s, x, n: (good_predictive(s, x, n)[0], good_predictive(s, x, 0.0)[1] + n)  # noqa: E731
    first_chain = lambda s, x, n: good_predictive({k: v[:1] for k, v in s.items()}, x, n)  # noqa: E731
    def chain_means(s, x, n):
        outputs = models.gap5_forward(x, **s).mean(axis=1)            # [chain, m]: averages before the sd
        return outputs.mean(0), np.sqrt(outputs.var(0) + n**2)
    for wrong in (no_noise, noise_added_to_sd, first_chain, chain_means):
        assert not passes("lab04.predictive", predictive_mean_sd=wrong)


# ---------------------------------------------------------------- student copies


STUDENT_BLANKS = {
    "lab02.log_prior": dict(log_prior=lambda b0, b1, s: None),
    "lab02.log_likelihood": dict(log_likelihood=lambda b0, b1, x, y, s: None),
    "lab02.log_posterior": dict(log_posterior=lambda *a: None),
    "lab02.metropolis_step": dict(metropolis_step=lambda *a: None),
    "lab02.posterior_summary": dict(result=...),
    "lab03.forward": dict(sin_network=lambda x, w11, w12, w21, w22, b1: None),
    "lab03.log_posterior": dict(log_posterior=lambda **w: None),
    "lab03.symmetries": dict(flip_sign=lambda w, k: None, swap_units=lambda w: None),
    "lab04.log_posterior_tf": dict(log_posterior_tf=lambda **w: None),
    "lab04.hack": dict(make_hack_log_posterior=lambda w11, w12: None),
    "lab04.predictive": dict(predictive_mean_sd=lambda s, x, n: None),
}


@pytest.mark.parametrize("question_id", sorted(STUDENT_BLANKS))
def test_blank_answers_fail_cleanly(lenient, question_id):
    """A blanked function (body `...`, returns None) or `x = ...` fails with a message, never raises."""
    result = cb.check(question_id, **STUDENT_BLANKS[question_id])
    assert not result.passed
    assert "not answered" in result.message


def test_every_question_of_labs_02_04_is_tested():
    asked = set(cb.grading.questions("lab02") + cb.grading.questions("lab03") + cb.grading.questions("lab04"))
    assert asked == set(STUDENT_BLANKS)


def test_failed_check_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv("CS109B_STRICT", "1")
    with pytest.raises(cb.grading.CheckFailed):
        cb.check("lab03.forward", sin_network=lambda *a: None)
