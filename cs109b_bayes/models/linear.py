"""Bayesian linear regression with known noise: the exact (conjugate) posterior and the log joint density.

Model: `beta0, beta1 ~ N(prior_mean, prior_sd^2)` independently and
`y_n ~ N(beta0 + beta1 x_n, noise_sd^2)`. Its posterior is Gaussian in closed
form, so samplers can be judged against the exact answer (labs 02 and 05).

#### References

[1] Bishop. Pattern Recognition and Machine Learning, section 3.3, 2006.
"""

import dataclasses

import numpy as np
from scipy import stats

from cs109b_bayes.models.backends import backend_ops, check_data, check_scale, normal_log_pdf

__all__ = ["GaussianPosterior", "conjugate_linear_posterior", "linear_log_evidence", "linear_log_prob"]


@dataclasses.dataclass(frozen=True)
class GaussianPosterior:
    """A multivariate Gaussian posterior over named scalar parameters.

    Attributes:
        names: parameter names, in the order of `mean`.
        mean: array [d], the posterior mean.
        cov: array [d, d], the posterior covariance.
    """

    names: tuple
    mean: np.ndarray
    cov: np.ndarray

    @property
    def sd(self):
        """Marginal posterior standard deviations, array [d]."""
        return np.sqrt(np.diag(self.cov))

    def marginal(self, name):
        """The marginal posterior of one parameter as a frozen `scipy.stats.norm`.

        #### Examples

        ```python
        post.marginal("beta1").interval(0.95)
        ```
        """
        k = self.names.index(name)
        return stats.norm(self.mean[k], self.sd[k])

    def pdfs(self):
        """dict name -> marginal pdf, for `cb.plotting.plot_trace(result, reference=...)`.

        #### Examples

        ```python
        cb.plotting.plot_trace(result, reference=post.pdfs())
        ```
        """
        return {name: self.marginal(name).pdf for name in self.names}


def conjugate_linear_posterior(x, y, *, noise_sd, prior_sd=10.0, prior_mean=0.0):
    """Exact posterior of `(beta0, beta1)` in Bayesian linear regression with known noise.

    Model: `beta0, beta1 ~ N(prior_mean, prior_sd^2)` independently and
    `y_n ~ N(beta0 + beta1 x_n, noise_sd^2)`. With design matrix `X = [1, x]`
    the posterior is Gaussian with

        cov  = (I / prior_sd^2 + X^T X / noise_sd^2)^-1
        mean = cov (prior_mean / prior_sd^2 + X^T y / noise_sd^2)

    Args:
        x: inputs, shape [n].
        y: targets, shape [n].
        noise_sd: the known noise standard deviation (positive).
        prior_sd: prior sd of each coefficient (positive). Default value: 10.
        prior_mean: prior mean of each coefficient. Default value: 0.

    Returns:
        A `GaussianPosterior` with names `("beta0", "beta1")`.

    Raises:
        ValueError: for x, y of different lengths, NaN or inf, or a non-positive sd.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    post = cb.models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=3.26, prior_sd=10.0)
    post.mean, post.sd            # about (7.0, 0.047) and (0.46, 0.0027)
    ```

    #### References

    [1] Bishop. Pattern Recognition and Machine Learning, equations 3.50-3.51, 2006.
    """
    x, y = check_data(x, y)
    noise_sd = check_scale("noise_sd", noise_sd)
    prior_sd = check_scale("prior_sd", prior_sd)
    design = np.column_stack([np.ones_like(x), x])
    precision = np.eye(2) / prior_sd**2 + design.T @ design / noise_sd**2
    cov = np.linalg.inv(precision)
    cov = 0.5 * (cov + cov.T)
    mean = cov @ (np.full(2, prior_mean) / prior_sd**2 + design.T @ y / noise_sd**2)
    return GaussianPosterior(("beta0", "beta1"), mean, cov)


def linear_log_evidence(x, y, *, noise_sd, prior_sd=10.0, prior_mean=0.0):
    """The log marginal likelihood `log p(D)` of Bayesian linear regression, in closed form.

    The same model as `conjugate_linear_posterior`. Integrating the coefficients out,
    `y ~ N(prior_mean X 1, noise_sd^2 I + prior_sd^2 X X^T)` with `X = [1, x]`, so the
    evidence is one multivariate Gaussian log-density. Every ELBO of this model is at
    most this number (lab 05), with equality only for `q` equal to the exact posterior.

    Args:
        x: inputs, shape [n].
        y: targets, shape [n].
        noise_sd: the known noise standard deviation (positive).
        prior_sd: prior sd of each coefficient (positive). Default value: 10.
        prior_mean: prior mean of each coefficient. Default value: 0.

    Returns:
        A python float, `log p(y | x)` in nats.

    Raises:
        ValueError: for x, y of different lengths, NaN or inf, or a non-positive sd.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    cb.models.linear.linear_log_evidence(ads.x, ads.y, noise_sd=3.26, prior_sd=10.0)
    ```

    #### References

    [1] Bishop. Pattern Recognition and Machine Learning, equation 3.86, 2006.
    """
    x, y = check_data(x, y)
    noise_sd = check_scale("noise_sd", noise_sd)
    prior_sd = check_scale("prior_sd", prior_sd)
    design = np.column_stack([np.ones_like(x), x])
    cov = noise_sd**2 * np.eye(x.size) + prior_sd**2 * design @ design.T
    mean = design @ np.full(2, float(prior_mean))
    return float(stats.multivariate_normal(mean, cov).logpdf(y))


def linear_log_prob(x, y, *, noise_sd, prior_sd=10.0, prior_mean=0.0, backend="numpy"):
    """The log joint density `log p(y, beta0, beta1)` of Bayesian linear regression.

    The same model as `conjugate_linear_posterior`; the unnormalised log
    posterior a sampler needs. Normalising constants are included, so the value
    equals `norm.logpdf(beta, prior_mean, prior_sd).sum() + norm.logpdf(y, beta0 + beta1 x, noise_sd).sum()`.

    Args:
        x, y: the data, shape [n].
        noise_sd: the known noise sd.
        prior_sd: prior sd of each coefficient. Default value: 10.
        prior_mean: prior mean of each coefficient. Default value: 0.
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        `log_prob_fn(beta0, beta1)`: each argument of shape [num_chains] (or a
        scalar), returning shape [num_chains] (or a scalar).

    Raises:
        ValueError: for bad data, a non-positive sd or an unknown backend.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    log_prob_fn = cb.models.linear_log_prob(ads.x, ads.y, noise_sd=3.26)
    result = cb.metropolis(log_prob_fn, {"beta0": 7.0, "beta1": 0.05},
                           proposal_scale={"beta0": 0.5, "beta1": 0.003},
                           num_steps=20_000, seed=0)
    ```
    """
    x, y = check_data(x, y)
    noise_sd = check_scale("noise_sd", noise_sd)
    prior_sd = check_scale("prior_sd", prior_sd)
    ops, constant = backend_ops(backend)

    def log_prob_fn(beta0, beta1):
        xs, ys = constant(x, beta0), constant(y, beta0)
        mean = beta0[..., None] + beta1[..., None] * xs
        log_likelihood = ops.sum(normal_log_pdf(ops, ys, mean, noise_sd), -1)
        log_prior = (normal_log_pdf(ops, beta0, prior_mean, prior_sd)
                     + normal_log_pdf(ops, beta1, prior_mean, prior_sd))
        return log_prior + log_likelihood

    def wrapped(beta0, beta1):
        if backend == "numpy":
            beta0, beta1 = np.asarray(beta0, dtype=float), np.asarray(beta1, dtype=float)
        return log_prob_fn(beta0, beta1)

    return wrapped

