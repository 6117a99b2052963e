"""What a question's test asserts: `expect_*` helpers, `CheckFailed`, and its fresh random inputs.

A question signals a wrong answer by raising `CheckFailed`; the helpers here raise it with an
expected-vs-got message. `fresh_rng()` gives the question new random inputs on every check, from
the seed that `check` shows with a failure (fixed by `CS109B_CHECK_SEED` to reproduce one).
"""

import contextlib
import os
import secrets

import numpy as np

from cs109b_bayes import seeds

__all__ = [
    "CheckFailed",
    "answer_array",
    "draw_check_seed",
    "expect_answered",
    "expect_close",
    "expect_true",
    "fresh_inputs",
    "fresh_rng",
]

_ACTIVE_RNG = []  # the generators of the checks being run, innermost last


class CheckFailed(AssertionError):
    """Raised when an answer is wrong (and by `check` in strict mode)."""


def draw_check_seed():
    """The seed of a check's fresh inputs: `CS109B_CHECK_SEED`, else a new random one.

    Returns:
        An int in [0, 2**31).

    Raises:
        ValueError: if `CS109B_CHECK_SEED` is set but is not an integer.

    #### Examples

    ```python
    from cs109b_bayes.grading import draw_check_seed
    seed = draw_check_seed()
    ```
    """
    fixed = os.environ.get("CS109B_CHECK_SEED", "").strip()
    if not fixed:
        return secrets.randbits(31)
    try:
        return int(fixed)
    except ValueError:
        raise ValueError(f"CS109B_CHECK_SEED must be an integer, got {fixed!r}") from None


@contextlib.contextmanager
def fresh_inputs(seed):
    """Within the block, `fresh_rng()` is the generator of `seed` (used by `check`).

    Args:
        seed: the int seed of the check's inputs.

    Yields:
        The `numpy.random.Generator` that `fresh_rng()` returns in the block.

    Raises:
        TypeError: if `seed` is not an int.

    #### Examples

    ```python
    from cs109b_bayes.grading import fresh_inputs, fresh_rng
    with fresh_inputs(3):
        x = fresh_rng().normal(size=2)   # the same numbers for seed 3 every time
    ```
    """
    rng = seeds.numpy_rng(seed, "check")
    _ACTIVE_RNG.append(rng)
    try:
        yield rng
    finally:
        _ACTIVE_RNG.pop()


def fresh_rng():
    """The random generator for a check's fresh inputs.

    Each check draws new inputs, so an answer that only works for one seed fails.
    Inside `check` this is the generator of the seed shown with a failure;
    `CS109B_CHECK_SEED` fixes that seed, to reproduce a failure.

    Returns:
        A `numpy.random.Generator`.

    #### Examples

    ```python
    from cs109b_bayes.grading import fresh_rng
    x = fresh_rng().normal(size=5)
    ```
    """
    if _ACTIVE_RNG:
        return _ACTIVE_RNG[-1]
    return seeds.numpy_rng(draw_check_seed(), "check")


def expect_answered(what, value):
    """Return `value`, or raise `CheckFailed` if it is still a blank (`None` or `...`).

    Args:
        what: the expression that produced `value`, shown in the message.
        value: the student's value.

    Returns:
        `value` unchanged.

    Raises:
        CheckFailed: if `value` is `None` or `...` (a blank answer cell returns one of them).

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_answered
    got = expect_answered("log_posterior(w)", log_posterior(w))
    ```
    """
    if value is None or value is Ellipsis:
        raise CheckFailed(f"{what} returned {value!r}: not answered yet")
    return value


def answer_array(what, value):
    """The answer as a float numpy array (TensorFlow tensors included); blanks fail.

    Args:
        what: the expression that produced `value`, shown in the message.
        value: the student's value: a number, array, list or tensor.

    Returns:
        A float `numpy.ndarray`.

    Raises:
        CheckFailed: if the answer is still a blank (`None` or `...`).

    #### Examples

    ```python
    from cs109b_bayes.grading import answer_array
    z = answer_array("reparameterize(...)", reparameterize(mu, log_var, eps))
    ```
    """
    value = expect_answered(what, value)
    return np.asarray(getattr(value, "numpy", lambda: value)(), dtype=float)


def expect_close(what, got, expected, *, rtol=1e-5, atol=1e-8):
    """Raise `CheckFailed` unless `got` matches `expected` elementwise.

    Args:
        what: the expression being tested, shown in the message (`"log_prior(b)"`).
        got: the student's value.
        expected: the reference value.
        rtol: relative tolerance. Default value: `1e-5`.
        atol: absolute tolerance. Default value: `1e-8`.

    Raises:
        CheckFailed: with expected vs got, if the answer is blank, the shapes differ, the
            value is not numeric, or any element is outside the tolerance.

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_close
    expect_close("1 + 1", 2.0, 2.0)
    ```
    """
    expected = np.asarray(expected, dtype=float)
    expect_answered(what, got)
    try:
        got_array = np.asarray(getattr(got, "numpy", lambda: got)(), dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or array, got {type(got).__name__}") from None
    if got_array.shape != expected.shape:
        if got_array.squeeze().shape != expected.squeeze().shape:
            raise CheckFailed(f"{what} has shape {got_array.shape}, expected shape {expected.shape}")
        got_array = got_array.reshape(expected.shape)  # only singleton axes differ
    if not np.allclose(got_array, expected, rtol=rtol, atol=atol, equal_nan=False):
        bad = np.argmax(np.abs(got_array - expected) - rtol * np.abs(expected))
        raise CheckFailed(
            f"{what}: expected {_fmt(expected)}, got {_fmt(got_array)}"
            + (f" (first mismatch at flat index {bad})" if expected.size > 1 else "")
        )


def expect_true(condition, message):
    """Raise `CheckFailed(message)` unless `condition` holds.

    Args:
        condition: what a correct answer satisfies.
        message: what was expected and what was found, shown when `condition` is false.

    Raises:
        CheckFailed: if `condition` is false.

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_true
    expect_true(0.3 < 0.5, "the acceptance rate should be below one half")
    ```
    """
    if not condition:
        raise CheckFailed(message)


def _fmt(array):
    array = np.asarray(array)
    if array.size == 1:
        return f"{array.item():.6g}"
    return np.array2string(array, precision=4, threshold=8)
