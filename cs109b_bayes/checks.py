"""Argument checks every part of the package shares: one clear error naming the argument.

The sub-packages keep their own checks for what only they take (log-densities, images, parameter
dicts); what all of them take, counts, is checked here once.

#### Examples

```python
from cs109b_bayes.checks import check_count
check_count("num_chains", 4)        # 4
```
"""

import numbers

__all__ = ["check_count"]


def check_count(name, value, minimum=1):
    """Returns `value` as an int if it is an integer >= `minimum` (bools refused).

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        minimum: the smallest value allowed. Default value: 1.

    Returns:
        The int.

    Raises:
        ValueError: `value` is not an integer >= `minimum`.

    #### Examples

    ```python
    check_count("num_chains", 4)        # 4
    check_count("num_chains", 2.5)      # ValueError: num_chains must be an integer >= 1, got 2.5
    check_count("num_samples", 1, 2)    # ValueError: num_samples must be an integer >= 2, got 1
    ```
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
