"""Each question of labs 10-12: a correct answer passes its check, wrong answers fail it."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.grading import check

import tensorflow as tf  # noqa: E402  (after cs109b_bayes: Keras 2)


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def _passes(question_id, **answers):
    result = check(question_id, **answers)
    assert result.passed, result.text()


def _fails(question_id, **answers):
    result = check(question_id, **answers)
    assert not result.passed, f"{question_id} accepted a wrong answer"
    return result


# ---------------------------------------------------------------- lab 10


def test_reparameterize():
    _passes("lab10.reparameterize", reparameterize=lambda m, v, e: m + tf.exp(0.5 * v) * e)
    variance = _fails("lab10.reparameterize", reparameterize=lambda m, v, e: m + tf.exp(v) * e)  # missing 1/2
    assert "variance" in variance.message
    _fails("lab10.reparameterize", reparameterize=lambda m, v, e: m + v * e)  # log-variance as sd
    # right numbers, but numpy: no gradient reaches the encoder
    numpy_version = _fails("lab10.reparameterize",
                           reparameterize=lambda m, v, e: np.asarray(m) + np.exp(0.5 * np.asarray(v)) * np.asarray(e))
    assert "gradient" in numpy_version.message


def _bce(x, logits):
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)


def test_reconstruction_loss():
    _passes("lab10.reconstruction_loss", reconstruction_loss=_bce)
    manual = lambda x, l: -tf.reduce_sum(x * tf.math.log_sigmoid(l) + (1 - x) * tf.math.log_sigmoid(-l), -1)  # noqa: E731
    _passes("lab10.reconstruction_loss", reconstruction_loss=manual)
    averaged = _fails("lab10.reconstruction_loss",  # mean over pixels instead of the sum
                      reconstruction_loss=lambda x, l: tf.reduce_mean(
                          tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=l), axis=-1))
    assert "times smaller" in averaged.message
    _fails("lab10.reconstruction_loss", reconstruction_loss=lambda x, l: _bce(x, tf.sigmoid(l)))  # sigmoid twice
    _fails("lab10.reconstruction_loss", reconstruction_loss=lambda x, l: tf.reduce_mean(_bce(x, l)))  # batch mean
    _fails("lab10.reconstruction_loss", reconstruction_loss=lambda x, l: None)  # not answered


def _kl(m, v):
    return 0.5 * tf.reduce_sum(tf.exp(v) + m**2 - 1.0 - v, axis=-1)


def test_kl_divergence():
    _passes("lab10.kl_divergence", kl_divergence=_kl)
    _fails("lab10.kl_divergence", kl_divergence=lambda m, v: tf.reduce_sum(tf.exp(v) + m**2 - 1.0 - v, -1))  # no 1/2
    _fails("lab10.kl_divergence",  # treats the log-variance as a log standard deviation
           kl_divergence=lambda m, v: 0.5 * tf.reduce_sum(tf.exp(2 * v) + m**2 - 1.0 - 2 * v, -1))
    _fails("lab10.kl_divergence", kl_divergence=lambda m, v: 0.5 * (tf.exp(v) + m**2 - 1.0 - v))  # not summed


def _make_step(*, reduce=tf.reduce_mean, with_kl=True, train_encoder=True):
    def train_step(x, epsilon, encoder, decoder, optimizer):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = encoder(x, training=True)
            logits = decoder(z_mean + tf.exp(0.5 * z_log_var) * epsilon, training=True)
            reconstruction = _bce(x, logits)
            kl = _kl(z_mean, z_log_var)
            loss = reduce(reconstruction + kl if with_kl else reconstruction)
        variables = (encoder.trainable_variables if train_encoder else []) + decoder.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)

    return train_step


def test_train_step():
    _passes("lab10.train_step", train_step=_make_step())
    summed = _fails("lab10.train_step", train_step=_make_step(reduce=tf.reduce_sum))  # sum over the batch
    assert "not a sum" in summed.message
    no_kl = _fails("lab10.train_step", train_step=_make_step(with_kl=False))  # forgot the KL
    assert "reconstruction term alone" in no_kl.message
    _fails("lab10.train_step", train_step=_make_step(train_encoder=False))  # encoder never updated
    _fails("lab10.train_step", train_step=lambda *args: None)
    as_list = _make_step()
    _passes("lab10.train_step", train_step=lambda *args: list(as_list(*args)))   # a list is a triple too


_STEP_WITH_HELPERS = """
def reparameterize(z_mean, z_log_var, epsilon):
    return z_mean + tf.exp(0.5 * z_log_var) * epsilon

def reconstruction_loss(x, logits):          # wrong: averages over pixels (Question 2's mistake)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)

def kl_divergence(z_mean, z_log_var):
    return 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var, axis=-1)

def train_step(x, epsilon, encoder, decoder, optimizer):
    with tf.GradientTape() as tape:
        z_mean, z_log_var = encoder(x, training=True)
        logits = decoder(reparameterize(z_mean, z_log_var, epsilon), training=True)
        reconstruction = reconstruction_loss(x, logits)
        kl = kl_divergence(z_mean, z_log_var)
        loss = tf.reduce_mean(reconstruction + kl)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)
"""


def test_train_step_is_not_blamed_for_an_earlier_answer():
    namespace = {"tf": tf}
    exec(_STEP_WITH_HELPERS, namespace)  # noqa: S102  (a notebook's globals)
    wrong_helper = namespace["reconstruction_loss"]
    _passes("lab10.train_step", train_step=namespace["train_step"])
    assert namespace["reconstruction_loss"] is wrong_helper, "the student's own function is restored"
    _fails("lab10.reconstruction_loss", reconstruction_loss=wrong_helper)


# ---------------------------------------------------------------- lab 11


def test_gaussian_fit_kl():
    def right(codes):
        m, s = codes.mean(0), np.cov(codes.T, bias=True)
        return 0.5 * (np.trace(s) + m @ m - codes.shape[1] - np.linalg.slogdet(s)[1])

    _passes("lab11.gaussian_fit_kl", gaussian_fit_kl=right)
    _passes("lab11.gaussian_fit_kl", gaussian_fit_kl=lambda c: right(c).reshape(1))
    _fails("lab11.gaussian_fit_kl", gaussian_fit_kl=lambda c: 2 * right(c))  # missing 1/2
    _fails("lab11.gaussian_fit_kl",  # no log det
           gaussian_fit_kl=lambda c: 0.5 * (np.trace(np.cov(c.T, bias=True)) + c.mean(0) @ c.mean(0) - c.shape[1]))
    _fails("lab11.gaussian_fit_kl",  # diagonal only: ignores the correlation
           gaussian_fit_kl=lambda c: 0.5 * np.sum(c.var(0) + c.mean(0) ** 2 - 1 - np.log(c.var(0))))


def _fit_kl(codes, *, dtype=np.float64, bias=True):
    codes = np.asarray(codes, dtype=dtype)
    m, s = codes.mean(0), np.cov(codes.T, bias=bias).astype(dtype)
    return 0.5 * (np.trace(s) + m @ m - codes.shape[1] - np.linalg.slogdet(s)[1])


@pytest.mark.parametrize("seed", range(12))
def test_gaussian_fit_kl_tells_the_divisor(seed, monkeypatch):
    """np.cov's default divides by n - 1: on 200-800 codes that moved the KL by less than the tolerance, so it
    passed about half the time. Now it fails on every seed, and a float32 answer still passes."""
    monkeypatch.setenv("CS109B_CHECK_SEED", str(seed))
    unbiased = _fails("lab11.gaussian_fit_kl", gaussian_fit_kl=lambda c: _fit_kl(c, bias=False))
    assert "n - 1" in unbiased.message and "divides by n" in unbiased.message
    _passes("lab11.gaussian_fit_kl", gaussian_fit_kl=_fit_kl)
    _passes("lab11.gaussian_fit_kl", gaussian_fit_kl=lambda c: _fit_kl(c, dtype=np.float32))


def test_gaussian_fit_kl_an_answer_that_centres_the_codes_in_place_fails():
    def centres_in_place(codes):
        kl = _fit_kl(codes)
        codes -= codes.mean(axis=0)      # "tidying up" the caller's array: the mean term of its KL is gone
        return kl

    _passes("lab11.gaussian_fit_kl", gaussian_fit_kl=centres_in_place)   # the reference uses the checker's codes

    def scales_then_answers(codes):
        codes *= 2.0                     # writes into its input, then answers for what it wrote
        return _fit_kl(codes)

    _fails("lab11.gaussian_fit_kl", gaussian_fit_kl=scales_then_answers)


def test_interpolate():
    right = lambda a, b, n: a + np.linspace(0, 1, n)[:, None] * (b - a)  # noqa: E731
    _passes("lab11.interpolate", interpolate=right)
    _fails("lab11.interpolate", interpolate=lambda a, b, n: a + np.linspace(0, 1, n, endpoint=False)[:, None] * (b - a))
    _fails("lab11.interpolate", interpolate=lambda a, b, n: right(a, b, n).T)
    _fails("lab11.interpolate", interpolate=lambda a, b, n: right(b, a, n))  # backwards


# ---------------------------------------------------------------- lab 12


def test_encode_repeatedly():
    _passes("lab12.encode_repeatedly",
            encode_repeatedly=lambda enc, x, t: np.stack([np.asarray(enc(x)[0]) for _ in range(t)]))
    _passes("lab12.encode_repeatedly",
            encode_repeatedly=lambda enc, x, t: tf.stack([enc(x, training=False)[0] for _ in range(t)]))
    once = _fails("lab12.encode_repeatedly",  # one call tiled: no new weights, no spread
                  encode_repeatedly=lambda enc, x, t: np.repeat(np.asarray(enc(x)[0])[None], t, axis=0))
    assert "called 1 times" in once.message
    _fails("lab12.encode_repeatedly",  # the log-variance head instead of z_mean
           encode_repeatedly=lambda enc, x, t: np.stack([np.asarray(enc(x)[1]) for _ in range(t)]))
    _fails("lab12.encode_repeatedly",  # passes on the last axis
           encode_repeatedly=lambda enc, x, t: np.stack([np.asarray(enc(x)[0]) for _ in range(t)], axis=-1))


def test_encode_repeatedly_an_answer_that_rescales_x_in_place_fails():
    """The check handed its own x to the answer: `x /= 2` in place, then encoding, moved the reference with it."""
    def halves_x_in_place(enc, x, t):
        x /= 2.0                          # a "normalisation" written into the caller's array
        return np.stack([np.asarray(enc(x)[0]) for _ in range(t)])

    _fails("lab12.encode_repeatedly", encode_repeatedly=halves_x_in_place)

    def doubles_the_weights(enc, x, t):
        enc.weights *= 2.0                # writes into the stand-in encoder's weights
        return np.stack([np.asarray(enc(x)[0]) for _ in range(t)])

    _fails("lab12.encode_repeatedly", encode_repeatedly=doubles_the_weights)


def test_epistemic_spread():
    _passes("lab12.epistemic_spread", epistemic_spread=lambda z: z.std(axis=0).mean(axis=-1))
    _passes("lab12.epistemic_spread", epistemic_spread=lambda z: tf.reduce_mean(tf.math.reduce_std(z, 0), -1))
    _fails("lab12.epistemic_spread", epistemic_spread=lambda z: z.var(axis=0).mean(axis=-1))  # variance
    _fails("lab12.epistemic_spread", epistemic_spread=lambda z: z.std(axis=1).mean(axis=-1))  # wrong axis
    _fails("lab12.epistemic_spread", epistemic_spread=lambda z: z.std(axis=0, ddof=1).mean(axis=-1))  # divisor T-1


def test_every_lab_10_to_12_question_is_tested_here():
    ids = set(cb.grading.questions("lab10") + cb.grading.questions("lab11") + cb.grading.questions("lab12"))
    assert ids == {"lab10.reparameterize", "lab10.reconstruction_loss", "lab10.kl_divergence", "lab10.train_step",
                   "lab11.gaussian_fit_kl", "lab11.interpolate",
                   "lab12.encode_repeatedly", "lab12.epistemic_spread"}
