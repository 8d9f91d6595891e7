import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Adadelta(Optimizer):
    """Adadelta as Keras 3 (the update is scaled by `learning_rate`).

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        rho: decay rate of the accumulators. Defaults to 0.95.
        epsilon: added inside the square roots. Defaults to 1e-7.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Adadelta().get_config()["rho"]
    0.95
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def keras_slot_groups(self):
        return [[("accumulated_grad", SLOTS, (0,)), ("accumulated_delta_var", SLOTS, (1,))]]

    def update_transform(self, learning_rate):
        rho, eps = self.rho, self.epsilon

        def update_leaf(step, g, p, slots):
            acc_grad, acc_delta = slots
            acc_grad = rho * acc_grad + (1 - rho) * jnp.square(g)
            delta = -(jnp.sqrt(acc_delta + eps) * g / jnp.sqrt(acc_grad + eps))
            acc_delta = rho * acc_delta + (1 - rho) * jnp.square(delta)
            return jnp.asarray(learning_rate, p.dtype) * delta, (acc_grad, acc_delta)

        return simple_transform(lambda p: (host_constants.full_like(p), host_constants.full_like(p)), update_leaf)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
