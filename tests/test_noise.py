"""cs109b_bayes.noise: the stateless-noise context shared by the stochastic layers."""

import cs109b_bayes as cb  # noqa: F401, I001  (first: sets up Keras 2)
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes import noise, seeds


def test_outside_a_block_there_is_no_seed():
    assert noise.next_noise_seed() is None


def test_kth_draw_is_fold_in_of_the_block_seed():
    pair = seeds.stateless_seed(4, "test")
    with noise.stateless_noise(pair):
        draws = [noise.next_noise_seed().numpy() for _ in range(3)]
    expected = [tf.random.experimental.stateless_fold_in(tf.constant(pair), k).numpy() for k in range(3)]
    np.testing.assert_array_equal(draws, expected)
    assert noise.next_noise_seed() is None


def test_an_int_seed_uses_the_seed_scheme():
    with noise.stateless_noise(4):
        first = noise.next_noise_seed().numpy()
    pair = tf.constant(seeds.stateless_seed(4, "stateless_noise"))
    np.testing.assert_array_equal(first, tf.random.experimental.stateless_fold_in(pair, 0).numpy())


def test_blocks_nest_and_restore():
    with noise.stateless_noise(1):
        outer_first = noise.next_noise_seed().numpy()
        with noise.stateless_noise(2):
            inner = noise.next_noise_seed().numpy()
        outer_second = noise.next_noise_seed().numpy()
    with noise.stateless_noise(2):
        np.testing.assert_array_equal(noise.next_noise_seed().numpy(), inner)
    with noise.stateless_noise(1):
        np.testing.assert_array_equal(noise.next_noise_seed().numpy(), outer_first)
        np.testing.assert_array_equal(noise.next_noise_seed().numpy(), outer_second)


def test_the_block_is_left_on_an_exception():
    with pytest.raises(RuntimeError), noise.stateless_noise(0):
        raise RuntimeError("boom")
    assert noise.next_noise_seed() is None


def test_sample_is_stateless_inside_and_stateful_outside():
    normal = tfp.distributions.Normal(tf.zeros(5), 1.0)
    with noise.stateless_noise(3):
        a = noise.sample(normal).numpy()
    tf.random.normal([2])
    with noise.stateless_noise(3):
        b = noise.sample(normal).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(noise.sample(normal).numpy(), noise.sample(normal).numpy())


def test_works_while_a_tf_function_is_traced():
    @tf.function
    def draw(seed):
        with noise.stateless_noise(seed):
            return tf.random.stateless_normal([3], seed=noise.next_noise_seed())

    np.testing.assert_array_equal(draw(tf.constant([1, 2])), draw(tf.constant([1, 2])))
    assert not np.array_equal(draw(tf.constant([1, 2])), draw(tf.constant([1, 3])))


@pytest.mark.parametrize("seed, error", [(None, TypeError), (True, TypeError), (0.5, TypeError),
                                         ("0", TypeError), ([1, 2, 3], ValueError),
                                         (np.array([0.5, 1.0]), TypeError)])
def test_bad_seeds_are_refused(seed, error):
    with pytest.raises(error, match="seed"), noise.stateless_noise(seed):
        pass
