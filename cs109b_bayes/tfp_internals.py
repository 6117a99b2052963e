"""Every private TensorFlow Probability internal the package relies on, in one place.

TFP 0.25's public API does not cover a few things we need, so we use these internals:

- `tensorflow_probability.python.internal.unnest.replace_innermost`, to change the number of
  leapfrog steps inside nested HMC kernel results (`cs109b_bayes.inference.hmc` jitters the
  path length);
- `namedtuple._replace` on kernel results, to restart dual-averaging step-size adaptation
  (`num_adaptation_steps`) between warm-up windows;
- overriding the private `_apply_variational_kernel` of TFP's dense variational layers (see the
  layer section below).

`tests/test_tfp_internals.py` exercises each of them against the installed TFP, so an upgrade
that changes one fails there first, with a message naming this module, rather than deep inside
a sampler or a layer.

#### Examples

```python
from cs109b_bayes import tfp_internals
results = tfp_internals.replace_innermost(kernel_results, num_leapfrog_steps=8)
```
"""

import tensorflow_probability as tfp  # noqa: F401  (imported for its side effect on tf)
from tensorflow_probability.python.internal import unnest

__all__ = ["replace_fields", "replace_innermost"]

_UPGRADE_HINT = ("cs109b_bayes relies on this TFP internal (see cs109b_bayes/tfp_internals.py); "
                 "the installed tensorflow-probability may have changed it. "
                 "requirements.txt pins the tested version.")


def replace_innermost(kernel_results, **fields):
    """Returns nested kernel results with `fields` replaced in the innermost results that have them.

    Args:
        kernel_results: the (possibly nested) results of a TFP transition kernel.
        **fields: field names and new values, e.g. `num_leapfrog_steps=8`.

    Returns:
        Kernel results of the same structure.

    Raises:
        RuntimeError: the TFP internal is missing or no longer accepts these fields.

    #### Examples

    ```python
    results = replace_innermost(hmc_results, num_leapfrog_steps=tf.constant(8))
    ```
    """
    try:
        return unnest.replace_innermost(kernel_results, **fields)
    except (AttributeError, ValueError, TypeError) as error:
        raise RuntimeError(f"unnest.replace_innermost({sorted(fields)}) failed: {error}. "
                           + _UPGRADE_HINT) from error


def replace_fields(kernel_results, **fields):
    """Returns `kernel_results` (a TFP results namedtuple) with top-level `fields` replaced.

    Args:
        kernel_results: results of a TFP kernel, e.g. `DualAveragingStepSizeAdaptationResults`.
        **fields: field names and new values, e.g. `num_adaptation_steps=window`.

    Returns:
        The results with the fields replaced.

    Raises:
        RuntimeError: the results are not a namedtuple or lack one of the fields.

    #### Examples

    ```python
    fresh = replace_fields(sampler.bootstrap_results(z), num_adaptation_steps=window)
    ```
    """
    missing = [name for name in fields if name not in getattr(kernel_results, "_fields", ())]
    if missing:
        raise RuntimeError(f"{type(kernel_results).__name__} has no field(s) {missing}. " + _UPGRADE_HINT)
    return kernel_results._replace(**fields)
