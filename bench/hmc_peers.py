"""`cb.sample_hmc` (defaults) vs NumPyro NUTS vs PyMC NUTS on the labs' models.

Side by side in one run: every (model, system) pair runs in its own fresh
Python process, one after another (so no framework's threads or caches
interfere with another's), on the same data, the same log density (checked
to agree across TensorFlow, JAX and PyTensor before sampling), the same
starting points, 4 chains, 1000 warm-up + 2000 kept draws (`--quick`: 300 +
500). Each system runs with its own defaults (NUTS, target acceptance 0.8,
tree depth 10, diagonal mass matrix where the system adapts one); NumPyro
runs its chains vectorised, PyMC in its default worker processes.

Reported per model and system:

- `ess_per_s`: the smallest bulk ESS over every parameter element, divided by
  `seconds`. For the multimodal networks (`gap5`, `bnn`) the ESS is per chain
  (single-chain bulk ESS summed over the chains), because chains that settle
  in different, equivalent modes make the pooled ESS meaningless.
- `seconds`: sampling time, warm-up + draws, compilation excluded.
- `compile_seconds`: compile / first-call overhead (ours: the XLA compile that
  `sample_hmc` reports; NumPyro: the trace + lowering + XLA compile durations
  that JAX's monitoring events report during the run;
  PyMC: `pm.sample` wall time minus its `sampling_time`, model build included).
- `rhat`: the largest rank-normalised split R-hat over parameter elements.
- `wall_seconds`: compile + sampling.

ESS and R-hat come from `cb.diagnostics` (`cs109b_bayes.inference.diagnostics`) for every system.

Usage:

    python bench/hmc_peers.py                           # all models, full length
    python bench/hmc_peers.py --models linreg --quick
    python bench/hmc_peers.py --json bench/results/hmc_peers.json
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = pathlib.Path(__file__).resolve().parent
SYSTEMS = ("cs109b_bayes", "numpyro", "pymc")
NUM_CHAINS = 4


def _jittered_starts(init, num_chains, seed):
    """The same per-chain starting points for every system (sd 0.1 jitter)."""
    rng = np.random.default_rng(seed)
    return [{k: np.asarray(v, dtype=float) + 0.1 * rng.normal(size=np.shape(v)) for k, v in init.items()}
            for _ in range(num_chains)]


def _summarise(samples, multimodal):
    """samples: dict name -> [chain, draw, ...]. Returns min ESS, kind, max R-hat."""
    from cs109b_bayes.inference.diagnostics import effective_sample_size, potential_scale_reduction

    if multimodal:
        ess = min(
            float(np.min(sum(effective_sample_size(v[c:c + 1]) for c in range(v.shape[0]))))
            for v in samples.values()
        )
    else:
        ess = min(float(np.min(effective_sample_size(v))) for v in samples.values())
    rhat = max(float(np.max(potential_scale_reduction(v))) for v in samples.values())
    return ess, ("per-chain" if multimodal else "pooled"), rhat


def _run_ours(model, spec, data, starts, num_warmup, num_draws, seed):
    import cs109b_bayes as cb
    from bench_models import tf_log_prob

    # sample_hmc takes one init and jitters it itself; our jitter draws differ from
    # the shared starts only by the random stream, not by the scale (sd 0.1).
    wall = time.perf_counter()
    result = cb.sample_hmc(tf_log_prob(model, data), spec["init"], num_results=num_draws,
                           num_burnin_steps=num_warmup, num_chains=NUM_CHAINS, seed=seed)
    wall = time.perf_counter() - wall
    return result.samples, result.seconds, result.compile_seconds, wall, {
        "divergences": result.divergences, "accept": result.acceptance_rate,
    }


def _run_numpyro(model, spec, data, starts, num_warmup, num_draws, seed):
    import jax
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS

    from bench_models import jax_log_prob

    log_prob = jax_log_prob(model, data)
    init = {k: jnp.asarray(np.stack([s[k] for s in starts]), dtype=jnp.float32) for k in spec["init"]}
    mcmc = MCMC(NUTS(potential_fn=lambda p: -log_prob(p)), num_warmup=num_warmup, num_samples=num_draws,
                num_chains=NUM_CHAINS, chain_method="vectorized", progress_bar=False)
    # JAX reports each trace / lowering / XLA compile through its monitoring events; the
    # union of their time intervals (traces nest) is the compile time inside this one
    # run, and the rest of the run is sampling.
    compile_events = ("/jax/core/compile/jaxpr_trace_duration",
                      "/jax/core/compile/jaxpr_to_mlir_module_duration",
                      "/jax/core/compile/backend_compile_duration")
    intervals = []

    def listen(event, duration, **_):
        if event in compile_events:
            now = time.perf_counter()
            intervals.append((now - duration, now))

    jax.monitoring.register_event_duration_secs_listener(listen)
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), init_params=init)
    jax.block_until_ready(mcmc.get_samples())
    wall = time.perf_counter() - start
    compile_seconds = _union_length(intervals)
    samples = {k: np.asarray(v, dtype=np.float64) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields(group_by_chain=True)
    return samples, wall - compile_seconds, compile_seconds, wall, {
        "divergences": int(np.sum(extra["diverging"])),
    }


def _union_length(intervals):
    total, reach = 0.0, -np.inf
    for low, high in sorted(intervals):
        if high > reach:
            total += high - max(low, reach)
            reach = high
    return total


def _run_pymc(model, spec, data, starts, num_warmup, num_draws, seed):
    import pymc as pm

    from bench_models import pytensor_log_prob

    wall = time.perf_counter()
    with pm.Model():
        variables = {k: pm.Flat(k, shape=np.shape(v)) for k, v in spec["init"].items()}
        pm.Potential("log_density", pytensor_log_prob(model, data, variables))
        idata = pm.sample(draws=num_draws, tune=num_warmup, chains=NUM_CHAINS, init="adapt_diag",
                          initvals=starts, random_seed=seed, progressbar=False,
                          compute_convergence_checks=False, return_inferencedata=True)
    wall = time.perf_counter() - wall
    seconds = float(idata.sample_stats.attrs["sampling_time"])
    samples = {k: np.asarray(idata.posterior[k].values, dtype=np.float64) for k in spec["init"]}
    return samples, seconds, wall - seconds, wall, {
        "divergences": int(idata.sample_stats["diverging"].values.sum()),
    }


RUNNERS = {"cs109b_bayes": _run_ours, "numpyro": _run_numpyro, "pymc": _run_pymc}


def worker(model, system, num_warmup, num_draws, seed):
    """Run one (model, system) pair in this process and return its row."""
    sys.path.insert(0, str(HERE))
    from bench_models import MODELS

    spec = MODELS[model]
    data = spec["data"]()
    starts = _jittered_starts(spec["init"], NUM_CHAINS, seed)
    samples, seconds, compile_seconds, wall, extra = RUNNERS[system](
        model, spec, data, starts, num_warmup, num_draws, seed)
    ess, kind, rhat = _summarise(samples, spec["multimodal"])
    return {"ess_per_s": ess / seconds, "rhat": rhat, "seconds": seconds, "compile_seconds": compile_seconds,
            "wall_seconds": wall, "min_ess": ess, "ess_kind": kind, **extra}


def _run_in_child(model, system, args):
    command = [sys.executable, __file__, "--worker", model, system, "--warmup", str(args.warmup),
               "--draws", str(args.draws), "--seed", str(args.seed)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"  {model}/{system} TIMED OUT after {args.timeout:.0f} s (left out of the table)", file=sys.stderr)
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        print(f"  {model}/{system} FAILED (exit {done.returncode}):\n{tail}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def versions():
    from importlib import metadata

    found = {}
    for name in ("tensorflow", "tensorflow-probability", "jax", "numpyro", "pymc", "pytensor", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def format_table(results, *, args_line=""):
    """A markdown table with the ratio of ours to the best peer per model."""
    lines = ["| model | system | min ESS/s | ESS kind | R-hat | sampling s | compile s | wall s | divergences |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    ratios = ["", "| model | ESS/s ours / best peer | best peer | our wall / best peer's wall |",
              "|---|---:|---|---:|"]
    for model, rows in results.items():
        for system in SYSTEMS:
            row = rows.get(system)
            if row is None:
                continue
            lines.append(f"| {model} | {system} | {row['ess_per_s']:.1f} | {row['ess_kind']} | {row['rhat']:.3f} "
                         f"| {row['seconds']:.1f} | {row['compile_seconds']:.1f} | {row['wall_seconds']:.1f} "
                         f"| {row.get('divergences', '')} |")
        peers = {s: r for s, r in rows.items() if s != "cs109b_bayes" and r is not None}
        ours = rows.get("cs109b_bayes")
        if ours and peers:
            best = max(peers, key=lambda s: peers[s]["ess_per_s"])
            ratios.append(f"| {model} | {ours['ess_per_s'] / peers[best]['ess_per_s']:.2f}x | {best} "
                          f"| {ours['wall_seconds'] / peers[best]['wall_seconds']:.2f} |")
    return "\n".join(lines + ratios)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="linreg,gap5,bnn")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--quick", action="store_true", help="300 warm-up + 500 draws")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=None,
                        help="give up on one (model, system) run after this many seconds")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SYSTEM"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.warmup = args.warmup or (300 if args.quick else 1000)
    args.draws = args.draws or (500 if args.quick else 2000)
    if args.worker:
        row = worker(*args.worker, args.warmup, args.draws, args.seed)
        print("RESULT " + json.dumps(row))
        return 0

    sys.path.insert(0, str(HERE))
    import bench_models

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [m for m in models if m not in bench_models.MODELS] + [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown model or system {unknown}; models: {sorted(bench_models.MODELS)}, systems: {SYSTEMS}")
    print(f"{NUM_CHAINS} chains, {args.warmup} warm-up + {args.draws} draws, seed {args.seed}; "
          f"{machine_description()}", flush=True)
    results = {}
    for model in models:
        check = tuple(s for s, name in (("jax", "numpyro"), ("pytensor", "pymc")) if name in systems)
        error = bench_models.check_agreement(model, systems=check)
        print(f"{model}: {bench_models.MODELS[model]['title']}; log densities agree to {error:.1e}", flush=True)
        results[model] = {}
        for system in systems:
            row = _run_in_child(model, system, args)
            results[model][system] = row
            if row:
                print(f"  {system:13s} ESS/s {row['ess_per_s']:9.1f}  R-hat {row['rhat']:.3f}  "
                      f"sampling {row['seconds']:6.1f} s  compile {row['compile_seconds']:5.1f} s", flush=True)
    print()
    print(format_table(results))
    if args.json:
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {m: {s: r for s, r in rows.items() if r is not None} for m, rows in results.items()}
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        meta = {"machine": machine_description(), "versions": versions(), "num_chains": NUM_CHAINS,
                "num_warmup": args.warmup, "num_draws": args.draws, "seed": args.seed,
                "command": "python bench/hmc_peers.py " + " ".join(argv if argv is not None else sys.argv[1:])}
        path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
