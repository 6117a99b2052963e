"""The one seed scheme: same (seed, purpose) same numbers, purposes independent, no global state."""

import random

import numpy as np
import pytest

import cs109b_bayes as cb


def test_same_seed_and_purpose_give_the_same_numbers():
    assert cb.seeds.sub_seed(3, "a") == cb.seeds.sub_seed(3, "a")
    np.testing.assert_array_equal(cb.seeds.stateless_seed(3, "a"), cb.seeds.stateless_seed(3, "a"))
    np.testing.assert_array_equal(cb.seeds.numpy_rng(3, "a").normal(size=5),
                                  cb.seeds.numpy_rng(3, "a").normal(size=5))
    assert cb.seeds.sub_seeds(3, "a", 4) == cb.seeds.sub_seeds(3, "a", 4)


def test_purposes_and_seeds_are_independent():
    values = {cb.seeds.sub_seed(s, p) for s in range(20) for p in ("init", "noise", "fit")}
    assert len(values) == 60
    a = cb.seeds.numpy_rng(0, "x").normal(size=10_000)
    b = cb.seeds.numpy_rng(0, "y").normal(size=10_000)
    # correlation of independent streams: sd 1/sqrt(n) = 0.01
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.045


def test_ranges_and_types():
    pair = cb.seeds.stateless_seed(2**70, "hmc")
    assert pair.dtype == np.int32 and pair.shape == (2,)
    assert 0 <= cb.seeds.sub_seed(-5, "x") < 2**63
    assert all(0 <= s < 2**31 for s in cb.seeds.sub_seeds(7, "layers", 50))
    assert cb.seeds.sub_seeds(7, "layers", 0) == []
    assert cb.seeds.check_seed(np.int64(4)) == 4


@pytest.mark.parametrize("bad", [0.5, "1", None, True])
def test_non_int_seeds_are_refused(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        cb.seeds.sub_seed(bad, "x")


def test_bad_purpose_and_count():
    with pytest.raises(ValueError, match="purpose"):
        cb.seeds.sub_seed(0, "")
    with pytest.raises(ValueError, match="count"):
        cb.seeds.sub_seeds(0, "x", -1)


def test_no_global_random_state_is_touched():
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    cb.seeds.numpy_rng(0, "x").normal(size=3)
    cb.seeds.sub_seeds(0, "x", 3)
    cb.seeds.stateless_seed(0, "x")
    assert np.random.rand() == expected_np and random.random() == expected_py


def test_dir_shows_lazy_modules():
    assert {"bnn", "vae", "variational", "seeds"} <= set(dir(cb))
