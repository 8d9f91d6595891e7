"""Shared checks of the random regularization layers."""


def check_rate(value, name="rate"):
    """Raises Keras' error unless `0 <= value <= 1`."""
    if not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between "
            f"0 and 1. Received: {name}={value}"
        )


def require_rng(layer, rng):
    """Raises a how-to error when a random layer runs in training mode without a key."""
    if rng is None:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' needs a random key in training mode: call "
            "`apply(variables, x, training=True, rng=jax.random.PRNGKey(0))`."
        )
