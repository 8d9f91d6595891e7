import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Lion(Optimizer):
    """Lion (evolved sign momentum) as Keras 3.

    `w -= lr * sign(beta_1 m + (1 - beta_1) g)`; then `m = beta_2 m + (1 - beta_2) g`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_1: interpolation for the update direction, in (0, 1]. Defaults to 0.9.
        beta_2: decay of the momentum. Defaults to 0.99.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Lion().get_config()["beta_2"]
    0.99
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1, self.beta_2 = beta_1, beta_2

    def keras_slot_groups(self):
        return [[("momentum", SLOTS, ())]]

    def update_transform(self, learning_rate):
        b1, b2 = self.beta_1, self.beta_2

        def update_leaf(step, g, p, m):
            beta_1, beta_2 = jnp.asarray(b1, p.dtype), jnp.asarray(b2, p.dtype)
            lr = jnp.asarray(learning_rate, p.dtype)
            delta = -(lr * jnp.sign(m * beta_1 + g * (1.0 - beta_1)))
            return delta, m * beta_2 + g * (1.0 - beta_2)

        return simple_transform(host_constants.full_like, update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
