import jax
import jax.numpy as jnp
import optax

from kerax.optimizers.base_optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum and Nesterov momentum, as Keras 3.

    `velocity = momentum * velocity - lr * g`; `w += velocity` (Nesterov:
    `w += momentum * velocity - lr * g`).

    Example:
    >>> opt = SGD(learning_rate=0.01, momentum=0.9)
    >>> opt.get_config()["momentum"]
    0.9
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name, **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def update_transform(self, learning_rate):
        momentum, nesterov = self.momentum, self.nesterov

        def init_fn(params):
            if momentum == 0:
                return optax.EmptyState()
            return jax.tree_util.tree_map(jnp.zeros_like, params)

        def update_fn(grads, state, params=None):
            lr = learning_rate
            if momentum == 0:
                return jax.tree_util.tree_map(lambda g: -lr * g, grads), state
            m = jax.tree_util.tree_map(lambda v, g: v * momentum - g * lr, state, grads)
            if nesterov:
                upd = jax.tree_util.tree_map(lambda v, g: v * momentum - g * lr, m, grads)
            else:
                upd = m
            return upd, m

        return optax.GradientTransformation(init_fn, update_fn)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
