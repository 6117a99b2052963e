# %% [markdown]
# # Lab 16 — Active learning with Bayesian uncertainty
#
# **Goal.** Labels are expensive; unlabelled inputs are cheap. In *pool-based active learning* a
# model trained on the few labelled points chooses which pool point an oracle should label next.
# A Bayesian network knows what it does not know, so it can ask where it is unsure. You will write
# the **BALD** score (the mutual information between a point's label and the network's weights)
# and the **acquisition step**, then compare acquisition by BALD and by predictive entropy, from
# MC dropout, against labelling at random on MNIST digits (learning curves over rounds, averaged
# over three seeds), and do the same for regression on the gap data of labs 03-09, where we can
# see *where* the acquired points land.
#
# **Slide.** Šmídl, "Deep Bayesian Learning", Lecture 3 (Application to Deep Active Learning):
# "Decision: select 'most-interesting' point $x^*$ in $X^{new}$ for an evaluator (oracle) to obtain
# $y^*$" — "Utility: to learn about the true problem as much as possible: mutual information".
#
# **Expected figure.** (1) The ten pool digits the first BALD round picks. (2) Test accuracy against
# the number of labelled digits for random, entropy and BALD acquisition, mean over seeds with a
# shaded band of $\pm 1$ sd. (3) The gap data with the pool along the line and the points that
# variance and random acquisition label.
#
# With $T$ Monte Carlo draws $p_t(y \mid x)$ (dropout masks) and $H(p) = -\sum_c p_c \log p_c$:
#
# $$\text{entropy}(x) = H\Big[\tfrac1T\textstyle\sum_t p_t\Big], \qquad
#   \text{BALD}(x) = H\Big[\tfrac1T\textstyle\sum_t p_t\Big] - \tfrac1T\textstyle\sum_t H[p_t]
#   \approx I(y; w \mid x, D).$$

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
# Parameters: CS109B_FAST=1 uses a smaller pool, fewer rounds and one regression seed.
FAST = cb.fast_mode()
POOL_SIZE = 1_000 if FAST else 3_000       # unlabelled MNIST digits the learner can choose from
NUM_COMPONENTS = 40                        # PCA features of the images (fitted on the pool: no labels needed)
INITIAL_SIZE = 20                          # labelled digits at the start
ACQUISITION_SIZE = 10 if FAST else 20      # digits labelled per round
NUM_ROUNDS = 6 if FAST else 10             # acquisition rounds
NUM_SAMPLES = 20                           # MC-dropout passes T
SEEDS = (0, 1, 2)                          # every strategy runs with each seed (paired start sets)
REGRESSION_SEEDS = (0,) if FAST else (0, 1, 2)
REGRESSION_ROUNDS, REGRESSION_BATCH, REGRESSION_EPOCHS = (2, 3, 300) if FAST else (4, 3, 300)
print(f"{'fast' if FAST else 'full'} mode: pool {POOL_SIZE} digits, {INITIAL_SIZE} + {NUM_ROUNDS} x "
      f"{ACQUISITION_SIZE} labels, seeds {SEEDS}")

# %%
start_time = time.perf_counter()
mnist = cb.data.load_mnist()
pool_images, pool_y = mnist.x[:POOL_SIZE], mnist.y[:POOL_SIZE]
pool_x, test_x = cb.active.pca_features(pool_images, mnist.x_test, num_components=NUM_COMPONENTS)
test_y = mnist.y_test
print(f"MNIST from {mnist.source}: pool {pool_x.shape}, test {test_x.shape} ({NUM_COMPONENTS} PCA features)")

# %% [markdown]
# ## Part 1: the BALD score
#
# **Question 1.** Write `bald_score(probs)`: `probs` has shape $[T, n, C]$ (draws, pool points,
# classes) and each `probs[t, i]` sums to 1. Return the $n$ BALD scores: the entropy of the mean
# over draws minus the mean over draws of the entropies, with natural logarithms. Some
# probabilities are exactly 0 or 1: $0 \log 0$ counts as 0.

# %%
def bald_score(probs):
    # BEGIN SOLUTION
    probs = np.asarray(probs, dtype=float)
    logs = np.log(np.clip(probs, 1e-12, 1.0))
    mean = probs.mean(axis=0)
    entropy_of_mean = -np.sum(mean * np.log(np.clip(mean, 1e-12, 1.0)), axis=-1)
    mean_of_entropies = -np.sum(probs * logs, axis=-1).mean(axis=0)
    return entropy_of_mean - mean_of_entropies
    # END SOLUTION


# %%
cb.check("lab16.bald", bald_score=bald_score)

# %% [markdown]
# Two cases in closed form: draws that agree give BALD 0 however unsure each is (more labels will
# not teach the weights anything there: the label is just noisy), and two confident draws that
# disagree give $\log 2$ (one label settles which one is right: one bit).

# %%
if cb.ready("lab16.bald"):
    unsure_agreeing = np.full((5, 1, 4), 0.25)
    sure_disagreeing = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    agree, disagree = float(bald_score(unsure_agreeing)[0]), float(bald_score(sure_disagreeing)[0])
    print(f"BALD of 5 identical uniform draws over 4 classes: {agree:.4f} (their entropy: log 4 = {np.log(4):.4f})")
    print(f"BALD of two sure draws that disagree: {disagree:.4f} (log 2 = {np.log(2):.4f})")
    assert abs(agree) < 1e-9 and abs(disagree - np.log(2)) < 1e-9

# %% [markdown]
# ## Part 2: the acquisition step
#
# **Question 2.** Write `acquire(scores, labelled, batch_size)`: `scores` is an array of $n$ pool
# scores, `labelled` a boolean array marking the points already labelled. Return the indices (into
# the whole pool) of the `batch_size` unlabelled points with the highest scores.

# %%
def acquire(scores, labelled, batch_size):
    # BEGIN SOLUTION
    masked = np.where(labelled, -np.inf, scores)
    return np.argsort(-masked, kind="stable")[:batch_size]
    # END SOLUTION


# %%
cb.check("lab16.acquire", acquire=acquire)

# %% [markdown]
# ## Part 3: one round by hand
#
# A `cb.active.DropoutClassifier` (an MLP on the PCA features with dropout kept on at prediction
# time) trained on the 20 start digits; $T$ dropout passes over the pool give `probs`; your BALD
# and your acquisition step pick the first batch. Which digits does it ask for?

# %%
if cb.ready("lab16.bald", "lab16.acquire"):
    classifier = cb.active.DropoutClassifier(input_dim=NUM_COMPONENTS)
    labelled = cb.active.initial_mask(POOL_SIZE, INITIAL_SIZE, seed=SEEDS[0])
    classifier.fit(pool_x[labelled], pool_y[labelled], seed=0)
    probs = classifier.predict_probs(pool_x, num_samples=NUM_SAMPLES, seed=1)
    scores = np.asarray(bald_score(probs), dtype=float)
    assert np.allclose(scores, cb.active.bald(probs), atol=1e-5)
    picked = np.asarray(acquire(scores, labelled, ACQUISITION_SIZE), dtype=int)
    assert set(picked) == set(cb.active.acquire(scores, labelled, batch_size=ACQUISITION_SIZE))
    mean_probs = probs.mean(axis=0)
    pool_accuracy = np.mean(mean_probs.argmax(axis=1) == pool_y)
    entropy_scores = cb.active.predictive_entropy(probs)
    print(f"trained on {labelled.sum()} digits: pool accuracy {pool_accuracy:.3f}; BALD over the pool: median "
          f"{np.median(scores):.3f}, picked {scores[picked].min():.3f} to {scores[picked].max():.3f} nats")
    print(f"labels of the picked digits: {pool_y[picked].tolist()}; the model's guesses: "
          f"{mean_probs[picked].argmax(axis=1).tolist()}; correct: "
          f"{np.mean(mean_probs[picked].argmax(axis=1) == pool_y[picked]):.0%} (pool: {pool_accuracy:.0%})")
    num_rows = -(-ACQUISITION_SIZE // 10)
    fig, axes = plt.subplots(num_rows, 10, figsize=(14, 2.1 * num_rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), picked):
        ax.imshow(pool_images[index], cmap="gray_r")
        ax.set_title(f"BALD {scores[index]:.2f}\nguess {mean_probs[index].argmax()}, is {pool_y[index]}", fontsize=8)
    fig.suptitle(f"The {ACQUISITION_SIZE} digits the first BALD round asks to label ({INITIAL_SIZE} labelled so far)")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## Part 4: learning curves
#
# `cb.active.learning_curves` runs the loop for every strategy and seed: train from scratch
# (seeded), record the test accuracy on the 1,000 held-out digits, score the unlabelled pool,
# label the top batch, repeat. With the same seed all strategies start from the same 20 digits.

# %%
curves = cb.active.learning_curves(pool_x, pool_y, test_x, test_y, strategies=("random", "entropy", "bald"),
                                   seeds=SEEDS, initial_size=INITIAL_SIZE, acquisition_size=ACQUISITION_SIZE,
                                   num_rounds=NUM_ROUNDS, num_samples=NUM_SAMPLES)
sizes = curves.labelled_sizes
print(f"{'labelled':>10s}" + "".join(f"{s:>14s}" for s in curves.strategies))
for k, size in enumerate(sizes):
    print(f"{size:10d}" + "".join(f"{m[k]:8.3f} ± {sd[k]:.3f}" for m, sd in zip(curves.mean, curves.sd)))
gain = {s: curves.of(s)[:, -1] - curves.of(s)[:, 0] for s in curves.strategies}
assert all(np.all(g > 0.1) for g in gain.values()), "every strategy should learn from the labels it acquires"
advantage = {s: curves.of(s) - curves.of("random") for s in ("entropy", "bald")}
for s, diff in advantage.items():
    verdict = "above" if diff[:, -1].mean() > 0 else "not above"
    print(f"{s}: final accuracy {curves.of(s)[:, -1].mean():.3f} vs random {curves.of('random')[:, -1].mean():.3f} "
          f"({verdict} random by {diff[:, -1].mean():+.3f}; seeds where it is ahead: {int(np.sum(diff[:, -1] > 0))}"
          f"/{len(SEEDS)}); mean gap over rounds 1-{NUM_ROUNDS}: {diff[:, 1:].mean():+.3f}")

# %%
for s, diff in advantage.items():
    final_gap, spread = diff[:, -1].mean(), diff[:, -1].std(ddof=1)
    clear = abs(final_gap) > 2 * spread / np.sqrt(len(SEEDS))     # beyond 2 standard errors of the paired gap
    print(f"{'fast' if FAST else 'full'} mode, {s} vs random after {sizes[-1]} labels: {final_gap:+.3f} "
          f"(sd over seeds of the paired gap {spread:.3f}): "
          + ("a clear " + ("gain" if final_gap > 0 else "loss") if clear else "no clear difference")
          + f" at these sizes (clear: beyond 2 standard errors, {2 * spread / np.sqrt(len(SEEDS)):.3f})")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for strategy, mean, sd, color in zip(curves.strategies, curves.mean, curves.sd, ("C7", "C0", "C3")):
    ax.plot(sizes, mean, "-o", color=color, label=f"{strategy} (mean of {len(SEEDS)} seeds)")
    ax.fill_between(sizes, mean - sd, mean + sd, color=color, alpha=0.2)
ax.set_xlabel("labelled digits")
ax.set_ylabel("test accuracy")
ax.set_title(f"Active learning on MNIST ({'fast' if FAST else 'full'} mode: pool {POOL_SIZE}), band ±1 sd")
ax.legend()
plt.show()

# %% [markdown]
# ## Part 5: regression on the gap data
#
# The 20 gap points are labelled; the pool is a line of 101 x values over $[-0.5, 0.5]$ whose
# labels the oracle draws from the true function plus its noise. A deep ensemble
# (`cb.bnn.build_regressor("ensemble")`) is retrained from scratch each round, and the pool points
# of highest **epistemic** variance $\mathrm{var}_t\,\mu_t(x)$ are labelled: that is the part of the
# predictive variance a label can shrink. The aleatoric part is the noise of $y$ itself; acquiring
# by total variance would also chase noisy regions (here the noise is the same everywhere).
# The metric is the RMSE of the predictive mean against the noise-free truth on a grid.

# %%
problem = cb.active.gap_problem(seed=0)
regression = {strategy: [cb.active.run_regression_active_learning(
    problem, strategy=strategy, seed=seed, num_rounds=REGRESSION_ROUNDS, acquisition_size=REGRESSION_BATCH,
    epochs=REGRESSION_EPOCHS) for seed in REGRESSION_SEEDS]
    for strategy in cb.progress.iterate(["variance", "random"], desc="regression strategies")}
in_gap = {}
for strategy, runs in regression.items():
    acquired_x = np.concatenate([problem.pool_x[run.acquired].ravel() for run in runs])
    in_gap[strategy] = np.mean(np.abs(acquired_x) < 0.2)
    rmse = np.mean([run.values for run in runs], axis=0)
    print(f"{strategy:9s} RMSE by labelled points {runs[0].labelled_sizes.tolist()}: {np.round(rmse, 3).tolist()}; "
          f"acquired x in the gap |x| < 0.2: {in_gap[strategy]:.0%}")
assert in_gap["variance"] >= 0.75 and in_gap["variance"] > in_gap["random"]
final_rmse = {s: np.mean([run.values[-1] for run in runs]) for s, runs in regression.items()}
print(f"final RMSE: variance {final_rmse['variance']:.3f}, random {final_rmse['random']:.3f} "
      f"(start {np.mean([run.values[0] for run in regression['variance']]):.3f}); the gap holds "
      f"{np.mean(np.abs(problem.pool_x) < 0.2):.0%} of the pool")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
ax.axvspan(-0.2, 0.2, color="0.92", label="the gap")
ax.plot(problem.test_x, problem.test_y, "k-", lw=1, label="true function")
ax.plot(problem.x_start, problem.y_start, "ko", ms=4, label="start data")
for strategy, marker, color in (("variance", "^", "C3"), ("random", "s", "C7")):
    run = regression[strategy][0]
    chosen = run.acquired.ravel()
    ax.plot(problem.pool_x[chosen], problem.pool_y[chosen], marker, color=color, ms=7, mfc="none",
            label=f"acquired by {strategy} (seed {run.seed})")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Where the acquired points land")
ax.legend(fontsize=8)
plt.show()
print(f"lab time: {time.perf_counter() - start_time:.0f} s")

# %% [markdown]
# ## Summary
#
# * BALD is the mutual information between a label and the weights: 0 for draws that agree however
#   unsure they are, $\log 2$ for two sure draws that disagree (asserted in Part 1); the check
#   tests your score on fresh random probabilities with exact 0s and 1s.
# * Every strategy learns from the labels it acquires (test accuracy up by more than 0.1 from the
#   start set, asserted for every seed). Whether uncertainty-based acquisition beats random depends
#   on the size of the run, and this lab does not assert it: the lines printed under the table give,
#   for the mode shown, each strategy's final accuracy against random, the number of seeds where it
#   is ahead and the mean gap over rounds, and the verdict printed below them says whether the final
#   gap exceeds two standard errors of the paired gap over seeds. With a few dozen labels the
#   network's own uncertainty is poorly estimated (the cold-start problem of active learning), which
#   is why the early rounds can go either way (compare the rows of the table).
# * On the gap data, acquisition by epistemic variance labels points in the gap (the printed share,
#   asserted at least 75% and above random's), where the start data say nothing, while random
#   acquisition spreads over the line; the printed RMSE shows what that buys the fit.
