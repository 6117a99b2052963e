"""Keep TensorFlow's, XLA's and CUDA's log lines out of a student's notebook.

TensorFlow writes two kinds of noise. Its Python warnings (AutoGraph's "Please report this to
the TensorFlow team", retracing notices) go through the `tensorflow` logger, which `install`
turns down to errors. Its C++ libraries (XLA, the CUDA stubs a CPU machine still loads) write
straight to file descriptor 2 ("E0000 ... Unable to register cuDNN factory", "failed call to
cuInit", "XLA service ... initialized"), before and regardless of `TF_CPP_MIN_LOG_LEVEL`. Inside
a Jupyter kernel, whose descriptor 2 ends up in the notebook, `install` puts a filter on
descriptor 2 that drops exactly those log lines and passes everything else through. Outside a
kernel (scripts, pytest, the command line) descriptor 2 is left alone.

`import cs109b_bayes` calls `install()`; nothing is needed in a lab.

#### Examples

```python
import cs109b_bayes as cb        # installs the filter in a Jupyter kernel
cb.quiet.is_log_line("E0000 00:00:1796017134.388373   28725 cuda_dnn.cc:8310] Unable to ...")   # True
```
"""

import logging
import os
import re
import sys
import threading
import warnings

__all__ = ["LOG_LINE", "install", "is_log_line"]

#: The C++ log lines of TensorFlow / XLA / absl (and the one absl preamble line).
LOG_LINE = re.compile(
    r"^(?:"
    r"[EWIF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./+-]+:\d+\]"          # absl: E0000 00:00:17.. 123 file.cc:1]
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [EWIF] [\w./+-]+:\d+\]"   # tsl: 2026-11-30 05:38:54.36: E file:1]
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r")"
)

_STATE = {"installed": False}


def is_log_line(line):
    """True for a TensorFlow / XLA / absl C++ log line.

    Args:
        line: one line of text (with or without its newline).

    Returns:
        A bool.

    #### Examples

    ```python
    cb.quiet.is_log_line("I0000 00:00:1796.9 28725 service.cc:148] XLA service initialized")  # True
    cb.quiet.is_log_line("epoch 3: loss 1.2")                                                  # False
    ```
    """
    return bool(LOG_LINE.match(line.lstrip("\r")))


def _errors_only(record):
    return record.levelno >= logging.ERROR


def _in_kernel():
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _filter_descriptor_2():
    """Replace fd 2 by a pipe whose reader drops log lines and forwards the rest to the old fd 2."""
    downstream = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump():
        pending = b""
        with os.fdopen(read_end, "rb", buffering=0) as source:
            while True:
                chunk = source.read(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                kept = [line for line in lines if not is_log_line(line.decode("utf-8", "replace"))]
                if kept:
                    os.write(downstream, b"\n".join(kept) + b"\n")
        if pending and not is_log_line(pending.decode("utf-8", "replace")):
            os.write(downstream, pending)

    threading.Thread(target=pump, name="cs109b-quiet-stderr", daemon=True).start()


def install(*, force_filter=False):
    """Quiet TensorFlow's Python logger, and in a Jupyter kernel filter its C++ log lines.

    Safe to call more than once (only the first call acts). Sets `TF_CPP_MIN_LOG_LEVEL=2` unless
    the user set it, filters the `tensorflow` and `absl` loggers to errors only, and ignores TensorFlow's
    and Keras' deprecation warnings.

    Args:
        force_filter: install the descriptor-2 filter even outside a Jupyter kernel (tests).
            Default value: `False`.

    Returns:
        True when the descriptor-2 filter is active.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.quiet.install()    # already done by the import
    ```
    """
    if _STATE["installed"]:
        return _STATE.get("filtering", False)
    _STATE["installed"] = True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("tensorflow", "absl", "h5py"):
        # A filter, not a level: TensorFlow resets its logger's level when it is imported.
        logging.getLogger(name).addFilter(_errors_only)
    for module in ("tensorflow", "tf_keras", "tensorflow_probability", "keras"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
        warnings.filterwarnings("ignore", category=UserWarning, module=module)
    filtering = False
    if force_filter or _in_kernel():
        try:
            _filter_descriptor_2()
            filtering = True
        except OSError:
            filtering = False
    _STATE["filtering"] = filtering
    return filtering
