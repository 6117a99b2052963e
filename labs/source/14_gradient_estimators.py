# %% [markdown]
# # Lab 14 — Gradient estimators
#
# **Goal.** Fitting $q_\phi$ by maximising the ELBO needs the gradient of an expectation,
# $\nabla_\phi E_{z \sim q_\phi}[f(z)]$, and we can only estimate it from draws of $z$. You will
# write the two classic Monte Carlo estimators, the *score function* (REINFORCE) and the
# *reparameterization* (pathwise) estimator, for a Gaussian $q = N(\mu, \sigma^2)$ on a model whose
# gradient is known in closed form; measure how their variance falls with the number of samples;
# add a *baseline* (a control variate) to the score function and measure what it buys; and see a
# discrete (Bernoulli) latent where reparameterization does not apply.
#
# **Slide.** Maddison, STA 4273 Lecture 6 "Variational Objectives II", slides 17-19: "z blocks 2
# paths. Can use score function est., but high variance." — "Luckily, we can reparameterize the
# graph with $z = \sigma_x \epsilon + \mu_x$ ... Now we get pathwise gradients! Much lower variance!"
#
# **Expected figure.** Left: the variance of each estimator of $\partial/\partial\mu$ and
# $\partial/\partial\log\sigma$ against the number of samples $S$ on log-log axes: parallel
# lines of slope about $-1$, the score function's far above the reparameterization's. Right: the
# same for the score function with and without a leave-one-out baseline, on the Gaussian and on the
# Bernoulli latent.
#
# $$\nabla_\phi E_{q_\phi}[f(z)] = E_{q_\phi}\big[f(z)\,\nabla_\phi \log q_\phi(z)\big]
#   = E_{\epsilon \sim N(0,1)}\big[f'(z)\,\nabla_\phi z\big],\qquad z = \mu + \sigma\epsilon .$$

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
# Parameters: CS109B_FAST=1 uses fewer repeats per sample size (noisier variance estimates).
FAST = cb.fast_mode()
NUM_REPEATS = 300 if FAST else 2_000        # independent estimates per sample size
SAMPLE_SIZES = [4, 16, 64, 256, 1024]       # S, the draws averaged in one estimate
MU, LOG_SIGMA, TARGET = 0.0, 0.0, 2.0       # q = N(0, 1); f(z) = -(z - 2)^2 / 2
SEED = 14
print(f"{'fast' if FAST else 'full'} mode: {NUM_REPEATS} repeats per sample size")

# %% [markdown]
# ## Part 1: a model with a closed-form gradient
#
# Take $f(z) = -(z - a)^2/2$, a Gaussian log-likelihood of one observation $a$ (up to a constant),
# and $q = N(\mu, \sigma^2)$ with $\sigma = e^{\log\sigma}$ (we optimise $\log\sigma$, so that
# $\sigma$ stays positive). Then $E_q[f] = -\big((\mu - a)^2 + \sigma^2\big)/2$, so
#
# $$\frac{\partial E_q[f]}{\partial \mu} = a - \mu, \qquad
#   \frac{\partial E_q[f]}{\partial \log\sigma} = -\sigma^2 .$$
#
# Every estimate below can be compared with these numbers (`cb.variational.quadratic_gradient`).

# %%
def f(z):
    return -0.5 * (z - TARGET) ** 2


def grad_f(z):
    return TARGET - z


exact = cb.variational.quadratic_gradient(MU, LOG_SIGMA, target=TARGET)
print(f"exact gradient at mu = {MU}, log sigma = {LOG_SIGMA}: d/dmu = {exact[0]:.3f}, d/dlog_sigma = {exact[1]:.3f}")

# %% [markdown]
# **Question 1.** Write the score-function estimator
# `score_function(f, mu, log_sigma, eps)`: `eps` is an array of $S$ standard normal draws; set
# $z = \mu + \sigma\epsilon$ and return, for every draw, the pair
# $f(z)\,\big(\partial_\mu \log q(z),\ \partial_{\log\sigma} \log q(z)\big)$: an array of shape
# $[S, 2]$ (the lab averages the rows). Work out the two derivatives of
# $\log N(z \mid \mu, \sigma^2)$ yourself; the second one is with respect to $\log\sigma$.
# The estimator uses only *values* of $f$.

# %%
def score_function(f, mu, log_sigma, eps):
    # BEGIN SOLUTION
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    score = np.stack([(z - mu) / sigma**2, (z - mu) ** 2 / sigma**2 - 1.0], axis=1)
    return f(z)[:, None] * score
    # END SOLUTION


# %%
cb.check("lab14.score_function", score_function=score_function)

# %% [markdown]
# **Question 2.** Write the reparameterization estimator
# `reparameterization(grad_f, mu, log_sigma, eps)`: with the same $z = \mu + \sigma\epsilon$,
# return for every draw the pair $f'(z)\,\big(\partial z/\partial\mu,\ \partial z/\partial\log\sigma\big)$,
# shape $[S, 2]$. It uses the *derivative* of $f$ and the path from the parameters to $z$
# (mind the chain rule through $\sigma = e^{\log\sigma}$).

# %%
def reparameterization(grad_f, mu, log_sigma, eps):
    # BEGIN SOLUTION
    sigma = np.exp(log_sigma)
    slope = grad_f(mu + sigma * eps)
    return np.stack([slope, slope * sigma * eps], axis=1)
    # END SOLUTION


# %%
cb.check("lab14.reparameterization", reparameterization=reparameterization)

# %% [markdown]
# ## Part 2: both are unbiased; their variances differ
#
# One estimate with $S = 1024$ draws from each estimator, against the exact gradient: the error
# is measured in the estimator's own standard error (sd of the per-draw values $/\sqrt S$).

# %%
def as_rows(estimates, num_samples):
    """The per-draw estimates as an array [S, 2] (answers may return a pair of [S] arrays)."""
    rows = np.asarray(estimates, dtype=float)
    return rows.T if rows.shape == (2, num_samples) else rows


def draws(num_samples, seed):
    return cb.seeds.numpy_rng(seed, "eps").normal(size=num_samples)


if cb.ready("lab14.score_function", "lab14.reparameterization"):
    eps = draws(1024, SEED)
    per_draw = {"score function": as_rows(score_function(f, MU, LOG_SIGMA, eps), eps.size),
                "reparameterization": as_rows(reparameterization(grad_f, MU, LOG_SIGMA, eps), eps.size)}
    print(f"{'':20s}{'d/dmu':>14s}{'d/dlog_sigma':>22s}{'z-scores':>14s}{'per-draw sd':>16s}")
    for name, rows in per_draw.items():
        mean, stderr = rows.mean(axis=0), rows.std(axis=0, ddof=1) / np.sqrt(eps.size)
        z_scores = np.abs(mean - exact) / stderr
        print(f"{name:20s}{mean[0]:10.3f} +- {stderr[0]:.3f}{mean[1]:12.3f} +- {stderr[1]:.3f}"
              f"{z_scores[0]:7.1f}{z_scores[1]:7.1f}{rows.std(axis=0)[0]:8.2f}{rows.std(axis=0)[1]:8.2f}")
        assert np.all(z_scores < 4.5), f"{name}: more than 4.5 standard errors from the exact gradient"
    print(f"exact{'':15s}{exact[0]:10.3f}{'':8s}{exact[1]:12.3f}")
    print("Both estimates are within 4.5 of their own standard errors of the exact gradient.")

# %% [markdown]
# ## Part 3: variance against the number of samples
#
# Averaging $S$ independent draws divides the variance by $S$: on log-log axes, a line of slope
# $-1$. We measure it: for each $S$, `NUM_REPEATS` independent estimates
# (`cb.variational.variance_by_num_samples`), for both estimators and both parameters.

# %%
def student_estimator(estimator, fn):
    def run(num_samples, seed):
        return as_rows(estimator(fn, MU, LOG_SIGMA, draws(num_samples, seed)), num_samples).mean(axis=0)
    return run


if cb.ready("lab14.score_function", "lab14.reparameterization"):
    curves = {}
    for name, estimator, fn in cb.progress.iterate([("score function", score_function, f),
                                                    ("reparameterization", reparameterization, grad_f)],
                                                   desc="estimators"):
        curves[name] = cb.variational.variance_by_num_samples(student_estimator(estimator, fn), SAMPLE_SIZES,
                                                              num_repeats=NUM_REPEATS, seed=SEED)
    for name, curve in curves.items():
        print(f"{name:20s} log-log slope: d/dmu {curve.slope[0]:.3f}, d/dlog_sigma {curve.slope[1]:.3f}")
        assert np.all(np.abs(curve.slope + 1) < 0.2), "the variance should fall as 1/S"
    ratio = curves["score function"].variance / curves["reparameterization"].variance
    print(f"variance ratio score function / reparameterization, over S = {SAMPLE_SIZES}:")
    print(f"  d/dmu        {np.round(ratio[:, 0], 1)}")
    print(f"  d/dlog_sigma {np.round(ratio[:, 1], 1)}")
    assert np.all(ratio > 5), "the score function should be far noisier here"
    print(f"Both variances fall as 1/S (slopes within 0.2 of -1); the score function's is "
          f"{ratio.min():.0f}x to {ratio.max():.0f}x larger at every S, so it needs that many times more draws "
          f"for the same precision.")

# %% [markdown]
# Why? The reparameterization estimate of $\partial/\partial\mu$ is $f'(z) = a - \mu - \sigma\epsilon$:
# its variance is exactly $\sigma^2$ per draw. The score function multiplies the *value* $f(z)$, which
# here is far from zero and varies a lot, by a zero-mean score: most of that product is noise that
# only cancels on average. It uses less information (no derivative of $f$), and pays for it in variance.

# %% [markdown]
# ## Part 4: a baseline (control variate)
#
# Because $E_q[\nabla_\phi \log q(z)] = 0$, subtracting any constant $b$ from $f$ keeps the score
# function unbiased: $E_q[(f(z) - b)\,\nabla_\phi \log q(z)] = \nabla_\phi E_q[f]$. A $b$ close to
# $f$'s typical value removes much of the noise. We cannot compute $E_q[f]$ in general, but the
# other draws estimate it: the *leave-one-out* baseline gives draw $i$ the mean of $f$ over the
# other $S - 1$ draws. It must not use draw $i$ itself, or the estimator becomes biased.
#
# **Question 3 (optional).** Write `leave_one_out_baseline(f_values)`: for an array of $S$ values
# of $f$, return an array of $S$ baselines, entry $i$ the mean of all values except the $i$-th.

# %%
def leave_one_out_baseline(f_values):
    # BEGIN SOLUTION
    return (np.sum(f_values) - f_values) / (len(f_values) - 1)
    # END SOLUTION


# %%
cb.check("lab14.baseline", leave_one_out_baseline=leave_one_out_baseline)

# %% [markdown]
# `cb.variational.score_function_gradient` accepts your baseline (`baseline=` a function of the $f$
# values); we measure the variance with and without it, and with the exact constant $b = E_q[f]$.

# %%
def library_score(baseline):
    def run(num_samples, seed):
        return cb.variational.score_function_gradient(f, MU, LOG_SIGMA, num_samples=num_samples, seed=seed,
                                                      baseline=baseline)
    return run


if cb.ready("lab14.baseline"):
    expected_f = -0.5 * ((MU - TARGET) ** 2 + np.exp(2 * LOG_SIGMA))
    baselines = {"no baseline": None, "leave-one-out (yours)": leave_one_out_baseline,
                 f"constant E_q[f] = {expected_f:.2f}": expected_f}
    baseline_curves = {name: cb.variational.variance_by_num_samples(library_score(b), SAMPLE_SIZES,
                                                                     num_repeats=NUM_REPEATS, seed=SEED)
                       for name, b in cb.progress.iterate(list(baselines.items()), desc="baselines")}
    plain = baseline_curves["no baseline"].variance
    for name, curve in baseline_curves.items():
        reduction = plain / curve.variance
        print(f"{name:28s} variance reduction (no baseline / this), mean over S: d/dmu "
              f"{reduction[:, 0].mean():.2f}x, d/dlog_sigma {reduction[:, 1].mean():.2f}x; "
              f"bias z-score at S = {SAMPLE_SIZES[-1]}: "
              f"{np.max(np.abs(curve.mean[-1] - exact) / np.sqrt(curve.variance[-1] / NUM_REPEATS)):.1f}")
        assert np.all(np.abs(curve.mean[-1] - exact) < 4.5 * np.sqrt(curve.variance[-1] / NUM_REPEATS))
    loo_reduction = (plain / baseline_curves["leave-one-out (yours)"].variance).mean(axis=0)
    assert np.all(loo_reduction > 1.3), "the leave-one-out baseline should cut the variance"
    print(f"The leave-one-out baseline cuts the variance by {loo_reduction.min():.1f}x or more (mean over S) "
          f"and stays unbiased.")

# %% [markdown]
# ## Part 5: a Bernoulli latent
#
# Now $b \sim \mathrm{Bernoulli}(p)$, $p = \mathrm{sigmoid}(\theta)$, and $f(b) = (b - t)^2$ with
# $t = 0.45$ (a classic test case: $f(0)$ and $f(1)$ are close, so the gradient is small next to
# $f$). The exact gradient enumerates $b$: $\partial_\theta E[f] = p(1-p)\,(f(1) - f(0))$.
# There is no $z = \mu + \sigma\epsilon$ here: writing $b = 1[u < p]$ with $u \sim U(0, 1)$, the
# sampled $b$ is a step function of $\theta$, its derivative is zero for (almost) every $u$, and
# a pathwise estimate is zero, whatever the true gradient. The score $\partial_\theta \log q(b) = b - p$
# still works.

# %%
THETA, T = 0.0, 0.45


def f_bernoulli(b):
    return (b - T) ** 2


exact_bernoulli = cb.variational.bernoulli_exact_gradient((f_bernoulli(0.0), f_bernoulli(1.0)), THETA)
u = cb.seeds.numpy_rng(SEED, "pathwise").uniform(size=100_000)
step = 1e-9
p = 1 / (1 + np.exp(-THETA))
moved = (u < 1 / (1 + np.exp(-(THETA + step)))).astype(float)
pathwise = np.mean((f_bernoulli(moved) - f_bernoulli((u < p).astype(float))) / step)
print(f"exact gradient {exact_bernoulli:.4f}; pathwise estimate from {u.size} draws: {pathwise:.4f} "
      f"(no draw's b moved when theta moved by {step})")
assert pathwise == 0.0 and exact_bernoulli > 0

bernoulli_curves = {}
for name, baseline in cb.progress.iterate([("no baseline", None), ("leave-one-out", "leave-one-out")],
                                          desc="Bernoulli"):
    def run(num_samples, seed, baseline=baseline):
        return cb.variational.bernoulli_score_gradient(f_bernoulli, THETA, num_samples=num_samples, seed=seed,
                                                       baseline=baseline)
    bernoulli_curves[name] = cb.variational.variance_by_num_samples(run, SAMPLE_SIZES, num_repeats=NUM_REPEATS,
                                                                    seed=SEED)
for name, curve in bernoulli_curves.items():
    stderr = np.sqrt(curve.variance[:, 0] / NUM_REPEATS)
    print(f"score function, {name:14s}: mean at S = {SAMPLE_SIZES[0]}: {curve.mean[0, 0]:.4f}, at S = "
          f"{SAMPLE_SIZES[-1]}: {curve.mean[-1, 0]:.4f} (exact {exact_bernoulli:.4f}); sd of one estimate at "
          f"S = {SAMPLE_SIZES[0]}: {np.sqrt(curve.variance[0, 0]):.4f}")
    assert np.all(np.abs(curve.mean[:, 0] - exact_bernoulli) < 4.5 * np.maximum(stderr, 1e-12))
bernoulli_ratio = bernoulli_curves["no baseline"].variance[:, 0] / bernoulli_curves["leave-one-out"].variance[:, 0]
relative_sd = np.sqrt(bernoulli_curves["no baseline"].variance[0, 0]) / exact_bernoulli
print(f"Without a baseline one S = {SAMPLE_SIZES[0]} estimate has an sd {relative_sd:.1f}x the gradient itself; "
      f"the leave-one-out baseline cuts the variance {bernoulli_ratio.min():.0f}x or more "
      f"({bernoulli_ratio.max():.0f}x at S = {SAMPLE_SIZES[int(np.argmax(bernoulli_ratio))]}).")
print(f"log-log slopes: no baseline {bernoulli_curves['no baseline'].slope[0]:.2f}, leave-one-out "
      f"{bernoulli_curves['leave-one-out'].slope[0]:.2f} (f takes only two values, so f minus the mean of the "
      f"others is almost constant within each value of b, and its noise shrinks with S too)")
assert relative_sd > 1 and np.all(bernoulli_ratio > 10)

# %%
if cb.ready("lab14.score_function", "lab14.reparameterization"):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for (name, curve), color in zip(curves.items(), ("C0", "C1")):
        for k, (param, style) in enumerate((("mu", "-o"), ("log sigma", "--s"))):
            axes[0].loglog(curve.num_samples, curve.variance[:, k], style, color=color,
                           label=f"{name}, d/d{param} (slope {curve.slope[k]:.2f})")
    axes[0].set_xlabel("number of samples S")
    axes[0].set_ylabel("variance of the estimate")
    axes[0].set_title("Gaussian q: score function vs reparameterization")
    axes[0].legend(fontsize=8)
    if cb.ready("lab14.baseline"):
        for (name, curve), color in zip(baseline_curves.items(), ("C0", "C2", "C3")):
            axes[1].loglog(curve.num_samples, curve.variance[:, 0], "-o", color=color,
                           label=f"Gaussian d/dmu, {name}")
    for (name, curve), style in zip(bernoulli_curves.items(), ("-^", "--^")):
        axes[1].loglog(curve.num_samples, curve.variance[:, 0], style, color="C4", label=f"Bernoulli, {name}")
    axes[1].set_xlabel("number of samples S")
    axes[1].set_title("Score function with and without a baseline")
    axes[1].legend(fontsize=8)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## Summary
#
# * Both estimators are unbiased: with $S = 1024$ draws each lands within 4.5 of its own standard
#   errors of the closed-form gradient (printed in Part 2); the checks test the same on fresh
#   random $\mu$, $\sigma$, $a$.
# * Their variance falls as $1/S$ (measured log-log slopes within 0.2 of $-1$, printed), but on this
#   Gaussian model the score function's variance is larger than the reparameterization's at
#   every $S$, by the printed factor (asserted above 5): the lecture's "much lower variance" for
#   pathwise gradients, measured.
# * A baseline keeps the score function unbiased and cuts its variance: the leave-one-out baseline
#   by the printed factor on the Gaussian (asserted above 1.3), and by a much larger one on the
#   Bernoulli latent (asserted above 10), where $f(0)$ and $f(1)$ are close; there the variance with
#   the baseline even falls faster than $1/S$ (printed log-log slope about $-2$).
# * For a discrete latent there is no reparameterization: the pathwise estimate is exactly 0 while
#   the true gradient is not, and the score function (with a baseline) is the estimator that works.
