"""Every private TensorFlow Probability internal the package relies on, in one place.

TFP 0.25's public API does not cover a few things we need, so we use these internals:

- `tensorflow_probability.python.internal.unnest.replace_innermost`, to change the number of
  leapfrog steps inside nested HMC kernel results (`cs109b_bayes.inference.hmc` jitters the
  path length);
- `namedtuple._replace` on kernel results, to restart dual-averaging step-size adaptation
  (`num_adaptation_steps`) between warm-up windows;
- overriding the private `_apply_variational_kernel` of TFP's dense variational layers, and
  setting the attributes TFP's `call` reads after it (`kernel_posterior_affine`,
  `kernel_posterior_affine_tensor`, `kernel_posterior_tensor`): `StatelessDenseFlipout` draws
  its random signs from `cs109b_bayes.noise` (TFP draws them from op seeds), and
  `StableDenseLocalReparameterization` keeps the gradient finite at an all-zero input row.

`tests/test_tfp_internals.py` exercises each of them against the installed TFP, so an upgrade
that changes one fails there first, with a message naming this module, rather than deep inside
a sampler or a layer.

#### Examples

```python
from cs109b_bayes import tfp_internals
results = tfp_internals.replace_innermost(kernel_results, num_leapfrog_steps=8)
```
"""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import unnest

from cs109b_bayes import noise

__all__ = ["StableDenseLocalReparameterization", "StatelessDenseFlipout", "replace_fields",
           "replace_innermost"]

tfd = tfp.distributions

_UPGRADE_HINT = ("cs109b_bayes relies on this TFP internal (see cs109b_bayes/tfp_internals.py); "
                 "the installed tensorflow-probability may have changed it. "
                 "requirements.txt pins the tested version.")


def replace_innermost(kernel_results, **fields):
    """Returns nested kernel results with `fields` replaced in the innermost results that have them.

    Args:
        kernel_results: the (possibly nested) results of a TFP transition kernel.
        **fields: field names and new values, e.g. `num_leapfrog_steps=8`.

    Returns:
        Kernel results of the same structure.

    Raises:
        RuntimeError: the TFP internal is missing or no longer accepts these fields.

    #### Examples

    ```python
    results = replace_innermost(hmc_results, num_leapfrog_steps=tf.constant(8))
    ```
    """
    try:
        return unnest.replace_innermost(kernel_results, **fields)
    except (AttributeError, ValueError, TypeError) as error:
        raise RuntimeError(f"unnest.replace_innermost({sorted(fields)}) failed: {error}. "
                           + _UPGRADE_HINT) from error


def replace_fields(kernel_results, **fields):
    """Returns `kernel_results` (a TFP results namedtuple) with top-level `fields` replaced.

    Args:
        kernel_results: results of a TFP kernel, e.g. `DualAveragingStepSizeAdaptationResults`.
        **fields: field names and new values, e.g. `num_adaptation_steps=window`.

    Returns:
        The results with the fields replaced.

    Raises:
        RuntimeError: the results are not a namedtuple or lack one of the fields.

    #### Examples

    ```python
    fresh = replace_fields(sampler.bootstrap_results(z), num_adaptation_steps=window)
    ```
    """
    missing = [name for name in fields if name not in getattr(kernel_results, "_fields", ())]
    if missing:
        raise RuntimeError(f"{type(kernel_results).__name__} has no field(s) {missing}. " + _UPGRADE_HINT)
    return kernel_results._replace(**fields)


# ---------------------------------------------------------------- dense variational layers
# TFP's `_DenseVariational.call` runs `outputs = self._apply_variational_kernel(inputs)`, then the
# bias, the activation and `_apply_divergence(..., self.kernel_posterior_tensor, ...)`. The
# subclasses below replace `_apply_variational_kernel` and set the same three attributes TFP's own
# versions set. `tests/test_tfp_internals.py` checks both facts against the installed TFP.


def _mean_field_normal(layer, layer_name):
    posterior = layer.kernel_posterior
    if not (isinstance(posterior, tfd.Independent) and isinstance(posterior.distribution, tfd.Normal)):
        raise TypeError(f"{layer_name} needs a kernel_posterior_fn that makes a tfd.Independent(tfd.Normal), "
                        f"got {type(posterior).__name__}")
    return posterior.distribution


def _stateless_defaults(kwargs):
    kwargs.setdefault("kernel_posterior_tensor_fn", noise.sample)
    kwargs.setdefault("bias_posterior_tensor_fn", noise.sample)
    return kwargs


class StatelessDenseFlipout(tfp.layers.DenseFlipout):
    """TFP's `DenseFlipout` whose noise is stateless inside `cs109b_bayes.noise.stateless_noise`.

    Flipout [1] perturbs a shared weight draw with random signs per example,
    `y = x W_mean + ((x * s_in) dW) * s_out`, `dW ~ N(0, sigma^2)`, `s_in, s_out`
    Rademacher. TFP draws the signs from op seeds (stateful: they depend on what ran
    before). Inside a `stateless_noise` block this layer draws them from
    `noise.next_noise_seed()` instead, and (by default) `dW` and the bias through
    `noise.sample`, so the same block seed gives the same output. Outside a block it is
    TFP's layer unchanged (the signs then use `seed`).

    Args:
        units: output width.
        activation: activation after the bias. Default value: None.
        **kwargs: every other `tfp.layers.DenseFlipout` argument (`kernel_posterior_fn`,
            `kernel_prior_fn`, `kernel_divergence_fn`, `seed`, `name`, ...).
            `kernel_posterior_tensor_fn` and `bias_posterior_tensor_fn` default to
            `cs109b_bayes.noise.sample` (TFP's default, `d.sample()`, is stateful).

    Raises:
        TypeError: at the first call, if the kernel posterior is not `Independent(Normal)`.

    #### Examples

    ```python
    from cs109b_bayes import noise, tfp_internals
    layer = tfp_internals.StatelessDenseFlipout(8, activation="relu")
    with noise.stateless_noise(0):
        a = layer(x)
    with noise.stateless_noise(0):
        b = layer(x)                # equal to a
    ```

    #### References

    [1] Wen, Vicol, Ba, Tran, Grosse. Flipout: efficient pseudo-independent weight
        perturbations on mini-batches. ICLR 2018. https://arxiv.org/abs/1803.04386
    """

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, activation=activation, **_stateless_defaults(kwargs))

    def _apply_variational_kernel(self, inputs):
        sign_seed = noise.next_noise_seed()
        if sign_seed is None:
            return super()._apply_variational_kernel(inputs)
        posterior = _mean_field_normal(self, "StatelessDenseFlipout")
        self.kernel_posterior_affine = tfd.Normal(loc=tf.zeros_like(posterior.loc), scale=posterior.scale)
        self.kernel_posterior_affine_tensor = self.kernel_posterior_tensor_fn(self.kernel_posterior_affine)
        self.kernel_posterior_tensor = None
        input_shape = tf.shape(inputs)
        output_shape = tf.concat([input_shape[:-1], [self.units]], 0)
        input_seed, output_seed = tf.unstack(tf.random.experimental.stateless_split(sign_seed, 2))
        sign_input = tfp.random.rademacher(input_shape, dtype=inputs.dtype, seed=input_seed)
        sign_output = tfp.random.rademacher(output_shape, dtype=inputs.dtype, seed=output_seed)
        perturbed = tf.matmul(inputs * sign_input, self.kernel_posterior_affine_tensor) * sign_output
        return tf.matmul(inputs, posterior.loc) + perturbed


class StableDenseLocalReparameterization(tfp.layers.DenseLocalReparameterization):
    """TFP's `DenseLocalReparameterization` with a finite gradient at an all-zero input row.

    The local reparameterization trick [1] samples the pre-activations,
    `y ~ N(x W_mean, x^2 sigma^2)`, independently per example. TFP computes the sd as
    `sqrt(x^2 sigma^2)`, whose gradient is infinite where it is 0 (a ReLU layer whose units
    are all off for one example): NaN weights after one step. This layer uses
    `sqrt(x^2 sigma^2 + 1e-12)`. Its draws go through `kernel_posterior_tensor_fn`, by
    default `cs109b_bayes.noise.sample` (stateless inside `noise.stateless_noise`).

    Args:
        units: output width.
        activation: activation after the bias. Default value: None.
        **kwargs: every other `tfp.layers.DenseLocalReparameterization` argument.
            `kernel_posterior_tensor_fn` and `bias_posterior_tensor_fn` default to
            `cs109b_bayes.noise.sample`.

    Raises:
        TypeError: at the first call, if the kernel posterior is not `Independent(Normal)`.

    #### Examples

    ```python
    layer = tfp_internals.StableDenseLocalReparameterization(8, activation="relu")
    y = layer(tf.zeros([2, 3]))      # gradients stay finite
    ```

    #### References

    [1] Kingma, Salimans, Welling. Variational dropout and the local reparameterization
        trick. NeurIPS 2015. https://arxiv.org/abs/1506.02557
    """

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, activation=activation, **_stateless_defaults(kwargs))

    def _apply_variational_kernel(self, inputs):
        posterior = _mean_field_normal(self, "StableDenseLocalReparameterization")
        self.kernel_posterior_affine = tfd.Normal(
            loc=tf.matmul(inputs, posterior.loc),
            scale=tf.sqrt(tf.matmul(tf.square(inputs), tf.square(posterior.scale)) + 1e-12))
        self.kernel_posterior_affine_tensor = self.kernel_posterior_tensor_fn(self.kernel_posterior_affine)
        self.kernel_posterior_tensor = None
        return self.kernel_posterior_affine_tensor
