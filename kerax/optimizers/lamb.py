import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Lamb(Optimizer):
    """LAMB: Adam's direction scaled per tensor by the trust ratio `||w|| / ||update||`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: added to `sqrt(v_hat)`. Defaults to 1e-7.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Lamb().get_config()["beta_1"]
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def keras_slot_groups(self):
        return [[("momentum", SLOTS, (0,)), ("velocity", SLOTS, (1,))]]

    def update_transform(self, learning_rate):
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon

        def update_leaf(step, g, p, slots):
            m, v = slots
            lr = jnp.asarray(learning_rate, p.dtype)
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = m / (1.0 - jnp.asarray(b1, p.dtype) ** step)
            v_sqrt = jnp.sqrt(v / (1.0 - jnp.asarray(b2, p.dtype) ** step)) + eps
            update = m_hat / v_sqrt
            w_norm = jnp.sqrt(jnp.sum(jnp.square(p)))
            g_norm = jnp.sqrt(jnp.sum(jnp.square(update)))
            ratio = jnp.where(w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
            return -(ratio * lr * update), (m, v)

        return simple_transform(lambda p: (host_constants.full_like(p), host_constants.full_like(p)), update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
