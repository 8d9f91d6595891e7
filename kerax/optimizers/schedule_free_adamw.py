import jax.numpy as jnp

from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al., 2024) as Keras 3: no learning-rate schedule.

    The weights hold the interpolation `y`; the optimizer keeps the `z` sequence (in
    `momentum`) and the second moment.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.0025.
        beta_1: interpolation/averaging coefficient. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: Defaults to 1e-8.
        warmup_steps: linear warmup of the rate over this many steps. Defaults to 0.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> ScheduleFreeAdamW().get_config()["learning_rate"]
    0.0025
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.warmup_steps = warmup_steps

    def keras_slot_groups(self):
        # Keras' `momentum` holds the `z` sequence.
        return [[("momentum", SLOTS, (0,)), ("velocity", SLOTS, (1,))]]

    def update_transform(self, learning_rate):
        b1, b2, eps, warmup = self.beta_1, self.beta_2, self.epsilon, self.warmup_steps

        def update_leaf(step, g, p, slots):
            z_old, v = slots
            dtype = p.dtype
            lr = jnp.asarray(learning_rate, dtype)
            beta_1, beta_2 = jnp.asarray(b1, dtype), jnp.asarray(b2, dtype)
            if warmup > 0:
                lr = lr * jnp.minimum(step / jnp.asarray(warmup, dtype), 1.0)
            v = v + (jnp.square(g) - v) * (1 - beta_2)
            denom = jnp.sqrt(v / (1 - jnp.power(beta_2, step))) + jnp.asarray(eps, dtype)
            z = z_old - lr * g / denom
            weight = 1.0 / step
            x_old = (p - (1 - beta_1) * z_old) / beta_1
            x_new = (1 - weight) * x_old + weight * z
            y_new = (1 - beta_1) * z + beta_1 * x_new
            return y_new - p, (z, v)

        return simple_transform(lambda p: (jnp.array(p), jnp.zeros_like(p)), update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
