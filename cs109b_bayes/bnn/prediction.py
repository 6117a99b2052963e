"""`predict`: stochastic forward passes summarised as a `Predictive` (aleatoric / epistemic split)."""

import weakref

import numpy as np
import tensorflow as tf

from cs109b_bayes import noise, seeds
from cs109b_bayes.bnn.inputs import as_inputs, check_count
from cs109b_bayes.bnn.kinds import model_kind
from cs109b_bayes.predictive import Predictive
from cs109b_bayes.variational.retracing import quiet_retracing_warnings

__all__ = ["Predictive", "predict"]

# model -> its compiled forward passes. The function holds the model through a weak reference
# only (a WeakKeyDictionary whose values refer to their keys would keep every model alive).
_FORWARD = weakref.WeakKeyDictionary()


def _forward_passes(model):
    """A compiled `(x, T, seed) -> (loc [T, n, k], scale [T, n, k])` for `model`, traced once per model.

    Pass t runs under `noise.stateless_noise(fold_in(seed, t))`: its noise is a
    function of the int32[2] `seed` and t only, so the same seed gives the same
    draws whatever ran before (and a new seed needs no retracing).
    """
    if model not in _FORWARD:
        model_ref = weakref.ref(model)
        signature = [tf.TensorSpec([None, int(model.input_shape[-1])], tf.float32), tf.TensorSpec([], tf.int32),
                     tf.TensorSpec([2], tf.int32)]

        @tf.function(input_signature=signature)
        def passes(inputs, num_samples, seed):
            network = model_ref()

            def one_pass(t):
                with noise.stateless_noise(tf.random.experimental.stateless_fold_in(seed, t)):
                    output = network(inputs)
                return output.loc, output.scale

            return tf.map_fn(one_pass, tf.range(num_samples), fn_output_signature=(tf.float32, tf.float32))

        _FORWARD[model] = passes
    return _FORWARD[model]


def predict(model, x, *, num_samples=100, seed=0):
    """Predictive mean and aleatoric / epistemic / total sd from `num_samples` stochastic passes.

    For each pass t the model gives `Normal(mu_t(x), sigma_t(x))`. The
    predictive is the mixture over passes; its variance splits as
    `mean_t sigma_t^2` (aleatoric) plus `var_t mu_t` (epistemic). An ensemble's
    members play the role of the passes. A `deterministic` model has zero sds;
    an `output_only` model has zero epistemic sd.

    Args:
        model: a model from `build_regressor`.
        x: inputs, shape [n] (one feature) or [n, input_dim].
        num_samples: stochastic forward passes (T). Default value: 100.
        seed: int seed of the passes. The noise is drawn with stateless ops from
            `cb.seeds.stateless_seed(seed, "predict")`: the same seed gives the same numbers
            whatever ran before, and no global random state is read or written.
            Default value: 0.

    Returns:
        A `Predictive` (`cs109b_bayes.predictive.Predictive`) with arrays of shape [n],
        `x` the inputs ([n] for one feature), `draws` the passes' means `mu_t(x)` as one
        chain [1, T, n] (an ensemble's members for an ensemble), `num_samples` and `seed`.

    Raises:
        ValueError: for a non-positive `num_samples`, inputs of the wrong shape
            or not finite, or a model not built by `build_regressor`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    grid = np.linspace(-1.5, 1.5, 200)
    pred = cb.bnn.predict(model, grid, num_samples=200, seed=1)
    cb.plotting.plot_predictive_band(grid, pred, ("total", "aleatoric"), x=het.x, y=het.y)
    ```
    """
    num_samples = check_count("num_samples", num_samples)
    kind = model_kind(model)
    inputs = as_inputs(x, model)
    seed = seeds.check_seed(seed)
    x_out = inputs[:, 0] if inputs.shape[1] == 1 else inputs
    if kind == "deterministic":
        mean = model(inputs).numpy()[:, 0]
        zeros = np.zeros_like(mean)
        return Predictive(mean, zeros, zeros, zeros, x=x_out, draws=mean[None, None], num_samples=1, seed=seed)
    if kind in ("output_only", "ensemble"):
        num_samples = 1
    with quiet_retracing_warnings():
        passes = _forward_passes(model)
        locs, scales = (t.numpy() for t in passes(tf.constant(inputs), tf.constant(num_samples),
                                                  tf.constant(seeds.stateless_seed(seed, "predict"))))
    if kind == "ensemble":
        locs, scales = np.moveaxis(locs[0], 1, 0), np.moveaxis(scales[0], 1, 0)
    else:
        locs, scales = locs[..., 0], scales[..., 0]
    return Predictive.from_draws(locs, scales, x=x_out, seed=seed)
