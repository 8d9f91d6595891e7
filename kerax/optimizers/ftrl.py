import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Ftrl(Optimizer):
    """FTRL-Proximal as Keras 3 (with L1, L2 and L2-shrinkage regularization).

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        learning_rate_power: <= 0; how the rate decreases. Defaults to -0.5.
        initial_accumulator_value: >= 0. Defaults to 0.1.
        l1_regularization_strength: >= 0. Defaults to 0.
        l2_regularization_strength: >= 0. Defaults to 0.
        l2_shrinkage_regularization_strength: >= 0. Defaults to 0.
        beta: added to the L2 term as `beta / (2 lr)`. Defaults to 0.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Ftrl().get_config()["learning_rate_power"]
    -0.5
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value, sign in [
            ("initial_accumulator_value", initial_accumulator_value, 1),
            ("learning_rate_power", learning_rate_power, -1),
            ("l1_regularization_strength", l1_regularization_strength, 1),
            ("l2_regularization_strength", l2_regularization_strength, 1),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 1),
        ]:
            if value * sign < 0:
                kind = "positive or zero" if sign > 0 else "negative or zero"
                raise ValueError(f"`{arg}` needs to be {kind}. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def keras_slot_groups(self):
        return [[("accumulator", SLOTS, (0,)), ("linear", SLOTS, (1,))]]

    def update_transform(self, learning_rate):
        power, l1 = self.learning_rate_power, self.l1_regularization_strength
        l2, shrink, beta = (self.l2_regularization_strength,
                            self.l2_shrinkage_regularization_strength, self.beta)
        init_value = self.initial_accumulator_value

        def update_leaf(step, g, p, slots):
            accum, linear = slots
            lr = jnp.asarray(learning_rate, p.dtype)
            l2_reg = l2 + beta / (2.0 * lr)
            grad_to_use = g + 2 * shrink * p
            new_accum = accum + jnp.square(g)
            linear = linear + grad_to_use - (
                (jnp.power(new_accum, -power) - jnp.power(accum, -power)) / lr) * p
            quadratic = jnp.power(new_accum, -power) / lr + 2 * l2_reg
            new_p = (jnp.clip(linear, -l1, l1) - linear) / quadratic
            return new_p - p, (new_accum, linear)

        return simple_transform(
            lambda p: (host_constants.full_like(p, init_value), host_constants.full_like(p)), update_leaf)

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
