"""TensorFlow's log lines stay out of notebooks; everything else still reaches them."""

import os

import nbclient
import nbformat
import pytest

import cs109b_bayes as cb


@pytest.mark.parametrize("line", [
    "E0000 00:00:1796017134.388373   28725 cuda_dnn.cc:8310] Unable to register cuDNN factory",
    "I0000 00:00:1796017136.914079   28725 service.cc:148] XLA service 0x5587de91ee30 initialized",
    "W0000 00:00:1796017136.9 28725 gpu_device.cc:2344] Cannot dlopen some GPU libraries.",
    "2026-11-30 05:38:54.366479: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:477] Unable",
    "2026-11-30 05:38:56.822594: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
])
def test_log_lines_are_recognised(line):
    assert cb.quiet.is_log_line(line)


@pytest.mark.parametrize("line", [
    "epoch 3: loss 1.2", "E0000 is my variable", "Traceback (most recent call last):",
    "ValueError: x must be positive", "I0000", "",
])
def test_other_lines_are_kept(line):
    assert not cb.quiet.is_log_line(line)


def test_tensorflow_logger_is_filtered_to_errors():
    import logging

    logger = logging.getLogger("tensorflow")
    logger.setLevel(logging.INFO)     # what `import tensorflow` does to it
    assert not logger.filter(logging.LogRecord("tensorflow", logging.WARNING, "f", 1, "retracing", None, None))
    assert logger.filter(logging.LogRecord("tensorflow", logging.ERROR, "f", 1, "error", None, None))


@pytest.mark.slow
def test_a_kernel_shows_no_tensorflow_log_lines_but_keeps_other_output():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in (
        "import cs109b_bayes as cb\nimport tensorflow as tf",
        "f = tf.function(lambda x: tf.sin(x) * 2, jit_compile=True)\nprint(f(tf.constant([1.0])).numpy())",
        "@tf.function\ndef g(x):\n    return x + 1\nfor i in range(8):\n    g(tf.constant(float(i)) if i % 2 else float(i))",
        "import os, sys\nprint('to stderr', file=sys.stderr)\nos.write(2, b'raw line\\n')",
        "import time\ntime.sleep(1.0)   # raw descriptor-2 output is forwarded by a thread",
    )]
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST")}
    nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3").execute(env=env)
    streams = [out.get("text", "") for cell in notebook.cells for out in cell.outputs
               if out.output_type == "stream"]
    text = "".join(streams)
    assert "[1.6829" in text and "to stderr" in text and "raw line" in text
    for line in text.splitlines():
        assert not cb.quiet.is_log_line(line), line
    assert "retracing" not in text and "cuInit" not in text and "XLA" not in text
