"""Check one answer at a time: run the student's function with reference versions of earlier answers.

A student's `log_posterior` usually calls their own `log_prior` and `log_likelihood`. If
`log_prior` is wrong, checking `log_posterior` as it is would blame the wrong answer. Inside
`using_references(log_posterior, log_prior=reference_prior, ...)` the names that the student's
function looks up in the notebook (its globals) are bound to the reference versions, and put back
afterwards, so a check judges only the answer it is about.

#### Examples

```python
from cs109b_bayes.grading.references import using_references

with using_references(log_posterior, log_prior=reference_prior, log_likelihood=reference_lik):
    got = log_posterior(b0, b1)
```
"""

import contextlib

__all__ = ["using_references"]

_MISSING = object()


@contextlib.contextmanager
def using_references(student_fn, **references):
    """Within the block, `student_fn`'s global names in `references` are the reference versions.

    Only names the function's namespace already defines are replaced (a student who wrote the
    computation inline is unaffected); everything is restored when the block ends, also on errors.

    Args:
        student_fn: the student's function (any callable; non-functions are left alone).
        **references: name -> reference object.

    Yields:
        The list of names that were replaced.

    #### Examples

    ```python
    with using_references(log_posterior, log_prior=lambda b0, b1: 0.0) as replaced:
        log_posterior(1.0, 2.0)
    ```
    """
    namespace = getattr(student_fn, "__globals__", None)
    saved = {}
    if isinstance(namespace, dict):
        for name, reference in references.items():
            if name in namespace:
                saved[name] = namespace[name]
                namespace[name] = reference
    try:
        yield sorted(saved)
    finally:
        for name, original in saved.items():
            namespace[name] = original
