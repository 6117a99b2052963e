"""Stateless noise for stochastic layers: a seed set once per forward pass, drawn from by every layer.

TensorFlow's stateful random ops (`tf.random.normal(seed=...)`, TFP's `sample()` without a
seed) depend on the global seed, on per-op counters and on everything that ran before in the
process, so "same seed, same numbers" does not hold across a notebook. Inside
`stateless_noise(seed)` the package's stochastic layers (`cs109b_bayes.bnn`'s layers,
`cs109b_bayes.tfp_internals.StatelessDenseFlipout`, the VAE's Flipout encoder) instead ask
`next_noise_seed()` for a stateless int32[2] seed: the k-th draw of the block gets
`fold_in(seed, k)`. The numbers are then a function of `seed` and of the model alone.

Outside any block `next_noise_seed()` returns None and the layers fall back to TF's stateful
ops (a plain `model(x)` call, Keras' `model.fit`). That is fine for exploration; the
package's own `predict`, `fit` and `gradient_variance` always run inside a block.

The context is a per-thread stack, so blocks nest (the innermost wins) and work while a
`tf.function` is traced: the seeds are then symbolic tensors folded into the graph.

#### Examples

```python
import tensorflow as tf
from cs109b_bayes import noise

layer = ...   # a layer that draws with noise.sample or noise.next_noise_seed()
with noise.stateless_noise(0):
    a = layer(x)
with noise.stateless_noise(0):
    b = layer(x)          # a == b, whatever ran in between
```
"""

import contextlib
import numbers
import threading

import numpy as np
import tensorflow as tf

from cs109b_bayes import seeds

__all__ = ["next_noise_seed", "sample", "stateless_noise"]

_STATE = threading.local()


class _PassSeeds:
    """The stateless seeds of one block: `fold_in(seed, k)` for the k-th draw."""

    def __init__(self, seed):
        self.seed = seed
        self.count = 0

    def next(self):
        draw = tf.random.experimental.stateless_fold_in(self.seed, self.count)
        self.count += 1
        return draw


def _as_seed_tensor(seed):
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return tf.constant(seeds.stateless_seed(seed, "stateless_noise"))
    if isinstance(seed, (bool, float, str)) or seed is None:
        raise TypeError(f"seed must be an int or an int32 tensor of shape [2], got {seed!r}")
    tensor = tf.convert_to_tensor(np.asarray(seed) if isinstance(seed, (list, tuple)) else seed)
    if not tensor.dtype.is_integer:
        raise TypeError(f"seed must have an integer dtype, got {tensor.dtype.name}")
    if tensor.shape.rank is not None and tensor.shape.as_list() != [2]:
        raise ValueError(f"seed must be an int or a tensor of shape [2], got shape {tensor.shape}")
    return tf.cast(tensor, tf.int32)


@contextlib.contextmanager
def stateless_noise(seed):
    """Inside the block, the package's stochastic layers draw stateless noise seeded by `seed`.

    The k-th call of `next_noise_seed()` in the block returns `fold_in(seed, k)`, so a
    forward pass that draws in a fixed order gets the same numbers for the same seed,
    whatever ran before in the process. Blocks nest; the innermost one is used.

    Args:
        seed: an int (turned into a pair by `cs109b_bayes.seeds.stateless_seed(seed,
            "stateless_noise")`), or an integer tensor / array of shape [2] such as
            `seeds.stateless_seed(seed, purpose)` or a `fold_in` result inside a
            `tf.function`.

    Yields:
        None.

    Raises:
        TypeError: `seed` is not an int or an integer tensor.
        ValueError: a tensor `seed` does not have shape [2].

    #### Examples

    ```python
    from cs109b_bayes import noise
    with noise.stateless_noise(3):
        first = noise.next_noise_seed()      # fold_in(stateless_seed(3, ...), 0)
        second = noise.next_noise_seed()     # fold_in(..., 1)
    noise.next_noise_seed()                  # None: outside any block
    ```
    """
    stack = _STATE.__dict__.setdefault("stack", [])
    stack.append(_PassSeeds(_as_seed_tensor(seed)))
    try:
        yield
    finally:
        stack.pop()


def next_noise_seed():
    """The next stateless seed of the innermost `stateless_noise` block, or None outside one.

    A layer calls this once per random draw and uses stateful sampling when it gets None.

    Returns:
        An int32 tensor of shape [2], or None.

    #### Examples

    ```python
    seed = noise.next_noise_seed()
    eps = (tf.random.normal(shape) if seed is None
           else tf.random.stateless_normal(shape, seed=seed))
    ```
    """
    stack = getattr(_STATE, "stack", None)
    return stack[-1].next() if stack else None


def sample(distribution):
    """One draw `distribution.sample(seed=next_noise_seed())`: stateless inside a block.

    The `kernel_posterior_tensor_fn` / `bias_posterior_tensor_fn` (or a
    `DistributionLambda`'s `convert_to_tensor_fn`) that makes a TFP layer's draws follow
    `stateless_noise`.

    Args:
        distribution: a TFP distribution.

    Returns:
        A tensor, one sample of `distribution`.

    #### Examples

    ```python
    layer = tfp.layers.DenseReparameterization(8, kernel_posterior_tensor_fn=noise.sample,
                                               bias_posterior_tensor_fn=noise.sample)
    ```
    """
    return distribution.sample(seed=next_noise_seed())
