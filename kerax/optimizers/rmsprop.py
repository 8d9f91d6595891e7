import jax.numpy as jnp

from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class RMSprop(Optimizer):
    """RMSprop as Keras 3: `v = rho*v + (1-rho)*g^2`; `w -= lr * g / sqrt(v + epsilon)`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        rho: discount of the squared-gradient average. Defaults to 0.9.
        momentum: if > 0, momentum on the increments. Defaults to 0.
        epsilon: added inside the square root. Defaults to 1e-7.
        centered: normalize by the estimated variance (subtract the mean gradient squared).
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> RMSprop(centered=True).get_config()["rho"]
    0.9
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def keras_slot_groups(self):
        names = ["velocity"] + ["momentum"] * (self.momentum > 0) + [
            "average_gradient"] * bool(self.centered)
        return [[(n, SLOTS, (n,))] for n in names]

    def update_transform(self, learning_rate):
        rho, momentum, eps, centered = self.rho, self.momentum, self.epsilon, self.centered

        def init_leaf(p):
            z = jnp.zeros_like(p)
            return {"velocity": z, "momentum": z if momentum > 0 else (),
                    "average_gradient": z if centered else ()}

        def update_leaf(step, g, p, s):
            lr = jnp.asarray(learning_rate, p.dtype)
            s = dict(s)
            v = rho * s["velocity"] + (1 - rho) * jnp.square(g)
            s["velocity"] = v
            if centered:
                avg = rho * s["average_gradient"] + (1 - rho) * g
                s["average_gradient"] = avg
                denominator = v - jnp.square(avg) + eps
            else:
                denominator = v + eps
            increment = lr * g / jnp.sqrt(denominator)
            if momentum > 0:
                s["momentum"] = momentum * s["momentum"] + increment
                return -s["momentum"], s
            return -increment, s

        return simple_transform(init_leaf, update_leaf)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
