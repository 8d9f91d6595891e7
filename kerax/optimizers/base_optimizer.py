"""The optimizer shell: Keras 3's names and arguments over an optax transformation.

CONTRACT (used by the engine and callbacks):
- `optimizer.tx` is an `optax.GradientTransformation` whose outermost state is an
  `optax.InjectHyperparamsState` holding `learning_rate` (a float or a schedule of the
  step), so the rate is readable and settable between compiled executions.
- `optimizer.init(params) -> opt_state` (pure) and
  `optimizer.apply(grads, opt_state, params) -> (new_params, new_opt_state)` (pure,
  jit-able; Keras' update order and numerics, post-update constraints excluded).
- The shell keeps the live `optimizer.state` between executions; `learning_rate` and
  `iterations` read it; setting `learning_rate` writes it.
- Subclasses implement `update_transform(learning_rate) -> GradientTransformation` whose
  updates are the *deltas* added to the variables (Keras' `update_step`), e.g. `-lr * g`.
"""

import jax
import jax.numpy as jnp
import optax

from kerax.utils import naming


class Optimizer:
    """Base class of Keras-style optimizers built on optax.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.optimizers import SGD
    >>> opt = SGD(learning_rate=0.1)
    >>> params = {"w": jnp.ones(2)}
    >>> state = opt.init(params)
    >>> new, state = opt.apply({"w": jnp.ones(2)}, state, params)
    >>> [round(v, 6) for v in new["w"].tolist()]
    [0.9, 0.9]
    """

    _keras_module = "keras.optimizers"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        kwargs.pop("decay", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name or naming.auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._initial_learning_rate = learning_rate
        self._tx = None
        self.state = None

    # --- to override -------------------------------------------------------------------
    def update_transform(self, learning_rate):
        raise NotImplementedError

    # --- the pure contract -------------------------------------------------------------
    @property
    def tx(self):
        if self._tx is None:
            self._tx = optax.inject_hyperparams(self._build_chain)(
                learning_rate=self._initial_learning_rate
            )
        return self._tx

    def _build_chain(self, learning_rate):
        parts = []
        if self.clipvalue is not None:
            parts.append(optax.clip(self.clipvalue))
        if self.clipnorm is not None:
            parts.append(_clip_by_norm_per_tensor(self.clipnorm))
        if self.global_clipnorm is not None:
            parts.append(optax.clip_by_global_norm(self.global_clipnorm))
        parts.append(self.update_transform(learning_rate))
        return optax.chain(*parts)

    def init(self, params):
        """Returns the optimizer state for `params` (pure)."""
        return self.tx.init(params)

    def apply(self, grads, opt_state, params):
        """One update: returns `(new_params, new_opt_state)` (pure)."""
        updates, opt_state = self.tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    # --- the stateful shell ------------------------------------------------------------
    def build(self, params):
        """Creates `self.state` for `params` (what `compile`/`fit` do for you)."""
        self.state = self.init(params)
        return self.state

    @property
    def built(self):
        return self.state is not None

    def _hyper_state(self):
        state = self.state
        return state if hasattr(state, "hyperparams") else None

    @property
    def iterations(self):
        hs = self._hyper_state()
        return 0 if hs is None else int(hs.count)

    @property
    def learning_rate(self):
        lr = self._initial_learning_rate
        hs = self._hyper_state()
        if hs is not None and "learning_rate" in hs.hyperparams:
            return hs.hyperparams["learning_rate"]
        if callable(lr):
            return lr(self.iterations)
        return jnp.asarray(lr, jnp.float32)

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(self._initial_learning_rate) and not callable(value):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable."
            )
        if callable(value):
            self._initial_learning_rate = value
            self._tx = None
            return
        hs = self._hyper_state()
        if hs is None:
            self._initial_learning_rate = float(value)
            self._tx = None
            return
        old = hs.hyperparams["learning_rate"]
        hyper = dict(hs.hyperparams)
        hyper["learning_rate"] = jnp.asarray(value, jnp.asarray(old).dtype)
        self.state = hs._replace(hyperparams=hyper)

    def get_config(self):
        lr = self._initial_learning_rate
        if callable(lr):
            from kerax.saving import serialization_lib

            lr = serialization_lib.serialize_keras_object(lr)
        elif self.state is not None and not callable(lr):
            lr = float(self.learning_rate)
        return {
            "name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue, "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from kerax.saving import serialization_lib

            config["learning_rate"] = serialization_lib.deserialize_keras_object(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)


def _clip_by_norm_per_tensor(max_norm):
    """Keras' `clipnorm`: clip each gradient tensor to norm `max_norm` separately."""

    def update_fn(updates, state, params=None):
        def clip(g):
            norm = jnp.sqrt(jnp.sum(jnp.square(g)))
            return jnp.where(norm > max_norm, g * max_norm / jnp.maximum(norm, 1e-12), g)

        return jax.tree_util.tree_map(clip, updates), state

    return optax.GradientTransformation(lambda p: optax.EmptyState(), update_fn)


class OptaxOptimizer(Optimizer):
    """Wraps any `optax.GradientTransformation` so `compile` can take it as is.

    Example:
    >>> import optax
    >>> opt = OptaxOptimizer(optax.sgd(0.1))
    >>> opt.name
    'optax_optimizer'
    """

    def __init__(self, transformation, name=None):
        super().__init__(learning_rate=None, name=name or "optax_optimizer")
        self._tx = transformation

    @property
    def tx(self):
        return self._tx

    @property
    def learning_rate(self):
        hs = self._hyper_state()
        if hs is not None and "learning_rate" in hs.hyperparams:
            return hs.hyperparams["learning_rate"]
        return None

    @learning_rate.setter
    def learning_rate(self, value):
        hs = self._hyper_state()
        if hs is None or "learning_rate" not in hs.hyperparams:
            raise TypeError(
                "This optax transformation has no injectable `learning_rate`; wrap it with "
                "`optax.inject_hyperparams` to set the rate from callbacks."
            )
        hyper = dict(hs.hyperparams)
        hyper["learning_rate"] = jnp.asarray(value, hyper["learning_rate"].dtype)
        self.state = hs._replace(hyperparams=hyper)

    def get_config(self):
        raise NotImplementedError("An optax transformation cannot be serialized to a config.")
