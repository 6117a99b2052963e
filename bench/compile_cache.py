"""The compiled-sampler cache, measured: the README tour cell run three times in one process.

Each run re-defines `log_prob_fn` and re-creates the data tensors, as a student re-running a
notebook cell does; the cache is keyed on the function's structure, so only the first run
compiles. Prints compile and sampling seconds per call and the second/first compile ratio.

    python bench/compile_cache.py [--runs 3] [--json results/compile_cache.json]
"""

import argparse
import json
import pathlib

import numpy as np

import cs109b_bayes as cb

CELL = '''
ads = cb.data.advertising()
tv, sales = tf.constant(ads.x / 100, tf.float32), tf.constant(ads.y, tf.float32)

def log_prob_fn(beta0, beta1):
    mean = beta0[:, None] + beta1[:, None] * tv
    log_lik = tf.reduce_sum(-0.5 * ((sales - mean) / 3.26) ** 2, axis=-1)
    return log_lik - 0.5 * (beta0**2 + beta1**2) / 10.0**2

result = cb.sample_hmc(log_prob_fn, {"beta0": 0.0, "beta1": 0.0}, num_results=1000,
                       num_burnin_steps=500, seed=0, progress=False)
'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    import tensorflow as tf  # noqa: PLC0415  (after cs109b_bayes: Keras 2)

    results = []
    for run in range(args.runs):
        namespace = {"cb": cb, "tf": tf}
        exec(CELL, namespace)  # noqa: S102  (our own cell text, as a notebook would run it)
        result = namespace["result"]
        results.append(result)
        print(f"call {run + 1}: compile {result.compile_seconds:7.3f} s   sampling {result.seconds:6.3f} s")
    ratio = results[1].compile_seconds / results[0].compile_seconds if len(results) > 1 else float("nan")
    same = all(np.array_equal(r.samples["beta0"], results[0].samples["beta0"]) for r in results)
    print(f"second / first compile time: {ratio:.4f}   identical draws: {same}")
    print(cb.inference.hmc.cache_info())
    if args.json:
        args.json.write_text(json.dumps({
            "compile_seconds": [r.compile_seconds for r in results],
            "sampling_seconds": [r.seconds for r in results],
            "second_over_first": ratio, "identical_draws": same}, indent=2))


if __name__ == "__main__":
    main()
