"""The Keras-2 guard: cs109b_bayes makes tf.keras be tf_keras, or says how to fix it."""

import os
import subprocess
import sys


def _python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_import_selects_tf_keras():
    out = _python("import cs109b_bayes, tensorflow as tf; print(tf.keras.__name__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("tf_keras")


def test_keras3_already_imported_raises_clear_error():
    out = _python("import tensorflow as tf; tf.keras.layers; import cs109b_bayes")
    assert out.returncode != 0
    assert "ImportError" in out.stderr
    assert "import cs109b_bayes before tensorflow" in out.stderr
