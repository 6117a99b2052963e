"""The kinds of regressor `build_regressor` makes, and checks that a model is one of them."""

__all__ = ["KINDS", "WEIGHT_NOISE_KINDS", "check_kind", "model_kind"]

KINDS = (
    "deterministic",
    "output_only",
    "reparameterization",
    "flipout",
    "local_reparameterization",
    "stochastic_hidden",
    "mc_dropout",
    "ensemble",
)
"""Every kind `build_regressor` accepts (see the `cs109b_bayes.bnn` docstring)."""

WEIGHT_NOISE_KINDS = ("reparameterization", "flipout", "local_reparameterization")
"""The kinds with a Bayesian (mean-field Gaussian) posterior on every dense kernel."""


def check_kind(kind):
    """Returns `kind` if it is one of `KINDS`.

    Args:
        kind: a kind name.

    Returns:
        `kind`.

    Raises:
        ValueError: for an unknown kind.

    #### Examples

    ```python
    check_kind("flipout")     # "flipout"
    ```
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kind must be one of {', '.join(KINDS)}")
    return kind


def model_kind(model):
    """The `bnn_kind` of a model built by `build_regressor`.

    Args:
        model: a tf_keras model.

    Returns:
        Its kind, one of `KINDS`.

    Raises:
        ValueError: the model does not come from `build_regressor`.

    #### Examples

    ```python
    model_kind(cb.bnn.build_regressor("flipout", num_train=100, seed=0))   # "flipout"
    ```
    """
    kind = getattr(model, "bnn_kind", None)
    if kind not in KINDS:
        raise ValueError("model must come from cb.bnn.build_regressor (it has no bnn_kind attribute)")
    return kind
