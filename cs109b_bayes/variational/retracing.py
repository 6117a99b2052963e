"""Silence TensorFlow's retracing warning around the package's deliberately per-model `tf.function`s."""

import contextlib
import logging

import tensorflow as tf

__all__ = ["quiet_retracing_warnings"]


class _NoRetracing(logging.Filter):
    def filter(self, record):
        return "retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing_warnings():
    """Silence TensorFlow's "triggered tf.function retracing" warning inside the block.

    Our helpers compile one small `tf.function` per model or per call on purpose;
    TensorFlow counts those as retracing and warns. Other messages still show.

    Yields:
        None.

    #### Examples

    ```python
    with cb.variational.quiet_retracing_warnings():
        pred = cb.bnn.predict(model, grid)
    ```
    """
    logger = tf.get_logger()
    quiet = _NoRetracing()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
