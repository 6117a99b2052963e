"""Typical wrong answers for lab 04's student copy (tests/test_labs.py)."""

WRONG = {
    "def log_posterior_tf(": '''def log_posterior_tf(w11, w12, w21, w22, b1):
    # forgot the prior: this is the log-likelihood only
    prediction = (w21[..., None] * tf.sin(w11[..., None] * x_tf)
                  + w22[..., None] * tf.sin(w12[..., None] * x_tf) + b1[..., None])
    return -0.5 * tf.reduce_sum((y_tf - prediction) ** 2, axis=-1) / NOISE_SD**2
''',
    "def predictive_mean_sd(": '''def predictive_mean_sd(samples, x, noise_sd):
    # forgot the noise: the sd of the network outputs only
    w = {n: np.asarray(v).reshape(-1)[:, None] for n, v in samples.items()}
    outputs = w["w21"] * np.sin(w["w11"] * x) + w["w22"] * np.sin(w["w12"] * x) + w["b1"]
    return outputs.mean(axis=0), outputs.std(axis=0)
''',
    "def make_hack_log_posterior(": '''def make_hack_log_posterior(w11, w12):
    # forgot the priors of the three sampled weights
    def log_prob(w21, w22, b1):
        prediction = w21[..., None] * tf.sin(w11 * x_tf) + w22[..., None] * tf.sin(w12 * x_tf) + b1[..., None]
        return -0.5 * tf.reduce_sum((y_tf - prediction) ** 2, axis=-1) / NOISE_SD**2
    return log_prob
''',
}
