import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform


def adam_leaf_update(lr, step, g, m, v, beta_1, beta_2, epsilon, vhat=None):
    """Keras' Adam step for one tensor: returns `(delta, m, v, vhat)`."""
    dtype = g.dtype
    lr = jnp.asarray(lr, dtype)
    alpha = lr * jnp.sqrt(1 - jnp.asarray(beta_2, dtype) ** step) / (
        1 - jnp.asarray(beta_1, dtype) ** step)
    m = m + (g - m) * (1 - beta_1)
    v = v + (jnp.square(g) - v) * (1 - beta_2)
    denom_v = v
    if vhat is not None:
        vhat = jnp.maximum(vhat, v)
        denom_v = vhat
    return -((m * alpha) / (jnp.sqrt(denom_v) + epsilon)), m, v, vhat


class Adam(Optimizer):
    """Adam with Keras 3's numerics (epsilon added to `sqrt(v)` before bias correction).

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: added to `sqrt(v)`. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (running maximum of `v`).
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> opt = Adam(learning_rate=1e-3)
    >>> opt.get_config()["epsilon"]
    1e-07
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def keras_slot_groups(self):
        groups = [[("momentum", SLOTS, (0,)), ("velocity", SLOTS, (1,))]]
        return groups + ([[("velocity_hat", SLOTS, (2,))]] if self.amsgrad else [])

    def update_transform(self, learning_rate):
        b1, b2, eps, amsgrad = self.beta_1, self.beta_2, self.epsilon, self.amsgrad

        def init_leaf(p):
            # Distinct buffers, so the state can be donated to a jitted step.
            return tuple(host_constants.full_like(p) for _ in range(3 if amsgrad else 2))

        def update_leaf(step, g, p, slots):
            m, v, *vhat = slots
            d, m, v, vhat = adam_leaf_update(learning_rate, step, g, m, v, b1, b2, eps,
                                             vhat[0] if vhat else None)
            return d, ((m, v, vhat) if amsgrad else (m, v))

        return simple_transform(init_leaf, update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (`w -= w * weight_decay * lr` before each step).

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        weight_decay: float. Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: as `Adam`.
        **kwargs: the common optimizer arguments.

    Example:
    >>> AdamW().weight_decay
    0.004
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         name=name, **kwargs)
        if self.weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
