import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform
from kerax.optimizers.optimizer_variables import Slot


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


class Adafactor(Optimizer):
    """Adafactor as Keras 3: factored second moments for tensors of rank >= 2.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_2_decay: decay exponent of the second moment. Defaults to -0.8.
        epsilon_1: added to the squared gradient. Defaults to 1e-30.
        epsilon_2: lower bound of the parameter scale. Defaults to 1e-3.
        clip_threshold: clipping threshold of the normalized update. Defaults to 1.0.
        relative_step: cap the rate at `1 / sqrt(step)`. Defaults to True.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Adafactor().get_config()["beta_2_decay"]
    -0.8
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def keras_slot_groups(self):
        # Keras names the factored `r` and `c` after the variable; for a variable of rank
        # < 2 they are int32 placeholders made outside the optimizer's name scope.
        placeholder = lambda leaf: leaf.ndim == 0 and leaf.dtype == jnp.int32  # noqa: E731
        return [[Slot("r", SLOTS, ("r",), own_name=True, outside=placeholder),
                 Slot("c", SLOTS, ("c",), own_name=True, outside=placeholder),
                 ("velocity", SLOTS, ("v",))]]

    def update_transform(self, learning_rate):
        decay, eps1, eps2, clip = (self.beta_2_decay, self.epsilon_1, self.epsilon_2,
                                   self.clip_threshold)

        def init_leaf(p):
            if p.ndim < 2:  # Keras' placeholders: `r` and `c` are int32 zeros
                return {"r": host_constants.full((), 0, jnp.int32),
                        "c": host_constants.full((), 0, jnp.int32),
                        "v": host_constants.full_like(p)}
            return {"r": host_constants.full(p.shape[:-1], 0, p.dtype),
                    "c": host_constants.full(p.shape[:-2] + p.shape[-1:], 0, p.dtype),
                    "v": host_constants.full_like(p)}

        def update_leaf(step, g, p, s):
            # rho_t = min(lr, 1/sqrt(t)): Keras applies it whether or not `relative_step`.
            rho_t = jnp.minimum(jnp.asarray(learning_rate, p.dtype), 1 / jnp.sqrt(step))
            alpha_t = jnp.maximum(jnp.asarray(eps2, p.dtype), _rms(p)) * rho_t
            reg_sq = jnp.square(g) + eps1
            beta_2_t = 1 - jnp.power(step, decay)
            if p.ndim >= 2:
                r = beta_2_t * s["r"] + (1 - beta_2_t) * jnp.mean(reg_sq, axis=-1)
                c = beta_2_t * s["c"] + (1 - beta_2_t) * jnp.mean(reg_sq, axis=-2)
                v = (r / jnp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
                s = {"r": r, "c": c, "v": v}
            else:
                v = beta_2_t * s["v"] + (1 - beta_2_t) * reg_sq
                s = {"r": s["r"], "c": s["c"], "v": v}
            u = g / jnp.sqrt(v)
            u_hat = u / jnp.maximum(1.0, _rms(u) / clip)
            return -(alpha_t * u_hat), s

        return simple_transform(init_leaf, update_leaf)

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
