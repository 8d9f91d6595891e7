import jax
import jax.numpy as jnp
import optax

from kerax import optimizers as optimizers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_constants
from kerax.optimizers import optimizer_variables as ov
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optimizer_shell import SCHEDULE_NOT_SETTABLE
from kerax.serialization import serialization_lib

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around an inner optimizer, as Keras 3.

    Scale the loss with `scale_loss(loss, opt_state)` before differentiating; `apply`
    divides the gradients by the current scale. A step with a non-finite gradient is
    skipped and halves the scale; after `dynamic_growth_steps` finite steps the scale
    doubles.

    Args:
        inner_optimizer: the optimizer that makes the updates.
        initial_scale: starting loss scale. Defaults to 2**15.
        dynamic_growth_steps: finite steps between doublings. Defaults to 2000.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.optimizers import SGD
    >>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=4.0)
    >>> params = {"w": jnp.ones(2)}
    >>> state = opt.init(params)
    >>> new, state = opt.apply({"w": jnp.array([jnp.inf, 0.0])}, state, params)
    >>> new["w"].tolist(), float(opt.scale_loss(1.0, state))
    ([1.0, 1.0], 2.0)
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on "
                    "the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        inner_optimizer.loss_scale_factor = None
        inner_optimizer._tx = None

    @property
    def tx(self):
        if self._tx is None:
            self._tx = optax.GradientTransformation(self._init, self._update)
        return self._tx

    def _init(self, params):
        # `iteration` and `learning_rate`: Keras' LossScaleOptimizer has its own, which
        # stay 0 (the inner optimizer's count the steps and set the rate).
        return {"iteration": host_constants.full((), 0, jnp.int32),
                "learning_rate": host_constants.full((), 0, jnp.float32),
                "step_counter": host_constants.full((), 0, jnp.int32),
                "dynamic_scale": jnp.asarray(self.initial_scale, jnp.float32),
                "inner": self.inner_optimizer.tx.init(params)}

    def _layout(self, state, refs=None):
        """Keras' order: the wrapper's `iteration`, `learning_rate`, `step_counter` and
        `dynamic_scale`, then the inner optimizer's variables under its name."""
        refs = self._ordered_refs() if refs is None else refs
        own = [ov.Entry(f"loss_scale_{n}", [((n,), ov._same)], keras_name=n)
               for n in ("iteration", "learning_rate")]
        own += [ov.Entry(n, [((n,), ov._same)]) for n in ("step_counter", "dynamic_scale")]
        inner = self.inner_optimizer._layout(state["inner"], refs)
        if isinstance(inner, ov.Fallback):
            return ov.layout(self, state, refs)
        name = self.inner_optimizer.name
        return own + [ov.Entry(e.name, [(("inner",) + tuple(p), fn) for p, fn in e.targets],
                               e.keras_name, e.keras_path or f"{name}/{e.keras_name}")
                      for e in inner]

    def _update(self, grads, state, params):
        leaves = jax.tree_util.tree_leaves(grads)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in leaves]))
        scale = state["dynamic_scale"]
        unscaled = jax.tree_util.tree_map(lambda g: g / scale.astype(g.dtype), grads)
        updates, inner = self.inner_optimizer.tx.update(unscaled, state["inner"], params)
        grow = state["step_counter"] == self.dynamic_growth_steps - 1
        counter = jnp.where(finite & ~grow, state["step_counter"] + 1, 0)
        new_scale = jnp.where(finite, jnp.where(grow, scale * 2.0, scale), scale * 0.5)
        keep = lambda new, old: jnp.where(finite, new, old)  # noqa: E731
        new_state = {"iteration": state["iteration"], "learning_rate": state["learning_rate"],
                     "step_counter": counter, "dynamic_scale": new_scale,
                     "inner": jax.tree_util.tree_map(keep, inner, state["inner"])}
        updates = jax.tree_util.tree_map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)),
                                         updates)
        return updates, new_state

    def scale_loss(self, loss, opt_state=None):
        """`loss` times the current dynamic scale (from `opt_state`, else the live state)."""
        state = self.state if opt_state is None else opt_state
        scale = self.initial_scale if state is None else state["dynamic_scale"]
        return loss * scale

    @property
    def dynamic_scale(self):
        return self.initial_scale if self.state is None else self.state["dynamic_scale"]

    @property
    def iterations(self):
        steps = self.inner_optimizer.gradient_accumulation_steps
        return self._raw_iterations // steps if steps else self._raw_iterations

    @property
    def learning_rate(self):
        lr = self.inner_optimizer._initial_learning_rate
        if callable(lr):
            return lr(self._raw_iterations)
        hs = self._hyper_state()
        return hs.hyperparams["learning_rate"] if hs is not None else jnp.asarray(lr)

    @learning_rate.setter
    def learning_rate(self, value):
        if self._hyper_state() is None:
            self.inner_optimizer.learning_rate = value
            self._tx = None
            return
        if callable(self.inner_optimizer._initial_learning_rate) and not callable(value):
            raise TypeError(SCHEDULE_NOT_SETTABLE)
        self._set_learning_rate_in_state(value)

    def finalize_variable_values(self, params, opt_state=None):
        state = self.state if opt_state is None else opt_state
        return self.inner_optimizer.finalize_variable_values(params, state["inner"])

    def get_config(self):
        return {"name": self.name,
                "inner_optimizer": serialization_lib.serialize_keras_object(
                    self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = optimizers_lib.deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)
