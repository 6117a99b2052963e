"""Bayesian neural-network regressors on tf_keras, and their predictive uncertainty.

`build_regressor(kind, ...)` builds a small fully connected regressor
`x -> hidden layers -> Normal(mu(x), sigma(x))` in one of eight flavours:

| kind | where the randomness is |
|---|---|
| `deterministic` | none: a point prediction `mu(x)` trained by squared error |
| `output_only` | the output: the network outputs `mu` and `sigma = softplus(.)` (lecture option 1) |
| `reparameterization` | the weights, one draw per minibatch (Bayes by Backprop, `DenseReparameterization`) |
| `flipout` | the weights, pseudo-independent per example (`DenseFlipout`) |
| `local_reparameterization` | the pre-activations, independent per example (`DenseLocalReparameterization`) |
| `stochastic_hidden` | the hidden units, `h = m(x) + s(x) * eps` per unit per example (option 3) |
| `mc_dropout` | dropout kept on at prediction time |
| `ensemble` | several `output_only` networks trained side by side |

Every probabilistic kind outputs a `tfd.Normal` with `loc` and `scale` of shape
[n, 1] (for `ensemble`, [n, num_members]), so the training loss is the Gaussian
negative log-likelihood `-log N(y | mu, sigma)`.

**KL scaling.** The weight-noise layers add `KL(q(w) || p(w)) / num_train` to
`model.losses`, one term per layer. Kernels are Bayesian (a mean and a scale
per weight, so the kernel parameters double); biases stay point estimates, as
in TFP's defaults and the Flipout paper (a bias sampled once per minibatch
would add gradient noise shared by all examples). With the NLL averaged over a
minibatch, the training loss is therefore `-ELBO / N`, the negative ELBO per
training example, an unbiased minibatch estimate whatever the batch size.
`stochastic_hidden` adds `kl_weight * mean_batch sum_units KL(q(h|x) || N(0, 1))`.

`predict(model, x, num_samples=...)` runs `num_samples` stochastic forward
passes and splits the predictive variance (law of total variance):
`aleatoric^2 = mean_t sigma_t^2`, `epistemic^2 = var_t mu_t`,
`total^2 = aleatoric^2 + epistemic^2`.

**Seeds.** `predict`, `fit` (and `cb.variational.gradient_variance`) draw all
the layers' noise with stateless ops (`tf.random.stateless_*`, TFP stateless
seeds) from seeds derived from their `seed` argument: the same seed gives the
same numbers whatever ran before in the process. A plain call `model(x)` uses
TF's stateful random ops instead.

#### References

[1] Blundell, Cornebise, Kavukcuoglu, Wierstra. Weight uncertainty in neural
    networks. ICML 2015. https://arxiv.org/abs/1505.05424
[2] Wen, Vicol, Ba, Tran, Grosse. Flipout: efficient pseudo-independent weight
    perturbations on mini-batches. ICLR 2018. https://arxiv.org/abs/1803.04386
[3] Kingma, Salimans, Welling. Variational dropout and the local
    reparameterization trick. NeurIPS 2015. https://arxiv.org/abs/1506.02557
[4] Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016.
    https://arxiv.org/abs/1506.02142
[5] Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive
    uncertainty estimation using deep ensembles. NeurIPS 2017.
    https://arxiv.org/abs/1612.01474
"""

import contextlib
import dataclasses
import threading
import time
import warnings
import weakref
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from cs109b_bayes.variational import quiet_retracing_warnings

tfd = tfp.distributions

__all__ = [
    "KINDS",
    "WEIGHT_NOISE_KINDS",
    "GaussianHiddenUnits",
    "Predictive",
    "TrainingHistory",
    "build_regressor",
    "fit",
    "negative_log_likelihood",
    "predict",
]

KINDS = (
    "deterministic",
    "output_only",
    "reparameterization",
    "flipout",
    "local_reparameterization",
    "stochastic_hidden",
    "mc_dropout",
    "ensemble",
)
WEIGHT_NOISE_KINDS = ("reparameterization", "flipout", "local_reparameterization")

_MIN_SCALE = 1e-3


# ---- stateless noise ----
# The layers of this module draw their noise with stateless ops whenever they run inside
# `_stateless_noise(seed)`: the k-th draw of a forward pass uses `fold_in(seed, k)`, so the
# numbers depend on the seed and on the model only, never on TF's global seed, its op-seed
# counters or what ran earlier in the process. `predict`, `fit` and
# `cb.variational.gradient_variance` run every pass in such a block. Outside one (a plain
# `model(x)`, Keras' `model.fit`) the layers fall back to TF's stateful random ops.
_NOISE = threading.local()


class _NoiseSeeds:
    """Hands out the stateless seeds of one forward pass: `fold_in(seed, k)` for the k-th draw."""

    def __init__(self, seed):
        self.seed = tf.convert_to_tensor(seed, tf.int32)
        self.count = 0

    def next(self):
        draw = tf.random.experimental.stateless_fold_in(self.seed, self.count)
        self.count += 1
        return draw


@contextlib.contextmanager
def _stateless_noise(seed):
    """Inside the block the noise of this module's layers is stateless, seeded by `seed` (an int32[2] tensor)."""
    stack = _NOISE.__dict__.setdefault("stack", [])
    stack.append(_NoiseSeeds(seed))
    try:
        yield
    finally:
        stack.pop()


def _next_noise_seed():
    """The next stateless seed (int32[2]) inside `_stateless_noise`, else None (stateful sampling)."""
    stack = getattr(_NOISE, "stack", None)
    return stack[-1].next() if stack else None


def _seed_pair(seed, purpose):
    """A stateless int32[2] seed from an int `seed` and a `purpose` string (different purposes, independent noise)."""
    state = np.random.SeedSequence([int(seed) % 2**64, zlib.crc32(purpose.encode())]).generate_state(2)
    return tf.constant(state.view(np.int32))


def _sample(distribution):
    """`distribution.sample()`, stateless inside `_stateless_noise` (the layers' `*_posterior_tensor_fn`)."""
    return distribution.sample(seed=_next_noise_seed())


class _DenseFlipout(tfp.layers.DenseFlipout):
    """TFP's layer whose random signs are stateless inside `_stateless_noise` (TFP draws them from op seeds)."""

    def _apply_variational_kernel(self, inputs):
        seed = _next_noise_seed()
        if seed is None:
            return super()._apply_variational_kernel(inputs)
        posterior = self.kernel_posterior.distribution
        self.kernel_posterior_affine = tfd.Normal(loc=tf.zeros_like(posterior.loc), scale=posterior.scale)
        self.kernel_posterior_affine_tensor = self.kernel_posterior_tensor_fn(self.kernel_posterior_affine)
        self.kernel_posterior_tensor = None
        input_shape = tf.shape(inputs)
        output_shape = tf.concat([input_shape[:-1], [self.units]], 0)
        sign_seed, output_sign_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        sign_input = tfp.random.rademacher(input_shape, dtype=inputs.dtype, seed=sign_seed)
        sign_output = tfp.random.rademacher(output_shape, dtype=inputs.dtype, seed=output_sign_seed)
        perturbed = tf.matmul(inputs * sign_input, self.kernel_posterior_affine_tensor) * sign_output
        return tf.matmul(inputs, posterior.loc) + perturbed


class _DenseLocalReparameterization(tfp.layers.DenseLocalReparameterization):
    """TFP's layer with `sqrt(x^2 sigma^2 + 1e-12)`: its `sqrt(0)` (an all-zero ReLU row) has an inf gradient."""

    def _apply_variational_kernel(self, inputs):
        posterior = self.kernel_posterior.distribution
        self.kernel_posterior_affine = tfd.Normal(
            loc=tf.matmul(inputs, posterior.loc),
            scale=tf.sqrt(tf.matmul(tf.square(inputs), tf.square(posterior.scale)) + 1e-12))
        self.kernel_posterior_affine_tensor = self.kernel_posterior_tensor_fn(self.kernel_posterior_affine)
        self.kernel_posterior_tensor = None
        return self.kernel_posterior_affine_tensor


_LAYERS = {
    "reparameterization": tfp.layers.DenseReparameterization,
    "flipout": _DenseFlipout,
    "local_reparameterization": _DenseLocalReparameterization,
}


def _posterior_fn(seeds):
    """TFP's mean-field Normal posterior with initialisers seeded from `seeds` (an iterator of ints)."""
    return tfp.layers.default_mean_field_normal_fn(
        loc_initializer=tf_keras.initializers.RandomNormal(stddev=0.1, seed=next(seeds)),
        untransformed_scale_initializer=tf_keras.initializers.RandomNormal(mean=-3.0, stddev=0.1, seed=next(seeds)),
    )


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kind must be one of {', '.join(KINDS)}")


def _normal_head(params, num_outputs=1):
    loc, raw_scale = params[..., :num_outputs], params[..., num_outputs:]
    return tfd.Normal(loc=loc, scale=_MIN_SCALE + tf.math.softplus(raw_scale))


def _prior_fn(prior_sd):
    def make_prior(dtype, shape, name, trainable, add_variable_fn):
        del name, trainable, add_variable_fn
        prior = tfd.Normal(loc=tf.zeros(shape, dtype), scale=tf.cast(prior_sd, dtype))
        return tfd.Independent(prior, reinterpreted_batch_ndims=len(shape))

    return make_prior


class GaussianHiddenUnits(tf_keras.layers.Layer):
    """A layer of Gaussian hidden units: `h = act(m(x) + s(x) * eps)`, eps ~ N(0, 1) per unit per example.

    The layer computes `2 * units` pre-activations with a deterministic dense
    map, reads them as the mean `m(x)` and the softplus-transformed sd `s(x)`
    of `q(h | x)`, samples one `eps` per unit and example (the
    reparameterization trick, so gradients reach `m` and `s`), and adds
    `kl_weight * mean_batch sum_units KL(N(m, s^2) || N(0, 1))` to `self.losses`.
    It samples at training and at prediction time.

    Args:
        units: number of hidden units.
        activation: applied after sampling. Default value: `"relu"`.
        kl_weight: weight of the KL term. Default value: 1.0 (the ELBO per example).
        seed: int op seed of the stateful noise outside `predict` / `fit` (the global seed still
            applies); inside them the noise is stateless, seeded by their `seed`. Default value: None.
        initializer_seed: int seed of the Glorot initialiser of the dense map. Default value: None.

    #### Examples

    ```python
    import cs109b_bayes as cb, tf_keras
    layer = cb.bnn.GaussianHiddenUnits(16, kl_weight=0.01)
    h = layer(tf.zeros([4, 3]))     # shape [4, 16], different every call
    ```

    #### References

    [1] Kingma, Welling. Auto-encoding variational Bayes. https://arxiv.org/abs/1312.6114
    """

    def __init__(self, units, *, activation="relu", kl_weight=1.0, seed=None, initializer_seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_int("units", units)
        if not np.isfinite(kl_weight) or kl_weight < 0:
            raise ValueError(f"kl_weight must be a finite number >= 0, got {kl_weight!r}")
        self.kl_weight = float(kl_weight)
        self.activation = tf_keras.activations.get(activation)
        self.seed = seed
        self.moments = tf_keras.layers.Dense(
            2 * self.units, kernel_initializer=tf_keras.initializers.GlorotUniform(seed=initializer_seed))

    def call(self, inputs):
        params = self.moments(inputs)
        loc = params[..., : self.units]
        scale = _MIN_SCALE + tf.math.softplus(params[..., self.units:] - 2.0)
        noise_seed = _next_noise_seed()
        if noise_seed is None:
            eps = tf.random.normal(tf.shape(loc), dtype=loc.dtype, seed=self.seed)
        else:
            eps = tf.random.stateless_normal(tf.shape(loc), seed=noise_seed, dtype=loc.dtype)
        kl = 0.5 * (tf.square(loc) + tf.square(scale) - 1.0) - tf.math.log(scale)
        self.add_loss(self.kl_weight * tf.reduce_mean(tf.reduce_sum(kl, axis=-1)))
        return self.activation(loc + scale * eps)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, kl_weight=self.kl_weight, seed=self.seed,
                      activation=tf_keras.activations.serialize(self.activation))
        return config


class _AlwaysDropout(tf_keras.layers.Layer):
    """Dropout that stays on at prediction time (MC dropout)."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)

    def call(self, inputs):
        seed = _next_noise_seed()
        if seed is None:
            return tf.nn.dropout(inputs, rate=self.rate)
        return tf.nn.experimental.stateless_dropout(inputs, rate=self.rate, seed=seed)


def negative_log_likelihood(y, distribution):
    """Gaussian negative log-likelihood per example: `-log N(y | mu, sigma)`.

    The Keras loss of every probabilistic regressor in this module (Keras
    averages it over the minibatch).

    Args:
        y: targets, shape [n, 1].
        distribution: the model's output distribution.

    Returns:
        A tensor [n, 1] (for an ensemble, [n, num_members]).

    #### Examples

    ```python
    model.compile(optimizer="adam", loss=cb.bnn.negative_log_likelihood)
    ```
    """
    return -distribution.log_prob(y)


def build_regressor(kind, *, num_train, seed, input_dim=1, hidden_units=(32, 32), activation="relu",
                    prior_sd=1.0, dropout_rate=0.1, num_members=5, hidden_kl_weight=None,
                    learning_rate=0.003):
    """A 1-output regressor of the given kind (see the module docstring), compiled with Adam.

    Hidden layers are `hidden_units` wide with `activation`; the last layer
    outputs `mu` and a raw scale turned into `sigma = 1e-3 + softplus(raw)`.
    For the weight-noise kinds every dense layer (hidden and output) has a
    Bayesian kernel: a mean-field Gaussian posterior (initial sd
    softplus(-3) ~ 0.05), a `N(0, prior_sd^2)` prior, and the KL divided by
    `num_train` (so `sum(model.losses) = KL / N`); biases are point estimates.

    Args:
        kind: one of `cb.bnn.KINDS`.
        num_train: N, the number of training examples (scales the KL).
        seed: int; seeds the weight initialisers (each its own seed derived from
            `seed`). Recorded as `model.bnn_seed`. The noise of `predict`, `fit`
            and `cb.variational.gradient_variance` is stateless and seeded by their
            own `seed`; only for plain calls `model(x)` outside them, which use TF's
            stateful ops, does this also call `tf_keras.utils.set_random_seed(seed)`
            (best effort: those draws depend on what ran before).
        input_dim: number of input features. Default value: 1.
        hidden_units: widths of the hidden layers. Default value: (32, 32).
        activation: hidden activation. Default value: `"relu"`.
        prior_sd: sd of the Gaussian prior on weights. Default value: 1.0.
        dropout_rate: dropout rate of `mc_dropout`. Default value: 0.1.
        num_members: networks in an `ensemble`. Default value: 5.
        hidden_kl_weight: KL weight of `stochastic_hidden` units. Default value:
            `1 / num_train`.
        learning_rate: Adam learning rate of `model.optimizer`. Default value: 0.003.

    Returns:
        A compiled `tf_keras.Model` with attributes `bnn_kind`, `bnn_seed` and
        `bnn_num_train`. Its output is a `tfd.Normal` (a plain [n, 1] tensor for
        `deterministic`).

    Raises:
        ValueError: for an unknown kind, a non-positive `num_train`,
            `input_dim`, width, `prior_sd` or `num_members`, a dropout rate
            outside (0, 1), or a non-integer seed.

    #### Examples

    ```python
    import cs109b_bayes as cb
    het = cb.data.heteroscedastic()
    model = cb.bnn.build_regressor("flipout", num_train=len(het.x), seed=0)
    history = cb.bnn.fit(model, het.x, het.y, epochs=200, seed=0)
    pred = cb.bnn.predict(model, grid, num_samples=100, seed=1)
    ```

    #### References

    [1] Blundell et al. Weight uncertainty in neural networks. https://arxiv.org/abs/1505.05424
    [2] Wen et al. Flipout. https://arxiv.org/abs/1803.04386
    """
    _check_kind(kind)
    num_train = _check_int("num_train", num_train)
    input_dim = _check_int("input_dim", input_dim)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    hidden_units = tuple(hidden_units)
    if not hidden_units:
        raise ValueError("hidden_units must list at least one hidden layer width")
    for width in hidden_units:
        _check_int("each hidden_units width", width)
    if not np.isfinite(prior_sd) or prior_sd <= 0:
        raise ValueError(f"prior_sd must be positive, got {prior_sd!r}")
    if not 0.0 < dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in (0, 1), got {dropout_rate!r}")
    num_members = _check_int("num_members", num_members)
    hidden_kl_weight = 1.0 / num_train if hidden_kl_weight is None else hidden_kl_weight

    with warnings.catch_warnings():
        # TFP's layers call the deprecated `add_variable`; the warning is not actionable here.
        warnings.filterwarnings("ignore", message=".*add_variable.*")
        return _build(kind, num_train, seed, input_dim, hidden_units, activation, prior_sd, dropout_rate,
                      num_members, hidden_kl_weight, learning_rate)


def _build(kind, num_train, seed, input_dim, hidden_units, activation, prior_sd, dropout_rate, num_members,
           hidden_kl_weight, learning_rate):
    tf_keras.utils.set_random_seed(int(seed))   # for plain `model(x)` calls only; see `_stateless_noise`
    seeds = iter(np.random.SeedSequence(int(seed)).generate_state(1000).astype(int) // 2)
    inputs = tf_keras.Input(shape=(input_dim,), name="x")
    if kind in WEIGHT_NOISE_KINDS:
        layer_cls = _LAYERS[kind]
        divergence = lambda q, p, _: tfd.kl_divergence(q, p) / tf.cast(num_train, tf.float32)  # noqa: E731

        def dense(units, act, name):
            return layer_cls(
                units, activation=act, name=name,
                kernel_posterior_fn=_posterior_fn(seeds), kernel_posterior_tensor_fn=_sample,
                bias_posterior_tensor_fn=_sample,
                kernel_prior_fn=_prior_fn(prior_sd), kernel_divergence_fn=divergence,
                bias_posterior_fn=tfp.layers.default_mean_field_normal_fn(
                    is_singular=True, loc_initializer=tf_keras.initializers.RandomNormal(stddev=0.1, seed=next(seeds))),
            )
    else:
        def dense(units, act, name):
            return tf_keras.layers.Dense(units, activation=act, name=name,
                                         kernel_initializer=tf_keras.initializers.GlorotUniform(seed=next(seeds)))

    def body(h, prefix=""):
        for index, width in enumerate(hidden_units):
            name = f"{prefix}hidden_{index}"
            if kind == "stochastic_hidden":
                h = GaussianHiddenUnits(width, activation=activation, kl_weight=hidden_kl_weight, name=name,
                                        initializer_seed=next(seeds))(h)
            else:
                h = dense(width, activation, name)(h)
                if kind == "mc_dropout":
                    h = _AlwaysDropout(dropout_rate, name=f"{prefix}dropout_{index}")(h)
        return h

    if kind == "deterministic":
        outputs = dense(1, None, "mu")(body(inputs))
        loss = "mse"
    elif kind == "ensemble":
        params = [dense(2, None, f"member_{m}_output")(body(inputs, f"member_{m}_")) for m in range(num_members)]
        locs = tf_keras.layers.Concatenate(name="member_locs")([p[:, :1] for p in params])
        scales = tf_keras.layers.Concatenate(name="member_scales")([p[:, 1:] for p in params])
        both = tf_keras.layers.Concatenate(name="member_params")([locs, scales])
        outputs = tfp.layers.DistributionLambda(
            lambda t: _normal_head(t, num_members), convert_to_tensor_fn=_sample, name="normal")(both)
        loss = negative_log_likelihood
    else:
        params = dense(2, None, "mu_and_raw_sigma")(body(inputs))
        outputs = tfp.layers.DistributionLambda(_normal_head, convert_to_tensor_fn=_sample, name="normal")(params)
        loss = negative_log_likelihood
    model = tf_keras.Model(inputs, outputs, name=f"{kind}_regressor")
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate), loss=loss)
    model.bnn_kind = kind
    model.bnn_seed = int(seed)
    model.bnn_num_train = num_train
    return model


def _as_inputs(x, model, name="x"):
    x = np.asarray(x, dtype=np.float32)
    input_dim = int(model.input_shape[-1])
    if x.ndim == 1 and input_dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != input_dim or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape [n] or [n, {input_dim}] with n >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has NaN or inf values")
    return x


def _kind(model):
    kind = getattr(model, "bnn_kind", None)
    if kind not in KINDS:
        raise ValueError("model must come from cb.bnn.build_regressor (it has no bnn_kind attribute)")
    return kind


_FORWARD = weakref.WeakKeyDictionary()


def _forward_passes(model):
    """A compiled `(x, T, seed) -> (loc [T, n, k], scale [T, n, k])` for `model`, traced once per model.

    Pass t runs under `_stateless_noise(fold_in(seed, t))`: its noise is a
    function of the int32[2] `seed` and t only, so the same seed gives the same
    draws whatever ran before (and a new seed needs no retracing).
    """
    if model not in _FORWARD:
        signature = [tf.TensorSpec([None, int(model.input_shape[-1])], tf.float32), tf.TensorSpec([], tf.int32),
                     tf.TensorSpec([2], tf.int32)]

        @tf.function(input_signature=signature)
        def passes(inputs, num_samples, seed):
            def one_pass(t):
                with _stateless_noise(tf.random.experimental.stateless_fold_in(seed, t)):
                    output = model(inputs)
                return output.loc, output.scale

            return tf.map_fn(one_pass, tf.range(num_samples), fn_output_signature=(tf.float32, tf.float32))

        _FORWARD[model] = passes
    return _FORWARD[model]


@dataclasses.dataclass(frozen=True)
class Predictive:
    """A predictive distribution summarised per input point.

    Attributes:
        mean: predictive mean, shape [n].
        aleatoric_sd: `sqrt(mean_t sigma_t(x)^2)`, the noise the model attributes to the data.
        epistemic_sd: `sd_t mu_t(x)`, the spread of the network's mean over weight draws.
        total_sd: `sqrt(aleatoric_sd^2 + epistemic_sd^2)`.
        num_samples: stochastic forward passes used.
        seed: the seed of those passes.
    """

    mean: np.ndarray
    aleatoric_sd: np.ndarray
    epistemic_sd: np.ndarray
    total_sd: np.ndarray
    num_samples: int
    seed: int


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
        seed: int seed of the passes. The noise is drawn with stateless ops from seeds
            derived from `seed` alone: the same seed gives the same numbers whatever ran
            before, and TF's global seed is neither used nor changed. Default value: 0.

    Returns:
        A `Predictive` with arrays of shape [n].

    Raises:
        ValueError: for a non-positive `num_samples`, inputs of the wrong shape
            or not finite, or a model not built by `build_regressor`.

    #### Examples

    ```python
    grid = np.linspace(-1.5, 1.5, 200)
    pred = cb.bnn.predict(model, grid, num_samples=200, seed=1)
    cb.plotting.plot_predictive_band(grid, pred.mean, {"total": pred.total_sd,
                                     "aleatoric": pred.aleatoric_sd}, x=het.x, y=het.y)
    ```
    """
    num_samples = _check_int("num_samples", num_samples)
    kind = _kind(model)
    x = _as_inputs(x, model)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if kind == "deterministic":
        mean = model(x).numpy()[:, 0]
        zeros = np.zeros_like(mean)
        return Predictive(mean, zeros, zeros, zeros, 1, int(seed))
    if kind in ("output_only", "ensemble"):
        num_samples = 1
    with quiet_retracing_warnings():
        passes = _forward_passes(model)
        locs, scales = (t.numpy() for t in passes(tf.constant(x), tf.constant(num_samples),
                                                  _seed_pair(seed, "predict")))
    if kind == "ensemble":
        locs, scales = np.moveaxis(locs[0], 1, 0), np.moveaxis(scales[0], 1, 0)
    else:
        locs, scales = locs[..., 0], scales[..., 0]
    aleatoric = np.sqrt(np.mean(scales**2, axis=0))
    epistemic = np.std(locs, axis=0)
    return Predictive(locs.mean(axis=0), aleatoric, epistemic, np.sqrt(aleatoric**2 + epistemic**2),
                      int(num_samples), int(seed))


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """Per-epoch training curves of `fit`.

    Attributes:
        loss: NLL + KL per epoch (minibatch averages), i.e. `-ELBO / N`.
        nll: the data term, mean negative log-likelihood per example (MSE for `deterministic`).
        kl: the KL term as added to the loss (already divided by N).
        seconds_per_epoch: wall time of each epoch.
        seed: the seed of the run.
    """

    loss: np.ndarray
    nll: np.ndarray
    kl: np.ndarray
    seconds_per_epoch: np.ndarray
    seed: int


def fit(model, x, y, *, epochs, seed, batch_size=32, verbose=False):
    """Train a `build_regressor` model by minibatch Adam on `NLL + KL / N`; record both terms.

    Minibatches are reshuffled each epoch with a numpy generator seeded by
    `seed`; the layers' noise of step s is drawn with stateless ops seeded by
    `fold_in(seed_pair(seed), s)`, so the same seed (and starting weights) gives
    the same run whatever ran before. The step is compiled with `tf.function`.

    Args:
        model: a model from `build_regressor` (its compiled Adam optimizer is used).
        x: inputs, shape [n] or [n, input_dim].
        y: targets, shape [n].
        epochs: passes over the data.
        seed: int seed.
        batch_size: minibatch size. Default value: 32.
        verbose: print the loss every tenth of the run. Default value: False.

    Returns:
        A `TrainingHistory`.

    Raises:
        ValueError: for non-positive `epochs` or `batch_size`, or `x`, `y` of
            mismatched or wrong shapes.

    #### Examples

    ```python
    history = cb.bnn.fit(model, het.x, het.y, epochs=300, batch_size=32, seed=0)
    history.nll[-1], history.kl[-1]
    ```
    """
    epochs = _check_int("epochs", epochs)
    batch_size = _check_int("batch_size", batch_size)
    kind = _kind(model)
    x = _as_inputs(x, model)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if len(y) != len(x) or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite with one target per input: {len(y)} targets for {len(x)} inputs")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    rng = np.random.default_rng(seed)
    base_seed = _seed_pair(seed, "fit")
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)

    @tf.function
    def step(xb, yb, step_index):
        with tf.GradientTape() as tape, _stateless_noise(tf.random.experimental.stateless_fold_in(base_seed,
                                                                                                step_index)):
            output = model(xb, training=True)
            if kind == "deterministic":
                nll = tf.reduce_mean(tf.square(output - yb))
            else:
                nll = tf.reduce_mean(-output.log_prob(yb))
            kl = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
            loss = nll + kl
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return nll, kl

    n = len(x)
    step_index = 0
    history = {"nll": [], "kl": [], "seconds": []}
    for epoch in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(n)
        nll_sum = kl_sum = 0.0
        for begin in range(0, n, batch_size):
            idx = order[begin:begin + batch_size]
            nll, kl = step(x[idx], y[idx], tf.constant(step_index, tf.int32))
            step_index += 1
            nll_sum += float(nll) * len(idx)
            kl_sum += float(kl) * len(idx)
        history["nll"].append(nll_sum / n)
        history["kl"].append(kl_sum / n)
        history["seconds"].append(time.perf_counter() - start)
        if verbose and (epoch + 1) % max(1, epochs // 10) == 0:
            print(f"epoch {epoch + 1}: nll {history['nll'][-1]:.4f}  kl {history['kl'][-1]:.4f}")
    nll, kl = np.array(history["nll"]), np.array(history["kl"])
    return TrainingHistory(nll + kl, nll, kl, np.array(history["seconds"]), int(seed))
