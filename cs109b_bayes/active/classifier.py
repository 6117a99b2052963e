"""A small MC-dropout classifier for active learning: retrained from scratch each round, fast.

The network is a tf_keras MLP `x -> [Dense(relu) -> AlwaysDropout] * k -> Dense(C)` (logits).
It is built and compiled once; each `fit` re-initialises every weight from its seed (Glorot
uniform, drawn with `cb.seeds.numpy_rng`), zeroes Adam's state and runs `num_steps` Adam steps
on minibatches of a fixed size drawn with replacement, so the compiled loop (one
`tf.function`, the steps inside a graph loop) is traced once whatever the size of the
labelled set. Dropout noise is stateless (`cs109b_bayes.noise`), seeded per step and per pass:
the same seed gives the same numbers whatever ran before, and no global random state is used.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from cs109b_bayes import noise, seeds
from cs109b_bayes.bnn.layers import AlwaysDropout
from cs109b_bayes.checks import check_count

__all__ = ["DropoutClassifier"]


class DropoutClassifier:
    """An MLP classifier with dropout kept on at prediction time (MC dropout).

    Args:
        input_dim: number of input features.
        num_classes: C. Default value: 10.
        hidden_units: widths of the hidden layers. Default value: (128, 128).
        dropout_rate: drop probability after every hidden layer. Default value: 0.25.
        learning_rate: Adam's learning rate. Default value: 0.002.
        weight_decay: L2 penalty `weight_decay * sum(kernel^2)` added to the mean cross-entropy
            (the Gaussian prior of Gal and Ghahramani's MC dropout). Default value: 1e-4.

    Raises:
        ValueError: for non-positive sizes, a rate outside (0, 1), a non-positive learning
            rate or a negative weight decay.

    #### Examples

    ```python
    clf = cb.active.DropoutClassifier(input_dim=40)
    clf.fit(x_labelled, y_labelled, seed=0)
    probs = clf.predict_probs(pool_x, num_samples=20, seed=1)     # [20, n, 10]
    ```

    #### References

    [1] Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016.
        https://arxiv.org/abs/1506.02142
    """

    def __init__(self, *, input_dim, num_classes=10, hidden_units=(128, 128), dropout_rate=0.25,
                 learning_rate=0.002, weight_decay=1e-4):
        self.input_dim = check_count("input_dim", input_dim)
        self.num_classes = check_count("num_classes", num_classes)
        self.hidden_units = tuple(check_count("each hidden_units width", w) for w in hidden_units)
        if not self.hidden_units:
            raise ValueError("hidden_units must list at least one hidden layer width")
        if isinstance(dropout_rate, bool) or not 0.0 < dropout_rate < 1.0:
            raise ValueError(f"dropout_rate must be in (0, 1), got {dropout_rate!r}")
        if isinstance(learning_rate, bool) or not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if isinstance(weight_decay, bool) or not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.dropout_rate = float(dropout_rate)
        self.weight_decay = float(weight_decay)
        # Seeded initialisers: Keras draws a seed from Python's global `random` for unseeded ones.
        # `fit` re-initialises every weight from its own seed anyway (`reset`).
        init = iter(seeds.sub_seeds(0, "active/build", len(self.hidden_units) + 1))

        def dense(width, activation=None):
            return tf_keras.layers.Dense(width, activation=activation,
                                         kernel_initializer=tf_keras.initializers.GlorotUniform(seed=next(init)))

        layers = [tf_keras.Input(shape=(self.input_dim,))]
        for width in self.hidden_units:
            layers += [dense(width, "relu"), AlwaysDropout(self.dropout_rate)]
        layers.append(dense(self.num_classes))
        self.model = tf_keras.Sequential(layers)
        self.optimizer = tf_keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._train = self._compile_train()
        self._probs = self._compile_probs()

    def _compile_train(self):
        model, optimizer, decay = self.model, self.optimizer, self.weight_decay
        kernels = [v for v in model.trainable_variables if "kernel" in v.name]

        @tf.function(input_signature=[tf.TensorSpec([None, self.input_dim], tf.float32),
                                      tf.TensorSpec([None], tf.int32),
                                      tf.TensorSpec([None, None], tf.int32),
                                      tf.TensorSpec([2], tf.int32)])
        def train(x, y, batches, base_seed):
            loss = tf.constant(0.0)
            for step in tf.range(tf.shape(batches)[0]):
                idx = batches[step]
                with tf.GradientTape() as tape, noise.stateless_noise(
                        tf.random.experimental.stateless_fold_in(base_seed, step)):
                    logits = model(tf.gather(x, idx), training=True)
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                        labels=tf.gather(y, idx), logits=logits))
                    loss += decay * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return train

    def _compile_probs(self):
        model = self.model

        @tf.function(input_signature=[tf.TensorSpec([None, self.input_dim], tf.float32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([2], tf.int32)])
        def probs(x, num_samples, base_seed):
            def one_pass(t):
                with noise.stateless_noise(tf.random.experimental.stateless_fold_in(base_seed, t)):
                    return tf.nn.softmax(model(x, training=False))

            return tf.map_fn(one_pass, tf.range(num_samples), fn_output_signature=tf.float32)

        return probs

    def _inputs(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim or len(x) < 1:
            raise ValueError(f"x must have shape [n, {self.input_dim}] with n >= 1, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x must be finite")
        return x

    def reset(self, *, seed):
        """Re-initialise every weight (Glorot uniform kernels, zero biases) and Adam's state.

        Args:
            seed: int seed of the initial weights (`cb.seeds.numpy_rng(seed, "active/init")`).

        Returns:
            None.

        Raises:
            TypeError: for a seed that is not an int.

        #### Examples

        ```python
        clf.reset(seed=0)      # the same starting weights on every call
        ```
        """
        rng = seeds.numpy_rng(seeds.check_seed(seed), "active/init")
        for variable in self.model.trainable_variables:
            shape = variable.shape.as_list()
            if len(shape) == 2:
                limit = np.sqrt(6.0 / (shape[0] + shape[1]))
                variable.assign(rng.uniform(-limit, limit, size=shape).astype(np.float32))
            else:
                variable.assign(np.zeros(shape, np.float32))
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))

    def fit(self, x, y, *, seed, num_steps=300, batch_size=64):
        """Train from scratch: `reset(seed=seed)`, then `num_steps` Adam steps on fixed-size minibatches.

        Minibatch indices are drawn with replacement (`cb.seeds.numpy_rng(seed, "active/batches")`),
        so every step has `batch_size` rows even when fewer points are labelled, and the
        compiled loop is reused for every labelled-set size.

        Args:
            x: inputs [n, input_dim].
            y: integer labels [n] in [0, num_classes).
            seed: int seed of the initial weights, the minibatches and the dropout masks.
            num_steps: Adam steps. Default value: 300.
            batch_size: rows per step. Default value: 64.

        Returns:
            The last step's training loss (a float).

        Raises:
            ValueError: for inputs of the wrong shape, labels out of range, or non-positive
                `num_steps` / `batch_size`.
            TypeError: for a seed that is not an int.

        #### Examples

        ```python
        clf.fit(x_labelled, y_labelled, seed=0, num_steps=300)
        ```
        """
        x = self._inputs(x)
        y = np.asarray(y)
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or np.any(y < 0) \
                or np.any(y >= self.num_classes):
            raise ValueError(f"y must be {len(x)} integer labels in [0, {self.num_classes})")
        num_steps, batch_size = check_count("num_steps", num_steps), check_count("batch_size", batch_size)
        seed = seeds.check_seed(seed)
        self.reset(seed=seed)
        batches = seeds.numpy_rng(seed, "active/batches").integers(0, len(x), size=(num_steps, batch_size))
        loss = self._train(tf.constant(x), tf.constant(y, tf.int32), tf.constant(batches, tf.int32),
                           tf.constant(seeds.stateless_seed(seed, "active/dropout")))
        return float(loss)

    def predict_probs(self, x, *, num_samples=20, seed=0):
        """Class probabilities of `num_samples` MC-dropout passes, shape [T, n, C].

        Args:
            x: inputs [n, input_dim].
            num_samples: T, forward passes with independent dropout masks. Default value: 20.
            seed: int seed of the masks (stateless). Default value: 0.

        Returns:
            float array [T, n, C]; each row sums to 1.

        Raises:
            ValueError: for inputs of the wrong shape or a non-positive `num_samples`.
            TypeError: for a seed that is not an int.

        #### Examples

        ```python
        probs = clf.predict_probs(pool_x, num_samples=20, seed=0)
        accuracy = np.mean(probs.mean(axis=0).argmax(axis=1) == pool_y)
        ```
        """
        x = self._inputs(x)
        num_samples = check_count("num_samples", num_samples)
        seed = seeds.check_seed(seed)
        probs = self._probs(tf.constant(x), tf.constant(num_samples, tf.int32),
                            tf.constant(seeds.stateless_seed(seed, "active/predict")))
        return probs.numpy().astype(float)
