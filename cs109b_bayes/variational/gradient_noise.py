"""`gradient_variance`: how much a Bayesian network's loss gradient varies over the network's own noise."""

import dataclasses
import time
import weakref

import numpy as np
import tensorflow as tf

from cs109b_bayes import noise, seeds
from cs109b_bayes.variational.checks import check_count
from cs109b_bayes.variational.retracing import quiet_retracing_warnings

__all__ = ["GradientVariance", "gradient_variance"]


@dataclasses.dataclass(frozen=True)
class GradientVariance:
    """Variance of a loss gradient over the model's own noise, at fixed parameters and data.

    Attributes:
        variance: dict variable name -> per-element variance of the gradient over draws.
        mean_gradient: dict variable name -> per-element mean gradient.
        mean_variance: the per-element variance averaged over every element of
            every measured variable (one number to compare models).
        num_draws: noise draws used.
        batch_size: examples in the minibatch.
        seconds: wall time (tracing included).
        seed: the seed of the draws.
    """

    variance: dict
    mean_gradient: dict
    mean_variance: float
    num_draws: int
    batch_size: int
    seconds: float
    seed: int


def _default_loss(model, x, y):
    output = model(x, training=True)
    if hasattr(output, "log_prob"):
        data_term = tf.reduce_mean(-output.log_prob(y))
    else:
        data_term = tf.reduce_mean(tf.square(output - y))
    return data_term + (tf.add_n(model.losses) if model.losses else 0.0)


def _batch(x, y):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if x.ndim != 2 or len(x) == 0 or len(x) != len(y):
        raise ValueError(f"x must be [B, input_dim] and y [B] with the same B >= 1; got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    return x, y


# model -> {(variables, loss_fn): compiled draws}. A second call on the same model (another batch,
# seed or number of draws) reuses the traced function instead of tracing again. The function
# reaches the model through a weak reference only, so the cache never keeps a model alive.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled_gradients(model, variables, loss_fn):
    """`(x, y, seed, num_draws) -> [per-variable gradients, draw first]` for the default loss, kept per model."""
    per_model = _COMPILED.setdefault(model, {})
    key = tuple(v.ref() for v in variables)
    if key not in per_model:
        per_model[key] = _trace_gradients(weakref.ref(model), variables, loss_fn)
    return per_model[key]


def _trace_gradients(model_ref, variables, loss_fn):
    signature = [tf.TensorSpec(v.shape, v.dtype) for v in variables]

    @tf.function(reduce_retracing=True)
    def gradients(inputs, targets, base_seed, num_draws):
        network = model_ref()

        def one_draw(draw):
            with tf.GradientTape() as tape, noise.stateless_noise(
                    tf.random.experimental.stateless_fold_in(base_seed, draw)):
                loss = loss_fn(network, inputs, targets)
            grads = tape.gradient(loss, list(variables))
            return [tf.zeros_like(v) * np.nan if g is None else tf.convert_to_tensor(g)
                    for g, v in zip(grads, variables)]

        return tf.map_fn(one_draw, tf.range(num_draws), fn_output_signature=signature)

    return gradients


def gradient_variance(model, x, y, *, num_draws=100, seed, variables=None, loss_fn=None):
    """Variance of the minibatch loss gradient over `num_draws` draws of the model's noise.

    Holds the variational parameters and the minibatch `(x, y)` fixed and
    recomputes the gradient of the loss `num_draws` times; the only thing that
    changes between draws is the randomness inside the model (the weight
    sample of Bayes by Backprop, Flipout's signs, the local
    reparameterization's activation noise, dropout masks...). The default loss
    is the training loss of `cb.bnn` models: mean NLL over the batch (mean
    squared error for a plain tensor output) plus `sum(model.losses)`.

    Args:
        model: a tf_keras model (e.g. from `cb.bnn.build_regressor`).
        x: the minibatch inputs, shape [B, input_dim] (or [B] for one feature).
        y: the minibatch targets, shape [B] or [B, 1].
        num_draws: noise draws (>= 2). Default value: 100.
        seed: int seed. Draw d runs in `cs109b_bayes.noise.stateless_noise(fold_in(
            cb.seeds.stateless_seed(seed, "gradient_variance"), d))`: layers that draw
            from that context (`cb.bnn`'s, `cs109b_bayes.tfp_internals`') give the same
            draws for the same seed whatever ran before. Other layers (a plain
            `tfp.layers.DenseFlipout`) use TF's stateful ops: their draws are not
            reproducible. No global random state is read or written.
        variables: the variables whose gradient is measured. Default value: all
            trainable variables of the model.
        loss_fn: `loss_fn(model, x, y) -> scalar` to use instead of the default.
            Default value: None.

    Returns:
        A `GradientVariance`.

    Raises:
        ValueError: for `num_draws` < 2, an empty or non-finite batch, `x` and `y`
            of different lengths, or a variable without a gradient.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    model = cb.bnn.build_regressor("flipout", num_train=300, seed=0)
    gv = cb.variational.gradient_variance(model, het.x[:64], het.y[:64], num_draws=200, seed=1)
    gv.mean_variance
    ```

    #### References

    [1] Wen et al. Flipout, section 4 and figure 2. https://arxiv.org/abs/1803.04386
    [2] Kingma, Salimans, Welling. Variational dropout and the local reparameterization
        trick. https://arxiv.org/abs/1506.02557
    """
    num_draws = check_count("num_draws", num_draws, 2)
    seed = seeds.check_seed(seed)
    x, y = _batch(x, y)
    loss_fn = loss_fn or _default_loss
    base_seed = tf.constant(seeds.stateless_seed(seed, "gradient_variance"))
    if not model.built:
        with noise.stateless_noise(base_seed):
            model(x)
    variables = list(model.trainable_variables if variables is None else variables)
    if not variables:
        raise ValueError("there are no variables to measure")
    inputs, targets = tf.constant(x), tf.constant(y)
    if loss_fn is _default_loss:
        gradients = _compiled_gradients(model, tuple(variables), loss_fn)
    else:   # a caller's own loss (often a new lambda each call): traced afresh, not kept
        gradients = _trace_gradients(weakref.ref(model), tuple(variables), loss_fn)
    start = time.perf_counter()
    with quiet_retracing_warnings():
        draws = gradients(inputs, targets, base_seed, tf.constant(num_draws, tf.int32))
    variance, mean_gradient = {}, {}
    for var, values in zip(variables, draws):
        values = values.numpy().astype(float)
        if np.all(np.isnan(values)):
            raise ValueError(f"variable {var.name} gets no gradient from the loss")
        variance[var.name] = values.var(axis=0, ddof=1)
        mean_gradient[var.name] = values.mean(axis=0)
    mean_variance = float(np.mean(np.concatenate([v.ravel() for v in variance.values()])))
    return GradientVariance(variance, mean_gradient, mean_variance, num_draws, len(x),
                            time.perf_counter() - start, seed)
