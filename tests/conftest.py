"""Shared test set-up: offline, headless, non-strict by default, one overridable seed."""

import os
import random
import sys

import numpy as np
import pytest

os.environ["CS109B_OFFLINE"] = "1"          # never download MNIST in tests
os.environ["CS109B_HEADLESS"] = "1"         # no progress bars in test output
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.pop("CS109B_STRICT", None)

import cs109b_bayes as cb  # noqa: E402  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

#: The test seed: fixed so runs are repeatable, overridable to probe for flaky tolerances.
TEST_SEED = int(os.environ.get("CS109B_TEST_SEED", "20261121"))


@pytest.fixture
def seed():
    """The suite's seed (`CS109B_TEST_SEED`, default 20261121)."""
    return TEST_SEED


@pytest.fixture
def lenient(monkeypatch):
    """Non-strict grading: failed checks return a red result instead of raising."""
    monkeypatch.delenv("CS109B_STRICT", raising=False)


def gaussian_mismatch(draws, mean, sd):
    """Largest z-score of the sample mean and sd of draws [chain, draw] against a Gaussian truth.

    The mean is judged with its Monte Carlo standard error sd_hat / sqrt(ESS_mean); the sd with
    the large-sample standard error sd / sqrt(2 ESS_bulk) of a Gaussian sample sd.
    """
    draws = np.asarray(draws)
    flat = draws.reshape(-1)
    z_mean = abs(flat.mean() - mean) / cb.diagnostics.mcse_mean(draws)
    ess = cb.diagnostics.effective_sample_size(draws)
    z_sd = abs(flat.std(ddof=1) - sd) / (sd / np.sqrt(2 * ess))
    return float(max(z_mean, z_sd))


#: z-score beyond which a sampler fails a closed-form comparison (two-sided p ~ 7e-6 per test).
Z_LIMIT = 4.5


@pytest.fixture
def make_course(tmp_path, monkeypatch):
    """`make_course(text)`: a course folder whose one lab source `99_demo.py` holds `text`, used
    through `$CS109B_ROOT`; returns the source's path."""
    def make(text):
        folder = tmp_path / "labs" / "source"
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / "99_demo.py"
        source.write_text(text)
        monkeypatch.setenv("CS109B_ROOT", str(tmp_path))
        return source

    return make


def _global_random_state():
    name, keys, position, has_gauss, cached = np.random.get_state()
    return (name, keys.copy(), position, has_gauss, cached), random.getstate()


def _tf_global_seed():
    from tensorflow.python.eager import context  # noqa: PLC0415

    return context.global_seed()


def assert_global_random_state_untouched(call):
    """Runs `call()` and fails if it moved NumPy's or Python's global generator or set TF's global seed.

    Returns what `call()` returned, so a builder's result can be used afterwards.
    """
    np.random.seed(123)
    random.seed(123)
    tf_seed = _tf_global_seed() if "tensorflow" in sys.modules else None
    (np_name, np_keys, *np_rest), python_state = _global_random_state()
    result = call()
    (np_name_after, np_keys_after, *np_rest_after), python_after = _global_random_state()
    assert np_name_after == np_name and np.array_equal(np_keys_after, np_keys) and np_rest_after == np_rest, \
        "the global NumPy stream moved"
    assert python_after == python_state, "the global Python stream moved"
    if "tensorflow" in sys.modules:
        assert _tf_global_seed() == tf_seed, "TensorFlow's global seed was set"
    return result


@pytest.fixture
def untouched():
    """The check `assert_global_random_state_untouched(call)`, as a fixture for test modules."""
    return assert_global_random_state_untouched
