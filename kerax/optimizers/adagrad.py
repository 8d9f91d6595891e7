import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class Adagrad(Optimizer):
    """Adagrad as Keras 3: `acc += g^2`; `w -= lr * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        initial_accumulator_value: starting value of the accumulators. Defaults to 0.1.
        epsilon: added inside the square root. Defaults to 1e-7.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Adagrad().get_config()["initial_accumulator_value"]
    0.1
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def keras_slot_groups(self):
        return [[("accumulator", SLOTS, ())]]

    def update_transform(self, learning_rate):
        init_value, eps = self.initial_accumulator_value, self.epsilon

        def update_leaf(step, g, p, acc):
            acc = acc + jnp.square(g)
            return -(jnp.asarray(learning_rate, p.dtype) * g / jnp.sqrt(acc + eps)), acc

        return simple_transform(lambda p: host_constants.full_like(p, init_value), update_leaf)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
