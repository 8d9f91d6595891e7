"""The optimizer shell: Keras 3's names and arguments over an optax transformation.

CONTRACT (used by the engine and callbacks):
- `optimizer.tx` is an `optax.GradientTransformation` whose state holds an
  `optax.InjectHyperparamsState` with `learning_rate` (a float or a schedule of the
  step), so the rate is readable and settable between compiled executions. For the
  built-in optimizers it is the outermost state; wrappers (`LossScaleOptimizer`,
  `optax.MultiSteps`) nest it, and `_hyper_state()` finds it wherever it sits.
- `optimizer.init(params) -> opt_state` (pure) and
  `optimizer.apply(grads, opt_state, params) -> (new_params, new_opt_state)` (pure,
  jit-able; Keras' update order and numerics, post-update constraints excluded).
- The shell keeps the live `optimizer.state` between executions; `learning_rate` and
  `iterations` read it; setting `learning_rate` writes it.
- Subclasses implement `update_transform(learning_rate) -> GradientTransformation` whose
  updates are the *deltas* added to the variables (Keras' `update_step`), e.g. `-lr * g`.
  Its `update` receives the parameters after weight decay.

One step follows Keras 3's order: gradients divided by `loss_scale_factor`, gradient
accumulation, clipping (`clipnorm` per tensor, `global_clipnorm`, `clipvalue`), weight
decay `w -= w * weight_decay * lr`, the update step, then the weights' moving average.
"""

import re

import jax
import jax.numpy as jnp
import optax

from kerax.backend import host_constants
from kerax.backend import naming
from kerax.optimizers import optimizer_variables as ov
from kerax.optimizers import schedules
from kerax.optimizers.optax_state import find_hyper_state, map_with_path, path_str
from kerax.optimizers.optimizer_shell import OptimizerShell, keras_slot_name, value_of
from kerax.serialization import serialization_lib

tree_map = jax.tree_util.tree_map


def _where(pred, new, old):
    return tree_map(lambda a, b: jnp.where(pred, a, b), new, old)


class Optimizer(OptimizerShell):
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
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError(
                f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
            )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
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
        self._wd_exclude_ids = set()
        self._wd_exclude_paths = set()
        self._wd_exclude_pattern = None
        self._tx = None
        self.state = None
        self._var_refs = []
        self._from_tree = False
        self._owner = None
        self._layout_cache = None
        self._pending_iterations = 0
        self._views = {}

    # --- to override -------------------------------------------------------------------
    def update_transform(self, learning_rate):
        """Keras' `update_step` as an optax transformation returning deltas."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `update_transform(learning_rate)`."
        )

    def keras_slot_groups(self):
        """Keras' layout of the per-variable slots (see `optimizer_variables`), or None.

        A list of groups; Keras lists, group by group, for each trainable variable, each
        `(suffix, prefix, sub)` of the group: the slot at `prefix + var_path + sub` in the
        update transform's state, named `f"{variable}_{suffix}"`.
        """
        return None

    def keras_extra_variables(self):
        """`[(name, path)]`: scalars Keras lists after the slots (Nadam's `u_product`)."""
        return []

    def _weight_decay_rate(self, path, param):
        """The weight decay applied to the leaf `param` at `path` (None: none)."""
        if self.weight_decay is None or not self._use_weight_decay(path):
            return None
        return self.weight_decay

    # --- weight decay exclusion --------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables from weight decay (call before `init`/`build`).

        Args:
            var_list: leaves of the params pytree (matched by identity at `init`) or
                their path strings such as `"dense/kernel"`.
            var_names: substrings (regular expressions); a leaf whose path matches one
                is excluded, e.g. `["bias"]`.

        Example:
        >>> from kerax.optimizers import AdamW
        >>> opt = AdamW(weight_decay=0.1)
        >>> opt.exclude_from_weight_decay(var_names=["bias"])
        >>> opt._use_weight_decay("dense/bias"), opt._use_weight_decay("dense/kernel")
        (False, True)
        """
        if self.state is not None:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer "
                "is built: call it before `init`/`build`/`compile`."
            )
        var_list = list(var_list or [])
        self._wd_exclude_paths = {v for v in var_list if isinstance(v, str)}
        self._wd_exclude_ids = {id(v) for v in var_list if not isinstance(v, str)}
        self._wd_exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, path):
        if path in self._wd_exclude_paths:
            return False
        pattern = self._wd_exclude_pattern
        return not (pattern is not None and pattern.search(path))

    # --- the pure contract -------------------------------------------------------------
    @property
    def tx(self):
        if self._tx is None:
            self._tx = optax.inject_hyperparams(self._build_chain)(
                learning_rate=self._initial_learning_rate
            )
        return self._tx

    def _clip(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return tree_map(lambda g: _clip_by_norm(g, self.clipnorm), grads)
        if self.global_clipnorm and self.global_clipnorm > 0:
            leaves = jax.tree_util.tree_leaves(grads)
            norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in leaves))
            scale = self.global_clipnorm * jnp.minimum(1.0 / norm, 1.0 / self.global_clipnorm)
            return tree_map(lambda g: g * scale, grads)
        if self.clipvalue and self.clipvalue > 0:
            return tree_map(lambda g: jnp.clip(g, -self.clipvalue, self.clipvalue), grads)
        return grads

    def _build_chain(self, learning_rate):
        inner = self.update_transform(learning_rate)
        steps = self.gradient_accumulation_steps

        def init_fn(params):
            for p, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
                if id(leaf) in self._wd_exclude_ids:
                    self._wd_exclude_paths.add(path_str(p))
            state = {"count": host_constants.full((), 0, jnp.int32), "inner": inner.init(params)}
            if steps:
                state["accumulators"] = tree_map(host_constants.full_like, params)
            if self.use_ema:
                state["average"] = tree_map(host_constants.full_like, params)
            return state

        def update_fn(grads, state, params):
            count = state["count"]
            new_state = {"count": count + 1}
            if self.loss_scale_factor is not None:
                grads = tree_map(lambda g: g / self.loss_scale_factor, grads)
            if steps:
                acc = state["accumulators"]
                is_update = (count + 1) % steps == 0
                new_state["accumulators"] = tree_map(
                    lambda g, a: jnp.where(is_update, jnp.zeros_like(a), g + a), grads, acc)
                grads = tree_map(
                    lambda g, a: jnp.where(is_update, (g + a) / steps, g), grads, acc)
            grads = self._clip(grads)
            decayed = map_with_path(self._decay_leaf(learning_rate), params)
            deltas, inner_state = inner.update(grads, state["inner"], decayed)
            new_params = tree_map(lambda p, d: (p + d).astype(p.dtype), decayed, deltas)
            if steps:
                new_params = _where(is_update, new_params, params)
                inner_state = _where(is_update, inner_state, state["inner"])
            new_state["inner"] = inner_state
            if self.use_ema:
                iterations = count // steps if steps else count
                momentum = (iterations != 0) * self.ema_momentum
                average = tree_map(lambda a, p: momentum * a + (1 - momentum) * p,
                                   state["average"], new_params)
                new_state["average"] = average
                if self.ema_overwrite_frequency:
                    overwrite = (iterations + 1) % self.ema_overwrite_frequency == 0
                    new_params = _where(overwrite, average, new_params)
            updates = tree_map(lambda n, p: n - p, new_params, params)
            return updates, new_state

        return optax.GradientTransformation(init_fn, update_fn)

    def _decay_leaf(self, learning_rate):
        def decay(path, p):
            wd = self._weight_decay_rate(path, p)
            if wd is None:
                return p
            return p - p * jnp.asarray(wd, p.dtype) * jnp.asarray(learning_rate, p.dtype)

        return decay

    def init(self, params):
        """Returns the optimizer state for `params` (pure)."""
        return self.tx.init(params)

    def apply(self, grads, opt_state=None, params=None):
        """One update: returns `(new_params, new_opt_state)` (pure).

        Called as Keras calls it, `apply(grads, trainable_variables=None)` (no `params`),
        it updates the variables in place instead (see `apply_gradients`).
        """
        if params is None:
            return self._apply_to_variables(grads, opt_state)
        updates, opt_state = self.tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def apply_gradients(self, grads_and_vars):
        """Keras' eager update: applies `(gradient, variable)` pairs to the variables.

        The optimizer is built for these variables on the first call; its state and the
        variables' values change in place. Returns `iterations`.

        Example:
        >>> import numpy as np, kerax
        >>> layer = kerax.layers.Dense(1, kernel_initializer="ones")
        >>> _ = layer(np.ones((1, 2)))
        >>> opt = kerax.optimizers.SGD(learning_rate=0.5)
        >>> _ = opt.apply_gradients(zip([np.ones((2, 1)), np.ones((1,))], layer.weights))
        >>> np.asarray(layer.weights[0]).ravel().tolist(), int(opt.iterations)
        ([0.5, 0.5], 1)
        """
        grads, variables = zip(*grads_and_vars) if grads_and_vars else ((), ())
        return self._apply_to_variables(list(grads), list(variables))

    def _apply_to_variables(self, grads, variables):
        if variables is None:
            variables = getattr(self, "_built_variables", None)
            if variables is None:
                raise ValueError(
                    "When calling `apply` on an optimizer that was not built for a list of "
                    "variables, pass `trainable_variables`: `optimizer.apply(grads, "
                    "model.trainable_variables)`, or call `optimizer.build(variables)` first."
                )
        variables = list(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(
                f"`apply` received {len(grads)} gradients for {len(variables)} variables; "
                "pass one gradient per variable, in the same order."
            )
        refs = [(keras_slot_name(v, i), (i,)) for i, v in enumerate(variables)]
        if self.state is None or self._from_tree or refs != self._var_refs:
            self.build(variables)  # (views are compared by path: they may be new objects)
        params = [value_of(v) for v in variables]
        new_params, self.state = self.apply([value_of(g) for g in grads], self.state, params)
        for variable, value in zip(variables, new_params):
            variable.assign(value)
        return self.iterations

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Keras 3's pure update: returns `(trainable_variables, optimizer_variables)`.

        As in Keras, `optimizer_variables` is the list `optimizer.variables` (or the list a
        previous call returned) and `grads`/`trainable_variables` are lists in the same
        order as the variables the optimizer was built for; lists are returned. An optax
        state pytree (what `init` returns) is accepted too and returned as such.

        Example:
        >>> import jax.numpy as jnp
        >>> from kerax.optimizers import SGD
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> opt.build([jnp.ones(2)])
        >>> params, opt_vars = opt.stateless_apply(opt.variables, [jnp.ones(2)], [jnp.ones(2)])
        >>> [round(v, 6) for v in params[0].tolist()], len(opt_vars)
        ([0.9, 0.9], 3)
        """
        if type(optimizer_variables) not in (list, tuple):  # an optax state (a NamedTuple)
            return self.apply(grads, optimizer_variables, trainable_variables)
        params = [value_of(v) for v in trainable_variables]
        template = jax.eval_shape(self.init, params)
        entries = self._layout(template, [(str(i), (i,)) for i in range(len(params))])
        state = ov.from_list(entries, list(optimizer_variables), template)
        new_params, state = self.apply([value_of(g) for g in grads], state, params)
        return list(new_params), ov.to_list(entries, state)

    def scale_loss(self, loss, opt_state=None):
        """Multiplies `loss` by `loss_scale_factor` (if set) before differentiation."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def finalize_variable_values(self, params, opt_state=None):
        """With `use_ema=True`, returns `params` replaced by their moving averages.

        Keras overwrites the model variables in place at the end of `fit`; here the new
        params are returned (pure). Without EMA, `params` is returned unchanged.
        """
        if not self.use_ema:
            return params
        state = self.state if opt_state is None else opt_state
        inner = find_hyper_state(state).inner_state
        return inner["average"]

    def get_config(self):
        lr = self._initial_learning_rate
        if callable(lr):
            lr = serialization_lib.serialize_keras_object(lr)
        elif self.state is not None:
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
            config["learning_rate"] = serialization_lib.deserialize_keras_object(
                config["learning_rate"], module_objects=schedules.ALL,
                custom_objects=custom_objects,
            )
        return cls(**config)


def _clip_by_norm(g, clipnorm):
    """Keras' `clipnorm` for one tensor: `g * clipnorm / max(norm(g), clipnorm)`."""
    l2sum = jnp.sum(jnp.square(g))
    pred = l2sum > 0
    l2norm = jnp.where(pred, jnp.sqrt(jnp.where(pred, l2sum, 1.0)), l2sum)
    return g * clipnorm / jnp.maximum(l2norm, clipnorm)
