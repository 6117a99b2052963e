"""The compiled-sampler cache: structural keys, the LRU bound, and no re-tracing on a re-run."""

import dataclasses
import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import cs109b_bayes as cb
from cs109b_bayes.inference import hmc
from cs109b_bayes.inference.hmc.cache import MAX_ENTRIES, LRUCache, cache_info, clear_cache, lookup, store
from cs109b_bayes.inference.hmc.fingerprint import fingerprint


def key(obj):
    return fingerprint(obj)[0]


class TraceCounter:
    """Counts the calls of a log-density made while TensorFlow traces it (not the eager ones)."""

    def __init__(self):
        self.count = 0

    def record(self):
        if not tf.executing_eagerly():
            self.count += 1


# A notebook cell: data captured as globals, a log-density over a mean `mu` (flat prior), so the
# posterior is N(mean(data), 1 / n).
SOURCE = """
data = tf.constant(DATA, tf.float32)

def log_prob_fn(mu):
    COUNTER.record()
    return -0.5 * tf.reduce_sum((mu[:, None] - data[None, :]) ** 2, axis=-1)
"""


def run_cell(data, counter, source=SOURCE):
    """Executes the cell in a fresh namespace: a new function object and new tensors each time."""
    namespace = {"tf": tf, "DATA": np.array(data, dtype=float), "COUNTER": counter}
    exec(source, namespace)
    return namespace["log_prob_fn"]


def sample(log_prob_fn, seed, **options):
    args = dict(num_results=40, num_burnin_steps=20, num_chains=2, seed=seed)
    args.update(options)
    return cb.sample_hmc(log_prob_fn, {"mu": 0.0}, **args)


@pytest.fixture
def empty_cache():
    clear_cache()
    yield
    clear_cache()


DATA = np.linspace(-1.0, 1.0, 9) + 0.25


# ---------------------------------------------------------------------------
# Structural keys.
# ---------------------------------------------------------------------------

def test_redefined_function_with_equal_values_has_an_equal_key():
    counter = TraceCounter()
    assert key(run_cell(DATA, counter)) == key(run_cell(DATA, counter))
    assert key(run_cell(DATA, counter)) != key(run_cell(DATA + 1e-3, counter))          # captured tensor
    assert key(run_cell(DATA, counter)) != key(run_cell(DATA, TraceCounter()))          # another object
    other_code = SOURCE.replace("-0.5 *", "-0.25 *")
    assert key(run_cell(DATA, counter)) != key(run_cell(DATA, counter, source=other_code))


def test_closures_nested_functions_defaults_and_in_place_changes():
    def make(center, scale=1.0):
        def helper(x):
            return (x - center) / scale

        def log_prob_fn(mu):
            return -0.5 * helper(mu) ** 2
        return log_prob_fn

    center = np.array([1.0, 2.0])
    assert key(make(center)) == key(make(center.copy()))
    assert key(make(center)) != key(make(center, scale=2.0))
    before = key(make(center))
    center[0] = 5.0                                      # changed in place: a new key
    assert key(make(center)) != before
    assert key(lambda x, k=1: x * k) != key(lambda x, k=2: x * k)


def test_scalars_are_keyed_by_type_and_value():
    assert len({key(1), key(1.0), key(True), key(np.float32(1.0)), key(np.float64(1.0))}) == 5
    assert key(float("nan")) == key(float("nan"))
    assert key(np.zeros(3, np.float32)) != key(np.zeros(3, np.float64))
    assert key(np.zeros((2, 3))) != key(np.zeros((3, 2)))
    assert key({"a": [1, 2], "b": (3,)}) == key({"a": [1, 2], "b": (3,)}) != key({"a": [1, 2], "b": [3]})


def test_library_functions_variables_and_unknown_objects_are_keyed_by_identity():
    variable = tf.Variable([1.0, 2.0])
    same, pinned = fingerprint(lambda x: x * variable)
    assert same == key(lambda x: x * variable) and any(p is variable for p in pinned)
    assert same != key(lambda x: x * tf.Variable([1.0, 2.0]))        # equal value, another variable
    reduce_key, pinned = fingerprint(tf.reduce_sum)
    assert reduce_key[0] == "id" and pinned == (tf.reduce_sum,)
    assert key(object()) != key(object())


def test_dataclasses_and_tfp_distributions_by_value():
    ads = cb.data.advertising()
    assert key(ads) == key(dataclasses.replace(ads, x=ads.x.copy()))
    assert key(ads) != key(dataclasses.replace(ads, x=ads.x + 1.0))
    normal = tfp.distributions.Normal
    assert key(normal(0.0, 1.0)) == key(normal(0.0, 1.0)) != key(normal(0.0, 2.0))


def test_recursive_functions_terminate():
    def countdown(n):
        return 0 if n == 0 else countdown(n - 1)

    assert key(countdown) == key(countdown)


# ---------------------------------------------------------------------------
# The bounded LRU cache.
# ---------------------------------------------------------------------------

def test_lru_cache_keeps_the_most_recently_used_and_counts():
    lru = LRUCache(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1                             # "a" is now the most recent
    lru.put("c", 3)
    assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3 and len(lru) == 2
    assert lru.info() == (3, 1, 2, 2)
    lru.clear()
    assert lru.info() == (0, 0, 0, 2)
    with pytest.raises(ValueError, match="max_entries"):
        LRUCache(0)


def test_evicted_entries_release_their_functions():
    lru = LRUCache(3)

    def make():
        return lambda x: x

    fn = make()
    gone = weakref.ref(fn)
    lru.put("first", (fn, (fn,)))
    del fn
    for i in range(3):
        lru.put(i, object())
    gc.collect()
    assert gone() is None


def test_the_sampler_cache_holds_at_most_max_entries(empty_cache):
    assert MAX_ENTRIES == 16 and cache_info().max_entries == MAX_ENTRIES
    for i in range(MAX_ENTRIES + 1):
        store(("test", i), f"sampler {i}")
    assert cache_info().size == MAX_ENTRIES
    assert lookup(("test", 0)) is None and lookup(("test", MAX_ENTRIES)) == f"sampler {MAX_ENTRIES}"
    assert hmc.clear_cache is clear_cache
    hmc.clear_cache()
    assert cache_info().size == 0 and lookup(("test", MAX_ENTRIES)) is None


# ---------------------------------------------------------------------------
# sample_hmc with the cache (each miss traces and compiles).
# ---------------------------------------------------------------------------

def test_second_call_does_not_retrace_and_gives_identical_draws(empty_cache, seed):
    counter = TraceCounter()
    log_prob_fn = run_cell(DATA, counter)
    first = sample(log_prob_fn, seed)
    traces = counter.count
    assert traces > 0 and cache_info().size == 1
    second = sample(log_prob_fn, seed)
    assert counter.count == traces                                    # no new trace
    np.testing.assert_array_equal(first.samples["mu"], second.samples["mu"])
    assert second.compile_seconds < 0.1 * first.compile_seconds
    # Seeds, start values, lengths and tuning are inputs of the compiled function, not keys.
    third = sample(log_prob_fn, seed + 1, num_results=30, num_burnin_steps=150, step_size=0.5,
                   target_accept_prob=0.9, init_jitter=0.0)
    assert counter.count == traces and third.samples["mu"].shape == (2, 30)
    assert not np.array_equal(first.samples["mu"][:, :30], third.samples["mu"])
    # Options that change the graph miss.
    sample(log_prob_fn, seed, num_chains=3)
    assert counter.count > traces and cache_info().size == 2


def test_a_rerun_cell_hits_and_a_changed_array_misses_with_the_right_answer(empty_cache, seed):
    counter = TraceCounter()
    first = sample(run_cell(DATA, counter), seed, num_results=400, num_burnin_steps=200)
    traces = counter.count
    rerun = sample(run_cell(DATA, counter), seed, num_results=400, num_burnin_steps=200)   # new fn, new tensor
    assert counter.count == traces and cache_info().hits == 1
    np.testing.assert_array_equal(first.samples["mu"], rerun.samples["mu"])
    shifted = sample(run_cell(DATA + 3.0, counter), seed, num_results=400, num_burnin_steps=200)
    assert counter.count > traces and cache_info().size == 2
    for result, data in ((first, DATA), (shifted, DATA + 3.0)):       # posterior N(mean(data), 1/n)
        mu = result.samples["mu"]
        assert abs(mu.mean() - data.mean()) < 4.5 * float(cb.diagnostics.mcse_mean(mu))


def test_clear_cache_forces_a_new_trace_and_releases_the_function(empty_cache, seed):
    counter = TraceCounter()
    log_prob_fn = run_cell(DATA, counter)
    sample(log_prob_fn, seed)
    traces = counter.count
    hmc.clear_cache()
    again = sample(log_prob_fn, seed)
    assert counter.count > traces and again.compile_seconds > 0
    gone = weakref.ref(log_prob_fn)
    del log_prob_fn
    for i in range(MAX_ENTRIES):                        # the bound evicts the compiled sampler
        store(("filler", i), None)
    gc.collect()
    assert gone() is None
