import jax
import jax.numpy as jnp
import optax

from kerax.backend import host_constants
from kerax.optimizers.base_optimizer import Optimizer


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat's schedule of `u_t`), as Keras 3.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: added to `sqrt(v_hat)`. Defaults to 1e-7.
        **kwargs: the common optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> Nadam().get_config()["epsilon"]
    1e-07
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def keras_slot_groups(self):
        return [[("momentum", ("m",), ()), ("velocity", ("v",), ())]]

    def keras_extra_variables(self):
        # Keras' unnamed `u_product` variable, made outside the optimizer's name scope.
        return [("variable", ("u_product",), True)]

    def update_transform(self, learning_rate):
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        tree_map = jax.tree_util.tree_map

        def init_fn(params):
            leaves = jax.tree_util.tree_leaves(params)
            dtype = leaves[0].dtype if leaves else jnp.float32
            return {"count": host_constants.full((), 0, jnp.int32), "u_product": host_constants.full((), 1, dtype),
                    "m": tree_map(host_constants.full_like, params),
                    "v": tree_map(host_constants.full_like, params)}

        def update_fn(grads, state, params=None):
            count = state["count"] + 1
            u_product = state["u_product"]
            t = count.astype(u_product.dtype)
            u_product = u_product * b1 * (1.0 - 0.5 * jnp.power(0.96, t))

            def leaf(g, p, m, v):
                dtype = p.dtype
                g = g.astype(dtype)
                lr = jnp.asarray(learning_rate, dtype)
                step, next_step = count.astype(dtype), (count + 1).astype(dtype)
                decay, beta_1, beta_2 = (jnp.asarray(x, dtype) for x in (0.96, b1, b2))
                u_t = beta_1 * (1.0 - 0.5 * jnp.power(decay, step))
                u_t_1 = beta_1 * (1.0 - 0.5 * jnp.power(decay, next_step))
                u_product_t = u_product.astype(dtype)
                u_product_t_1 = u_product_t * u_t_1
                m = m + (g - m) * (1 - beta_1)
                v = v + (jnp.square(g) - v) * (1 - beta_2)
                m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
                v_hat = v / (1 - jnp.power(beta_2, step))
                return -((m_hat * lr) / (jnp.sqrt(v_hat) + eps)), m, v

            out = tree_map(leaf, grads, params, state["m"], state["v"])
            treedef = jax.tree_util.tree_structure(grads)
            deltas, m, v = (treedef.unflatten(x) for x in zip(*treedef.flatten_up_to(out)))
            return deltas, {"count": count, "u_product": u_product, "m": m, "v": v}

        return optax.GradientTransformation(init_fn, update_fn)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
