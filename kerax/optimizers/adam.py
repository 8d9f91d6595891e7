import jax
import jax.numpy as jnp
import optax

from kerax.optimizers.base_optimizer import Optimizer


class Adam(Optimizer):
    """Adam with Keras 3's numerics (epsilon added to `sqrt(v)` before bias correction).

    Example:
    >>> opt = Adam(learning_rate=1e-3)
    >>> opt.get_config()["epsilon"]
    1e-07
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def update_transform(self, learning_rate):
        b1, b2, eps, amsgrad = self.beta_1, self.beta_2, self.epsilon, self.amsgrad

        def init_fn(params):
            zeros = lambda: jax.tree_util.tree_map(jnp.zeros_like, params)  # noqa: E731
            state = {"count": jnp.zeros([], jnp.int32), "m": zeros(), "v": zeros()}
            if amsgrad:
                state["vhat"] = zeros()
            return state

        def update_fn(grads, state, params=None):
            step = (state["count"] + 1).astype(jnp.float32)
            alpha = learning_rate * jnp.sqrt(1 - b2**step) / (1 - b1**step)
            m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1 - b1), state["m"], grads)
            v = jax.tree_util.tree_map(lambda v, g: v + (g * g - v) * (1 - b2), state["v"], grads)
            new = {"count": state["count"] + 1, "m": m, "v": v}
            denom_v = v
            if amsgrad:
                denom_v = jax.tree_util.tree_map(jnp.maximum, state["vhat"], v)
                new["vhat"] = denom_v
            upd = jax.tree_util.tree_map(
                lambda m, v: (-alpha * m / (jnp.sqrt(v) + eps)).astype(m.dtype), m, denom_v
            )
            return upd, new

        return optax.GradientTransformation(init_fn, update_fn)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
