"""`cb.sample_hmc` (defaults) vs NumPyro NUTS vs PyMC NUTS on the labs' models.

Side by side in one run: every (model, system, seed) runs in its own fresh
Python process, one after another, systems interleaved per seed (so no
framework's threads or caches interfere with another's, and every system sees
the same load), on the same data, the same log density (checked to agree
across TensorFlow, JAX and PyTensor before sampling), the same starting
points, 4 chains, 1000 warm-up + 2000 kept draws (`--quick`: 300 + 500). Each
system runs with its own defaults (NUTS, target acceptance 0.8, tree depth 10,
adapted mass matrix). Systems:

- `cs109b_bayes`: `cb.sample_hmc` defaults: 2 groups of 2 vectorised chains, each group an
  XLA-compiled loop in its own thread (both cores).
- `cs109b_bayes_xla_disk_cache`: the same, in a process whose TF XLA persistent
  compile cache (`--tf_xla_persistent_cache_directory`) a first process filled:
  a warm-disk-cache row, never the honest first call.
- `numpyro`: chains vectorised (`chain_method="vectorized"`).
- `numpyro_parallel`: `chain_method="parallel"` on one XLA host device per chain
  (`numpyro.set_host_device_count(4)`; the devices share the machine's cores).
- `pymc`: its default worker processes.

Reported per model and system (medians over `--seeds`):

- `ess_per_s`: the smallest bulk ESS over every parameter element, divided by
  `seconds`. For the multimodal networks (`gap5`, `bnn`) the ESS is per chain
  (single-chain bulk ESS summed over the chains), because chains that settle
  in different, equivalent modes make the pooled ESS meaningless.
- `ess_per_kgrad`: the same ESS per 1000 gradient evaluations of the kept draws
  (leapfrog steps summed over chains: ours `MCMCResult.num_gradient_evals`,
  NumPyro's `num_steps`, PyMC's `n_steps`).
- `seconds`: sampling time, warm-up + draws, compilation excluded.
- `compile_seconds`: compile / first-call overhead (ours: the set-up, trace and XLA
  compile that `sample_hmc` reports; NumPyro: the trace + lowering + XLA compile
  durations that JAX's monitoring events report during the run;
  PyMC: `pm.sample` wall time minus its `sampling_time`, model build included).
- `rhat`: the largest rank-normalised split R-hat over parameter elements.
- `wall_seconds`: the first call in a fresh process (framework already imported):
  compile + sampling. `repeat_wall_seconds`: a second call on the same model in
  the same process (seed + 1000; ours with a re-defined `log_prob_fn`, NumPyro
  the same `MCMC` object run again).

- `cpu_seconds_both_calls`: the worker process's CPU time over both calls, framework
  import included (all threads: less sensitive than wall time to other jobs' load).

ESS and R-hat come from `cb.diagnostics` (`cs109b_bayes.inference.diagnostics`) for every system.

Usage: `python bench/hmc_peers.py [--models linreg --quick --seeds 0,1,2 --json PATH]`.
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
SYSTEMS = ("cs109b_bayes", "cs109b_bayes_xla_disk_cache", "numpyro", "numpyro_parallel", "pymc")
PEERS = ("numpyro", "numpyro_parallel", "pymc")
NUM_CHAINS = 4
REPEAT_SEED_OFFSET = 1000     # the repeated call (same model, same process) uses seed + this
REPEAT = True                 # time a repeated call (`--no-repeat` leaves it out)


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
    import tensorflow  # noqa: F401  (imported before the timer, as JAX and PyMC are for theirs)

    import cs109b_bayes as cb
    from bench_models import tf_log_prob

    # sample_hmc takes one init and jitters it itself; our jitter draws differ from
    # the shared starts only by the random stream, not by the scale (sd 0.1).
    def call(call_seed):
        wall = time.perf_counter()
        # a fresh log_prob_fn each call, as a notebook cell run again would make
        result = cb.sample_hmc(tf_log_prob(model, data), spec["init"], num_results=num_draws,
                               num_burnin_steps=num_warmup, num_chains=NUM_CHAINS, seed=call_seed)
        return result, time.perf_counter() - wall

    result, wall = call(seed)
    repeat_wall = call(seed + REPEAT_SEED_OFFSET)[1] if REPEAT else None
    return result.samples, result.seconds, result.compile_seconds, wall, {
        "divergences": result.divergences, "accept": result.acceptance_rate,
        "step_size": float(np.mean(result.step_size)), "repeat_wall_seconds": repeat_wall,
        "gradient_evals": getattr(result, "num_gradient_evals", None),
    }


def _run_numpyro(model, spec, data, starts, num_warmup, num_draws, seed, chain_method="vectorized"):
    import jax
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS

    from bench_models import jax_log_prob

    log_prob = jax_log_prob(model, data)
    init = {k: jnp.asarray(np.stack([s[k] for s in starts]), dtype=jnp.float32) for k in spec["init"]}
    mcmc = MCMC(NUTS(potential_fn=lambda p: -log_prob(p)), num_warmup=num_warmup, num_samples=num_draws,
                num_chains=NUM_CHAINS, chain_method=chain_method, progress_bar=False)
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
    fields = ("diverging", "num_steps", "adapt_state.step_size")
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), init_params=init, extra_fields=fields)
    jax.block_until_ready(mcmc.get_samples())
    wall = time.perf_counter() - start
    compile_seconds = _union_length(intervals)
    samples = {k: np.asarray(v, dtype=np.float64) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields(group_by_chain=True)
    repeat_wall = None
    if REPEAT:          # the repeated call: the same MCMC object run again
        start = time.perf_counter()
        mcmc.run(jax.random.PRNGKey(seed + REPEAT_SEED_OFFSET), init_params=init, extra_fields=fields)
        jax.block_until_ready(mcmc.get_samples())
        repeat_wall = time.perf_counter() - start
    return samples, wall - compile_seconds, compile_seconds, wall, {
        "divergences": int(np.sum(extra["diverging"])), "repeat_wall_seconds": repeat_wall,
        "step_size": float(np.mean(extra["adapt_state.step_size"][:, -1])),
        "gradient_evals": int(np.sum(extra["num_steps"])),
    }


def _run_numpyro_parallel(model, spec, data, starts, num_warmup, num_draws, seed):
    """NumPyro's parallel chains: one XLA host device per chain (`chain_method="parallel"`).

    NumPyro runs one chain per device (with fewer devices than chains it falls back to
    drawing the chains one after another), so the 4 chains get 4 host devices, which
    share this machine's cores; no chain waits for another's tree, and both cores work.
    """
    import numpyro

    numpyro.set_host_device_count(NUM_CHAINS)       # before JAX initialises its backend (a fresh process)
    return _run_numpyro(model, spec, data, starts, num_warmup, num_draws, seed, chain_method="parallel")


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
        "gradient_evals": int(idata.sample_stats["n_steps"].values.sum()) if "n_steps" in idata.sample_stats
        else None,
    }


# the disk-cache row is ours in a process whose XLA persistent compile cache a first
# process of the same (model, seed) has filled: labelled apart, never the first call
RUNNERS = {"cs109b_bayes": _run_ours, "cs109b_bayes_xla_disk_cache": _run_ours, "numpyro": _run_numpyro,
           "numpyro_parallel": _run_numpyro_parallel, "pymc": _run_pymc}


def worker(model, system, num_warmup, num_draws, seed):
    """Run one (model, system) pair in this process and return its row."""
    sys.path.insert(0, str(HERE))
    from bench_models import MODELS

    spec = MODELS[model]
    data = spec["data"]()
    starts = _jittered_starts(spec["init"], NUM_CHAINS, seed)
    cpu = time.process_time()
    samples, seconds, compile_seconds, wall, extra = RUNNERS[system](
        model, spec, data, starts, num_warmup, num_draws, seed)
    ess, kind, rhat = _summarise(samples, spec["multimodal"])
    grads = extra.get("gradient_evals")
    return {"ess_per_s": ess / seconds, "rhat": rhat, "seconds": seconds, "compile_seconds": compile_seconds,
            "wall_seconds": wall, "min_ess": ess, "ess_kind": kind, "seed": seed,
            "ess_per_kgrad": 1000.0 * ess / grads if grads else None,
            "cpu_seconds_both_calls": time.process_time() - cpu, **extra}


def _run_in_child(model, system, args, seed):
    command = [sys.executable, __file__, "--worker", model, system, "--warmup", str(args.warmup),
               "--draws", str(args.draws), "--seed", str(seed)] + ([] if args.repeat else ["--no-repeat"])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    if system == "cs109b_bayes_xla_disk_cache":
        import tempfile

        cache = tempfile.mkdtemp(prefix="hmc-xla-cache-")
        env["TF_XLA_FLAGS"] = f"{env.get('TF_XLA_FLAGS', '')} --tf_xla_persistent_cache_directory={cache}".strip()
        fill = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
        if fill.returncode != 0:
            print(f"  {model}/{system} cache-filling run FAILED (exit {fill.returncode})", file=sys.stderr)
            return None
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


def _median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.median(values)) if values else None


def _fmt(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def format_table(results):
    """Markdown tables: medians over seeds per (model, system), then ours / the best peer per model.

    `results[model][system]` is a list of rows, one per seed. The first-call wall is the
    whole first call in a fresh process (compile included); the repeated-call wall is a
    second call on the same model in the same process.
    """
    lines = ["| model | system | seeds | min ESS/s | ESS / 1k grad | ESS kind | R-hat (max) | sampling s | "
             "compile s | first-call wall s | repeated-call wall s | process CPU s | divergences | step size |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ratios = ["", "| model | ESS/s ours / best peer (ratio of the medians) | per seed | median of the per-seed "
              "ratios | best peer | first-call wall ours / best peer's | repeated-call wall ours / best peer's |",
              "|---|---:|---|---:|---|---:|---:|"]
    for model, by_system in results.items():
        medians = {}
        for system in SYSTEMS:
            rows = [r for r in by_system.get(system, []) if r is not None]
            if not rows:
                continue
            medians[system] = {k: _median(rows, k) for k in ("ess_per_s", "ess_per_kgrad", "seconds",
                               "compile_seconds", "wall_seconds", "repeat_wall_seconds", "cpu_seconds_both_calls",
                               "step_size")}
            lines.append(f"| {model} | {system} | {len(rows)} | {_fmt(medians[system]['ess_per_s'])} "
                         f"| {_fmt(medians[system]['ess_per_kgrad'], 2)} | {rows[0]['ess_kind']} "
                         f"| {max(r['rhat'] for r in rows):.3f} | {_fmt(medians[system]['seconds'])} "
                         f"| {_fmt(medians[system]['compile_seconds'])} | {_fmt(medians[system]['wall_seconds'])} "
                         f"| {_fmt(medians[system]['repeat_wall_seconds'])} "
                         f"| {_fmt(medians[system]['cpu_seconds_both_calls'])} "
                         f"| {'/'.join(str(r.get('divergences', '')) for r in rows)} "
                         f"| {_fmt(medians[system]['step_size'], 4)} |")
        peers = {s: m for s, m in medians.items() if s in PEERS}
        ours = medians.get("cs109b_bayes")
        if ours and peers:
            best = max(peers, key=lambda s: peers[s]["ess_per_s"])
            per_seed = []
            for row in by_system.get("cs109b_bayes", []):
                peer = next((r for r in by_system.get(best, []) if r and r["seed"] == row["seed"]), None)
                if row and peer:
                    per_seed.append(row["ess_per_s"] / peer["ess_per_s"])
            first = min(m["wall_seconds"] for m in peers.values())
            repeat = [m["repeat_wall_seconds"] for m in peers.values() if m["repeat_wall_seconds"]]
            ratios.append(f"| {model} | {ours['ess_per_s'] / peers[best]['ess_per_s']:.2f}x "
                          f"| {', '.join(f'{r:.2f}' for r in per_seed)} "
                          f"| {f'{np.median(per_seed):.2f}x' if per_seed else ''} | {best} "
                          f"| {ours['wall_seconds'] / first:.2f} "
                          f"| {_fmt(ours['repeat_wall_seconds'] / min(repeat) if repeat else None, 2)} |")
    return "\n".join(lines + ratios)


def _write_json(path, results, args, seeds, argv):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {m: {s: [r for r in rows if r is not None] for s, rows in by_system.items()}
               for m, by_system in results.items()}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    meta = {"machine": machine_description(), "versions": versions(), "num_chains": NUM_CHAINS,
            "num_warmup": args.warmup, "num_draws": args.draws, "seeds": seeds,
            "command": "python bench/hmc_peers.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="linreg,gap5,bnn")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--quick", action="store_true", help="300 warm-up + 500 draws")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (medians reported); overrides --seed")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=None,
                        help="give up on one (model, system) run after this many seconds")
    parser.add_argument("--no-repeat", dest="repeat", action="store_false",
                        help="skip the repeated call (same model, same process)")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SYSTEM"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.warmup = args.warmup or (300 if args.quick else 1000)
    args.draws = args.draws or (500 if args.quick else 2000)
    if args.worker:
        global REPEAT
        REPEAT = args.repeat
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
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    print(f"{NUM_CHAINS} chains, {args.warmup} warm-up + {args.draws} draws, seeds {seeds}; "
          f"{machine_description()}", flush=True)
    results = {}
    for model in models:
        check = tuple(s for s, name in (("jax", "numpyro"), ("pytensor", "pymc")) if name in systems)
        error = bench_models.check_agreement(model, systems=check)
        print(f"{model}: {bench_models.MODELS[model]['title']}; log densities agree to {error:.1e}", flush=True)
        results[model] = {system: [] for system in systems}
        for seed in seeds:           # systems interleaved per seed: side by side under the same load
            for system in systems:
                row = _run_in_child(model, system, args, seed)
                results[model][system].append(row)
                if args.json:          # after every row: a run cut short keeps what it measured
                    _write_json(args.json, results, args, seeds, argv)
                if row:
                    print(f"  seed {seed} {system:28s} ESS/s {row['ess_per_s']:9.1f}  "
                          f"ESS/1k grad {_fmt(row['ess_per_kgrad'], 2):>6s}  R-hat {row['rhat']:.3f}  "
                          f"sampling {row['seconds']:6.1f} s  compile {row['compile_seconds']:5.1f} s  "
                          f"wall {row['wall_seconds']:6.1f} s  repeat {_fmt(row.get('repeat_wall_seconds'))} s",
                          flush=True)
    print()
    print(format_table(results))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
