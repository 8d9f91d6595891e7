import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm) as Keras 3.

    `m += (g - m)(1 - beta_1)`; `u = max(beta_2 u, |g|)`;
    `w -= lr m / ((1 - beta_1^t)(u + epsilon))`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the weighted infinity norm. Defaults to 0.999.
        epsilon: added to the norm. Defaults to 1e-7.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Adamax().get_config()["beta_2"]
    0.999
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def keras_slot_groups(self):
        return [[("momentum", SLOTS, (0,)), ("norm", SLOTS, (1,))]]

    def update_transform(self, learning_rate):
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon

        def update_leaf(step, g, p, slots):
            m, u = slots
            lr = jnp.asarray(learning_rate, p.dtype)
            m = m + (g - m) * (1 - b1)
            u = jnp.maximum(b2 * u, jnp.abs(g))
            beta_1_power = jnp.asarray(b1, p.dtype) ** step
            return -((lr * m) / ((1 - beta_1_power) * (u + eps))), (m, u)

        return simple_transform(lambda p: (host_constants.full_like(p), host_constants.full_like(p)), update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
