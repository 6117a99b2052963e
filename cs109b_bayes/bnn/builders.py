"""`build_regressor`: the eight kinds of 1-output regressor, and their Gaussian loss.

Every initializer gets its own int seed from `cs109b_bayes.seeds.sub_seeds(seed,
"initializers", n)`, so building a model reads and writes no global random state (not
NumPy's, not Python's, not TensorFlow's) and the same seed gives the same weights.
"""

import warnings

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from cs109b_bayes import noise, seeds
from cs109b_bayes.bnn.inputs import check_count
from cs109b_bayes.bnn.kinds import WEIGHT_NOISE_KINDS, check_kind
from cs109b_bayes.bnn.layers import MIN_SCALE, AlwaysDropout, GaussianHiddenUnits
from cs109b_bayes.tfp_internals import StableDenseLocalReparameterization, StatelessDenseFlipout

tfd = tfp.distributions

__all__ = ["build_regressor", "negative_log_likelihood"]

_WEIGHT_NOISE_LAYERS = {
    "reparameterization": tfp.layers.DenseReparameterization,
    "flipout": StatelessDenseFlipout,
    "local_reparameterization": StableDenseLocalReparameterization,
}


def negative_log_likelihood(y, distribution):
    """Gaussian negative log-likelihood per example: `-log N(y | mu, sigma)`.

    The Keras loss of every probabilistic regressor of `build_regressor` (Keras
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


def _normal_head(params, num_outputs=1):
    loc, raw_scale = params[..., :num_outputs], params[..., num_outputs:]
    return tfd.Normal(loc=loc, scale=MIN_SCALE + tf.math.softplus(raw_scale))


def _prior_fn(prior_sd):
    def make_prior(dtype, shape, name, trainable, add_variable_fn):
        del name, trainable, add_variable_fn
        prior = tfd.Normal(loc=tf.zeros(shape, dtype), scale=tf.cast(prior_sd, dtype))
        return tfd.Independent(prior, reinterpreted_batch_ndims=len(shape))

    return make_prior


def _weight_noise_dense(kind, num_train, prior_sd, init_seeds):
    """A `dense(units, activation, name)` factory of Bayesian dense layers of one kind."""
    layer_cls = _WEIGHT_NOISE_LAYERS[kind]

    def divergence(q, p, _):
        return tfd.kl_divergence(q, p) / tf.cast(num_train, tf.float32)

    def dense(units, activation, name):
        normal = tf_keras.initializers.RandomNormal
        return layer_cls(
            units, activation=activation, name=name,
            kernel_posterior_fn=tfp.layers.default_mean_field_normal_fn(
                loc_initializer=normal(stddev=0.1, seed=next(init_seeds)),
                untransformed_scale_initializer=normal(mean=-3.0, stddev=0.1, seed=next(init_seeds))),
            kernel_posterior_tensor_fn=noise.sample, bias_posterior_tensor_fn=noise.sample,
            kernel_prior_fn=_prior_fn(prior_sd), kernel_divergence_fn=divergence,
            bias_posterior_fn=tfp.layers.default_mean_field_normal_fn(
                is_singular=True, loc_initializer=normal(stddev=0.1, seed=next(init_seeds))))

    return dense


def _point_dense(init_seeds):
    def dense(units, activation, name):
        return tf_keras.layers.Dense(units, activation=activation, name=name,
                                     kernel_initializer=tf_keras.initializers.GlorotUniform(seed=next(init_seeds)))

    return dense


def build_regressor(kind, *, num_train, seed, input_dim=1, hidden_units=(32, 32), activation="relu",
                    prior_sd=1.0, dropout_rate=0.1, num_members=5, hidden_kl_weight=1.0,
                    learning_rate=0.003):
    """A 1-output regressor of the given kind (see `cs109b_bayes.bnn`), compiled with Adam.

    Hidden layers are `hidden_units` wide with `activation`; the last layer
    outputs `mu` and a raw scale turned into `sigma = 1e-3 + softplus(raw)`.
    For the weight-noise kinds every dense layer (hidden and output) has a
    Bayesian kernel: a mean-field Gaussian posterior (initial sd
    softplus(-3) ~ 0.05), a `N(0, prior_sd^2)` prior, and the KL divided by
    `num_train` (so `sum(model.losses) = KL / N`); biases are point estimates.
    For `stochastic_hidden` every hidden layer is a `GaussianHiddenUnits` layer
    whose per-example KL, averaged over the batch, is weighted by
    `hidden_kl_weight` (1 by default: the loss is then the negative ELBO per example).

    Args:
        kind: one of `cb.bnn.KINDS`.
        num_train: N, the number of training examples (scales the KL).
        seed: int; each weight initialiser gets its own seed derived from it
            (`cb.seeds.sub_seeds(seed, "initializers", n)`). No global random state is
            read or written. Recorded as `model.bnn_seed`. The noise of `predict`, `fit`
            and `cb.variational.gradient_variance` is stateless and seeded by their own
            `seed`; a plain call `model(x)` uses TF's stateful random ops (not reproducible).
        input_dim: number of input features. Default value: 1.
        hidden_units: widths of the hidden layers. Default value: (32, 32).
        activation: hidden activation. Default value: `"relu"`.
        prior_sd: sd of the Gaussian prior on weights. Default value: 1.0.
        dropout_rate: dropout rate of `mc_dropout`. Default value: 0.1.
        num_members: networks in an `ensemble`. Default value: 5.
        hidden_kl_weight: weight of the hidden units' KL in the loss of
            `stochastic_hidden`. Each `GaussianHiddenUnits` layer adds
            `hidden_kl_weight * mean_batch sum_units KL(q(h | x) || N(0, 1))`: a per-example
            KL averaged over the batch, like the NLL, so weight 1 makes the loss the
            negative ELBO per example of the latent-variable model (one latent `h` per
            example, unlike the weight KL, which is one global term and is divided by
            `num_train`). A weight below 1 is a beta-weighted objective, not the ELBO.
            Default value: 1.0.
        learning_rate: Adam learning rate of `model.optimizer`. Default value: 0.003.

    Returns:
        A compiled `tf_keras.Model` with attributes `bnn_kind`, `bnn_seed` and
        `bnn_num_train`. Its output is a `tfd.Normal` (a plain [n, 1] tensor for
        `deterministic`).

    Raises:
        ValueError: for an unknown kind, a non-positive `num_train`,
            `input_dim`, width, `prior_sd` or `num_members`, a dropout rate
            outside (0, 1), or a negative or non-finite `hidden_kl_weight`.
        TypeError: for a seed that is not an int.

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
    check_kind(kind)
    num_train = check_count("num_train", num_train)
    input_dim = check_count("input_dim", input_dim)
    seed = seeds.check_seed(seed)
    hidden_units = tuple(hidden_units)
    if not hidden_units:
        raise ValueError("hidden_units must list at least one hidden layer width")
    for width in hidden_units:
        check_count("each hidden_units width", width)
    if isinstance(prior_sd, bool) or not np.isfinite(prior_sd) or prior_sd <= 0:
        raise ValueError(f"prior_sd must be positive, got {prior_sd!r}")
    if isinstance(dropout_rate, bool) or not 0.0 < dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in (0, 1), got {dropout_rate!r}")
    num_members = check_count("num_members", num_members)
    if isinstance(hidden_kl_weight, bool) or not np.isfinite(hidden_kl_weight) or hidden_kl_weight < 0:
        raise ValueError(f"hidden_kl_weight must be a finite number >= 0, got {hidden_kl_weight!r}")
    num_layers = (len(hidden_units) + 1) * (num_members if kind == "ensemble" else 1)
    init_seeds = iter(seeds.sub_seeds(seed, "initializers", 3 * num_layers))
    if kind in WEIGHT_NOISE_KINDS:
        dense = _weight_noise_dense(kind, num_train, prior_sd, init_seeds)
    else:
        dense = _point_dense(init_seeds)

    def body(h, prefix=""):
        for index, width in enumerate(hidden_units):
            name = f"{prefix}hidden_{index}"
            if kind == "stochastic_hidden":
                h = GaussianHiddenUnits(width, activation=activation, kl_weight=hidden_kl_weight, name=name,
                                        initializer_seed=next(init_seeds))(h)
            else:
                h = dense(width, activation, name)(h)
                if kind == "mc_dropout":
                    h = AlwaysDropout(dropout_rate, name=f"{prefix}dropout_{index}")(h)
        return h

    with warnings.catch_warnings():
        # TFP's layers call the deprecated `add_variable`; the warning is not actionable here.
        warnings.filterwarnings("ignore", message=".*add_variable.*")
        inputs = tf_keras.Input(shape=(input_dim,), name="x")
        if kind == "deterministic":
            outputs, loss = dense(1, None, "mu")(body(inputs)), "mse"
        elif kind == "ensemble":
            params = [dense(2, None, f"member_{m}_output")(body(inputs, f"member_{m}_")) for m in range(num_members)]
            locs = tf_keras.layers.Concatenate(name="member_locs")([p[:, :1] for p in params])
            scales = tf_keras.layers.Concatenate(name="member_scales")([p[:, 1:] for p in params])
            both = tf_keras.layers.Concatenate(name="member_params")([locs, scales])
            outputs = tfp.layers.DistributionLambda(
                lambda t: _normal_head(t, num_members), convert_to_tensor_fn=noise.sample, name="normal")(both)
            loss = negative_log_likelihood
        else:
            params = dense(2, None, "mu_and_raw_sigma")(body(inputs))
            outputs = tfp.layers.DistributionLambda(_normal_head, convert_to_tensor_fn=noise.sample,
                                                    name="normal")(params)
            loss = negative_log_likelihood
    model = tf_keras.Model(inputs, outputs, name=f"{kind}_regressor")
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate), loss=loss)
    model.bnn_kind = kind
    model.bnn_seed = seed
    model.bnn_num_train = num_train
    return model
