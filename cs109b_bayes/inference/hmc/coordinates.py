"""The coordinates the HMC kernels run on: named parameters -> one flat vector -> whitened z.

`log_prob_fn` takes parameters by name, each with a chain axis; TFP's kernels run
on one flat state [chain, D] per chain. `ParameterLayout` maps between the two,
and `to_theta` / `to_z` apply the metric's factor L (from
`cs109b_bayes.inference.hmc.metric`) as the change of variables theta = L z, so a
mass matrix M = (L L^T)^-1 needs no kernel of our own. TensorFlow is imported
only when a tensor function is called.

#### Examples

```python
import numpy as np
from cs109b_bayes.inference.hmc.coordinates import ParameterLayout
layout = ParameterLayout.from_values({"mu": np.zeros(()), "w": np.zeros((2, 3))})
layout.num_dims                                   # 7
layout.split_draws(np.zeros((4, 10, 7)))["w"].shape   # (4, 10, 2, 3)
```
"""

import dataclasses

import numpy as np

__all__ = ["ParameterLayout", "to_theta", "to_z"]


@dataclasses.dataclass(frozen=True)
class ParameterLayout:
    """Names and shapes of the parameters, in the order they sit in the flat state.

    Attributes:
        names: parameter names (the keys of `init`), in order.
        shapes: each parameter's shape without the chain axis.

    #### Examples

    ```python
    layout = ParameterLayout(names=("a", "b"), shapes=((), (3,)))
    layout.sizes, layout.num_dims      # ((1, 3), 4)
    ```
    """

    names: tuple
    shapes: tuple

    @classmethod
    def from_values(cls, values):
        """The layout of a dict name -> array (no chain axis), e.g. a checked `init`."""
        return cls(names=tuple(values), shapes=tuple(tuple(np.shape(v)) for v in values.values()))

    @property
    def sizes(self):
        """Number of elements of each parameter."""
        return tuple(int(np.prod(shape, dtype=np.int64)) for shape in self.shapes)

    @property
    def num_dims(self):
        """D, the length of the flat state."""
        return sum(self.sizes)

    def flatten(self, parts):
        """Parameters [chain, ...] (a list in `names` order, or a dict) -> tensor [chain, D]."""
        import tensorflow as tf

        if isinstance(parts, dict):
            parts = [parts[name] for name in self.names]
        num_chains = tf.shape(parts[0])[0]
        return tf.concat([tf.reshape(part, [num_chains, -1]) for part in parts], axis=-1)

    def unflatten(self, flat):
        """Tensor [chain, D] -> list of parameters [chain, ...] in `names` order."""
        import tensorflow as tf

        pieces = tf.split(flat, list(self.sizes), axis=-1)
        return [tf.reshape(piece, [-1, *shape]) for piece, shape in zip(pieces, self.shapes)]

    def split_draws(self, flat):
        """Numpy draws [chain, draw, D] -> dict name -> array [chain, draw, ...]."""
        flat = np.asarray(flat)
        pieces = np.split(flat, np.cumsum(self.sizes)[:-1], axis=-1)
        return {name: piece.reshape(flat.shape[:2] + shape)
                for name, piece, shape in zip(self.names, pieces, self.shapes)}


def to_theta(z, factor, *, dense):
    """theta = L z per chain: `factor` is L [chain, D, D] (dense) or its diagonal [chain, D].

    #### Examples

    ```python
    to_theta(tf.ones([2, 3]), tf.ones([2, 3]) * 2.0, dense=False)     # all 2
    ```
    """
    import tensorflow as tf

    return tf.linalg.matvec(factor, z) if dense else factor * z


def to_z(theta, factor, *, dense):
    """z = L^-1 theta per chain, the inverse of `to_theta` (L lower triangular when dense).

    #### Examples

    ```python
    to_z(tf.ones([2, 3]) * 2.0, tf.ones([2, 3]) * 2.0, dense=False)   # all 1
    ```
    """
    import tensorflow as tf

    if dense:
        return tf.linalg.triangular_solve(factor, theta[..., None], lower=True)[..., 0]
    return theta / factor
