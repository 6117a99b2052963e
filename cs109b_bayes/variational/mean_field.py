"""Mean-field Gaussian variational inference for small models: `fit_mean_field` and its `VIResult`."""

import dataclasses
import time

import numpy as np
import tensorflow as tf
import tf_keras

from cs109b_bayes import progress as cb_progress
from cs109b_bayes import seeds
from cs109b_bayes.variational.checks import check_count, check_params, per_param, positive
from cs109b_bayes.variational.evidence import checked_log_likelihood

__all__ = ["VIResult", "fit_mean_field"]


@dataclasses.dataclass(frozen=True)
class VIResult:
    """A fitted mean-field Gaussian `q(w) = prod N(mean, sd^2)`.

    Attributes:
        mean: dict name -> mean of q.
        sd: dict name -> sd of q.
        elbo: array [num_steps] of the ELBO estimate at each step.
        seconds: wall time of the fit (tracing included).
        seed: the seed of the fit.
        num_steps: optimisation steps.
    """

    mean: dict
    sd: dict
    elbo: np.ndarray
    seconds: float
    seed: int
    num_steps: int

    def sample(self, name, num_samples, *, seed):
        """Draws of parameter `name` from q, shape [num_samples, ...].

        Args:
            name: a parameter name.
            num_samples: how many draws (>= 1).
            seed: int seed (the draws come from `cb.seeds.numpy_rng(seed, "vi_sample")`).

        Returns:
            A numpy array [num_samples, ...].

        Raises:
            KeyError: for an unknown name.
            ValueError: for `num_samples` < 1.
            TypeError: for a seed that is not an int.

        #### Examples

        ```python
        beta = vi.sample("beta", 1000, seed=0)
        ```
        """
        rng = seeds.numpy_rng(seeds.check_seed(seed), "vi_sample")
        shape = (check_count("num_samples", num_samples),) + np.shape(self.mean[name])
        return self.mean[name] + self.sd[name] * rng.normal(size=shape)


def fit_mean_field(log_likelihood_fn, init, *, prior_sd, num_steps, seed, prior_mean=0.0, num_samples=16,
                   learning_rate=0.05, init_sd=0.1, elbo_fn=None, progress=None):
    """Fit a mean-field Gaussian q to a small model by maximising the reparameterised ELBO.

    Each step draws `eps ~ N(0, I)` (stateless, from `cb.seeds.stateless_seed(seed,
    "fit_mean_field")` and the step number), sets `w = m + exp(log_s) * eps`, estimates
    `ELBO = mean_S log p(D | w) - KL(q || p)` and takes an Adam step on
    `(m, log_s)`. The learning rate decays by cosine to 5% of its value; the
    returned `m` and `s` are averages of the iterates over the last quarter of
    the run (Polyak averaging removes most of the gradient noise).

    Args:
        log_likelihood_fn: `log_likelihood_fn(**params) -> [S]` (TensorFlow), each
            parameter with a leading sample axis. May be None when `elbo_fn` is given.
        init: dict name -> initial mean (also fixes each parameter's shape).
        prior_sd: sd of the Gaussian prior, a number or dict name -> array.
        num_steps: optimisation steps (>= 4).
        seed: int seed.
        prior_mean: prior mean, a number or dict. Default value: 0.
        num_samples: Monte Carlo draws S per step. Default value: 16.
        learning_rate: initial Adam learning rate. Default value: 0.05.
        init_sd: initial sd of q. Default value: 0.1.
        elbo_fn: optional `elbo_fn(mean, sd, eps) -> scalar ELBO estimate`
            (dicts of tensors; `eps[name]` has shape [S, ...]) that replaces the
            built-in estimate, e.g. one written by a student. Default value: None.
        progress: a progress bar of the steps: True, False, or None for "in a notebook, not
            in headless runs" (see `cb.progress.enabled`). Default value: None.

    Returns:
        A `VIResult`.

    Raises:
        ValueError: for non-finite `init`, mismatched names, a non-positive
            sd, bad counts, no log-likelihood and no `elbo_fn`, or an ELBO that
            is not a finite scalar.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    def log_likelihood_fn(beta):                       # beta: [S, 2]
        mu = beta[:, :1] + beta[:, 1:] * x[None, :]
        return tf.reduce_sum(tfd.Normal(mu, 3.26).log_prob(y), axis=-1)
    vi = cb.variational.fit_mean_field(log_likelihood_fn, {"beta": [0.0, 0.0]},
                                       prior_sd=10.0, num_steps=2000, seed=0)
    vi.mean["beta"], vi.sd["beta"]
    ```

    #### References

    [1] Kucukelbir et al. Automatic differentiation variational inference. https://arxiv.org/abs/1603.00788
    """
    init = check_params("init", init)
    names = list(init)
    num_steps = check_count("num_steps", num_steps, 4)
    num_samples = check_count("num_samples", num_samples)
    seed = seeds.check_seed(seed)
    prior_sd = {n: positive("prior_sd", v).astype(np.float32)
                for n, v in per_param("prior_sd", prior_sd, names).items()}
    prior_mean = per_param("prior_mean", prior_mean, names)
    positive("learning_rate", learning_rate)
    positive("init_sd", init_sd)
    if log_likelihood_fn is None and elbo_fn is None:
        raise ValueError("give log_likelihood_fn, or an elbo_fn that computes the whole ELBO")
    means = {n: tf.Variable(v, name=f"{n}_mean") for n, v in init.items()}
    log_sds = {n: tf.Variable(np.full(v.shape, np.log(init_sd), np.float32), name=f"{n}_log_sd")
               for n, v in init.items()}
    variables = list(means.values()) + list(log_sds.values())
    schedule = tf_keras.optimizers.schedules.CosineDecay(float(learning_rate), num_steps, alpha=0.05)
    optimizer = tf_keras.optimizers.Adam(schedule)
    optimizer.build(variables)
    base_seed = tf.constant(seeds.stateless_seed(seed, "fit_mean_field"))

    def estimate(step):
        mean = dict(means)
        sd = {n: tf.exp(v) for n, v in log_sds.items()}
        eps = {n: tf.random.stateless_normal(
                   (num_samples,) + tuple(init[n].shape),
                   seed=tf.random.experimental.stateless_fold_in(base_seed, step * len(names) + i))
               for i, n in enumerate(names)}
        if elbo_fn is not None:
            return tf.reshape(tf.cast(elbo_fn(mean, sd, eps), tf.float32), [])
        samples = {n: mean[n] + sd[n] * eps[n] for n in names}
        log_lik = tf.reduce_mean(checked_log_likelihood(log_likelihood_fn, samples, num_samples))
        kl = tf.add_n([tf.reduce_sum(tf.math.log(prior_sd[n] / sd[n])
                                     + (sd[n] ** 2 + (mean[n] - prior_mean[n]) ** 2) / (2 * prior_sd[n] ** 2) - 0.5)
                       for n in names])
        return log_lik - kl

    @tf.function
    def train_step(step):
        with tf.GradientTape() as tape:
            value = estimate(step)
            loss = -value
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return value

    start = time.perf_counter()
    trace = np.empty(num_steps)
    first_kept = num_steps - max(1, num_steps // 4)
    sums = {n: np.zeros(v.shape) for n, v in init.items()}
    log_sd_sums = {n: np.zeros(v.shape) for n, v in init.items()}
    steps = cb_progress.iterate(range(num_steps), desc="fit_mean_field", unit="step", progress=progress)
    for step in steps:
        trace[step] = float(train_step(tf.constant(step, tf.int64)))
        if step == 0 and not np.isfinite(trace[0]):
            raise ValueError(f"the ELBO is not finite at the initial q: {trace[0]}")
        if step >= first_kept:
            for n in names:
                sums[n] += means[n].numpy()
                log_sd_sums[n] += log_sds[n].numpy()
    count = num_steps - first_kept
    return VIResult(
        mean={n: sums[n] / count for n in names},
        sd={n: np.exp(log_sd_sums[n] / count) for n in names},
        elbo=trace, seconds=time.perf_counter() - start, seed=seed, num_steps=num_steps,
    )
