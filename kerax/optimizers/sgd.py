import jax.numpy as jnp

from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


class SGD(Optimizer):
    """Gradient descent with optional momentum and Nesterov momentum, as Keras 3.

    `velocity = momentum * velocity - lr * g`; `w += velocity` (Nesterov:
    `w += momentum * velocity - lr * g`).

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.01.
        momentum: float in [0, 1]. Defaults to 0.
        nesterov: whether to use Nesterov momentum.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> opt = SGD(learning_rate=0.01, momentum=0.9)
    >>> opt.get_config()["momentum"]
    0.9
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name, **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}"
            )
        self.momentum = momentum
        self.nesterov = nesterov

    def keras_slot_groups(self):
        return [[("momentum", SLOTS, ())]] if self.momentum != 0 else []

    def update_transform(self, learning_rate):
        momentum, nesterov = self.momentum, self.nesterov

        def init_leaf(p):
            return jnp.zeros_like(p) if momentum != 0 else ()

        def update_leaf(step, g, p, m):
            lr = jnp.asarray(learning_rate, p.dtype)
            if momentum == 0:
                return -(g * lr), m
            mom = jnp.asarray(momentum, p.dtype)
            m = m * mom - g * lr
            return (m * mom - g * lr if nesterov else m), m

        return simple_transform(init_leaf, update_leaf)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
