"""`JaxLayer`: a pure JAX function `call_fn(params, state, rng, inputs, training)` as a layer.

The user's `params` / `state` pytrees (any structure `jax.tree_util` knows) are stored in
the layer's variables as flat dicts keyed by each leaf's path (`"dense/kernel"`), in
`jax.tree_util` flattening order, which is Keras 3's weight order. Leaves that are not
numbers (strings, functions: configuration of the model) stay on the layer and are put
back into the tree handed to `call_fn`.
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers.core import lambda_layer
from kerax.layers.layer import Layer, _is_shape, shapes_of
from kerax.random.seed_generator import SeedGenerator, next_seed
from kerax.backend.naming import key_path_str
from kerax.serialization import serialization_lib

_CALL_FN_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_FN_ARGS = ("rng", "inputs", "training")
_SEED = "seed_generator"


def _fn_arguments(layer_name, fn, fn_name, allowed):
    """The argument names of `fn`, checked against `allowed` (`inputs` is required)."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"JaxLayer '{layer_name}': cannot read the signature of `{fn_name}` ({fn!r}). "
            f"Pass a Python function whose arguments are named among "
            f"{', '.join(f'`{a}`' for a in allowed)}."
        ) from e
    if "inputs" not in names:
        raise ValueError(
            f"Missing required argument in `{fn_name}`: `inputs`. JaxLayer '{layer_name}' "
            f"passes arguments by name; `{fn_name}` takes ({', '.join(names)}). Rename its "
            "input argument to `inputs` (wrap it: `lambda params, inputs: f(params, inputs)`)."
        )
    for name in names:
        if name not in allowed:
            raise ValueError(
                f"Unsupported argument in `{fn_name}`: `{name}`, supported arguments are "
                f"{', '.join(f'`{a}`' for a in allowed)}. JaxLayer '{layer_name}' passes "
                f"arguments by these names only; wrap `{fn_name}` in a function with "
                "those names."
            )
    return names


def _is_number(x):
    return isinstance(x, (jax.Array, np.ndarray, np.generic, bool, int, float))


def _leaf_value(x, float_dtype):
    """A leaf as a weight array: floats take the layer's dtype (as Keras does)."""
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        if isinstance(x, bool):
            return jnp.asarray(x, jnp.bool_)
        return jnp.asarray(x, jnp.int32 if isinstance(x, int) else float_dtype)
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.asarray(x, float_dtype)
    return jnp.asarray(x)


def _split_tree(tree, float_dtype, reserved=()):
    """`tree -> (flat {path: array}, template)`; non-number leaves stay in the template."""
    pairs, treedef = jax.tree_util.tree_flatten_with_path(tree)
    flat, slots = {}, []
    for path, leaf in pairs:
        if not _is_number(leaf):
            slots.append((None, leaf))
            continue
        base = key_path_str(path) or "value"
        name, i = base, 1
        while name in flat or name in reserved:
            name, i = f"{base}_{i}", i + 1
        flat[name] = _leaf_value(leaf, float_dtype)
        slots.append((name, None))
    return flat, (treedef, tuple(slots))


def _join_tree(template, flat):
    """Inverse of `_split_tree`: the user's tree with the arrays of `flat`."""
    treedef, slots = template
    return jax.tree_util.tree_unflatten(
        treedef, [flat[name] if name is not None else static for name, static in slots])


def _from_keras_lambda(config):
    """Keras 3 writes a lambda as `{"value": (code, defaults, closure)}`; kerax's Lambda as
    `{"code", "defaults", "closure"}` (same base64 marshal): read both."""
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        inner = config.get("config", {})
        if "value" in inner and "code" not in inner:
            code, defaults, closure = (list(inner["value"]) + [None, None])[:3]
            return {"class_name": "__lambda__",
                    "config": {"code": code, "defaults": defaults, "closure": closure}}
    return config


def _with_layer_name(error, message):
    """`error` re-raised with `message` in front (same type when it can be rebuilt)."""
    try:
        new = type(error)(f"{message}{error}")
    except (TypeError, ValueError, AttributeError):  # exotic constructors: add a note
        error.add_note(message.rstrip(": ") + ".")
        return error
    return new


class JaxLayer(Layer):
    """Wraps a pure JAX function as a layer (Keras 3's `keras.layers.JaxLayer`).

    `call_fn` takes arguments with these exact names, in any order: `params` (the
    trainable weights), `state` (optional, non-trainable weights), `rng` (optional, a
    key in training mode, `None` at inference), `inputs` (required: an array or a pytree
    of arrays) and `training` (optional, a bool). With `state` it returns
    `(outputs, new_state)`, otherwise `outputs`.

    Weights come either from `params` / `state` (pytrees of arrays) or from
    `init_fn(rng, inputs, training)` (any of those names, `inputs` required), called at
    build time with ones shaped like the inputs and `training=True`; it returns `params`,
    or `(params, state)` when `call_fn` takes `state`. Array and number leaves become
    weights (floats in the layer's dtype); other leaves (strings, ...) are passed through
    unchanged. `get_weights()` lists params then state, each in `jax.tree_util` order.

    The `rng` of `call_fn` comes, as in Keras, from the layer's seed state
    (`state["seed_generator"]`, seeded by `seed`), which each training call advances; so
    `apply` is pure and gives Keras' numbers for the same `seed`. The `rng` argument of
    `apply` is not used by this layer.

    Args:
        call_fn: the model function (see above).
        init_fn: optional function creating the weights for the input shape.
        params: optional pytree of the trainable weights.
        state: optional pytree of the non-trainable weights.
        seed: optional int seed for the `rng` passed to `call_fn`.
        native_serialization_platforms: accepted and kept in the config for Keras
            compatibility (Keras uses it on its TensorFlow backend only).

    Raises:
        ValueError: `call_fn` or `init_fn` lacks `inputs` or has another argument name,
            or `call_fn` takes `params`/`state` and neither `init_fn`, `params` nor `state`
            is given.

    Example:
    >>> import jax.numpy as jnp, numpy as np
    >>> def call_fn(params, inputs):
    ...     return inputs @ params["w"] + params["b"]
    >>> layer = JaxLayer(call_fn, params={"w": np.ones((3, 2)), "b": np.zeros(2)})
    >>> layer(np.ones((1, 3))).tolist()
    [[3.0, 3.0]]
    >>> [w.shape for w in layer.get_weights()]
    [(2,), (3, 2)]
    """

    def __init__(self, call_fn, init_fn=None, params=None, state=None, seed=None,
                 native_serialization_platforms=None, **kwargs):
        super().__init__(**kwargs)
        self.call_fn = call_fn
        self.init_fn = init_fn
        self.seed = seed
        self.native_serialization_platforms = native_serialization_platforms
        self.call_fn_arguments = _fn_arguments(self.name, call_fn, "call_fn", _CALL_FN_ARGS)
        self.call_fn_has_params = "params" in self.call_fn_arguments
        self.call_fn_has_state = "state" in self.call_fn_arguments
        if init_fn is None and params is None and state is None and (
                self.call_fn_has_params or self.call_fn_has_state):
            raise ValueError(
                f"`init_fn`, `params` and `state` cannot all be `None` when `call_fn` "
                f"takes a `params` or a `state` argument (JaxLayer '{self.name}'). Pass the "
                "initial weights as `params=` (and `state=`), or an `init_fn(rng, inputs)` "
                "that creates them."
            )
        self.init_fn_arguments = (
            _fn_arguments(self.name, init_fn, "init_fn", _INIT_FN_ARGS) if init_fn else None)
        if "rng" in self.call_fn_arguments:
            self.seed_generator = SeedGenerator(seed)
        self._templates = None  # the structure of `params`/`state` given here
        self._given = None
        if params is not None or state is not None:
            p, s, self._templates = self._split(params, state)
            self._given = (p, s)
            s = {**s, **self._seed_state()}
            self._variables = {"params": dict(p), "state": s}
            self._weight_names = (tuple(p), tuple(n for n in s if n != _SEED))
            self.built = True

    # -------------------------------------------------------------------- weights --
    def _split(self, params, state):
        """`(flat params, flat state, templates)` of the user's trees."""
        flat_p, t_p = _split_tree(params, self.dtype)
        flat_s, t_s = _split_tree(state, self.dtype, reserved=(_SEED,))
        return flat_p, flat_s, {"params": t_p, "state": t_s}

    def _templates_for(self, input_shapes):
        """The structure of the user's `params`/`state` trees for inputs of these shapes:
        the given trees', else `init_fn`'s output structure, found by tracing it
        abstractly (`jax.eval_shape`), so `apply` needs no earlier `init` on this object."""
        if self._templates is not None:
            return self._templates
        if not self._needs_init_fn():
            return self._split(None, None)[2]
        cache = self.__dict__.setdefault("_template_cache", {})
        key = repr(input_shapes)
        if key not in cache:
            found = {}

            def trace(rng):
                found["templates"] = self._split(*self._run_init_fn(rng, input_shapes))[2]
                return 0

            jax.eval_shape(trace, jax.random.PRNGKey(0))
            cache[key] = found["templates"]
        return cache[key]

    def _seed_state(self):
        gen = self.__dict__.get("_seed_generators", {}).get(_SEED)
        return {_SEED: jnp.asarray(gen._state, jnp.uint32)} if gen is not None else {}

    def _needs_init_fn(self):
        return self._given is None and (self.call_fn_has_params or self.call_fn_has_state)

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        if self._needs_init_fn():
            params, state = self._run_init_fn(key, input_shapes)
            flat_p, flat_s, _ = self._split(params, state)
        elif self._given is not None:
            flat_p, flat_s = self._given
        else:
            flat_p, flat_s, _ = self._split(None, None)
        return dict(flat_p), {**flat_s, **self._seed_state()}

    def _run_init_fn(self, key, input_shapes):
        shapes = input_shapes[0] if len(input_shapes) == 1 else list(input_shapes)
        inputs = jax.tree_util.tree_map(
            lambda s: jnp.ones(tuple(1 if d is None else d for d in s)), shapes,
            is_leaf=_is_shape)
        key = key if isinstance(key, jax.Array) else jnp.asarray(key, jnp.uint32)
        values = {"rng": key, "inputs": inputs, "training": True}
        try:
            result = self.init_fn(*[values[a] for a in self.init_fn_arguments])
        except Exception as e:
            raise _with_layer_name(
                e, f"JaxLayer '{self.name}': `init_fn` failed for inputs of shape "
                   f"{_shapes_str(inputs)}: ") from e
        if not self.call_fn_has_state:
            return result, None
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise ValueError(
                f"JaxLayer '{self.name}': `call_fn` takes a `state` argument, so `init_fn` "
                "must return a tuple `(params, state)`. Received a "
                f"{type(result).__name__}. Return `(initial_params, initial_state)`."
            )
        return result[0], result[1]

    # -------------------------------------------------------------------- forward --
    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        templates = self._templates_for(
            (jax.tree_util.tree_map(lambda x: tuple(jnp.shape(x)), inputs),))
        new_state = dict(state)
        values = {"inputs": inputs, "training": training,
                  "params": _join_tree(templates["params"], params),
                  "state": _join_tree(templates["state"], state), "rng": None}
        if "rng" in self.call_fn_arguments and training:
            if _SEED not in state:
                raise ValueError(
                    f"JaxLayer '{self.name}': `call_fn` takes `rng`, so the layer's state "
                    f"needs its seed state '{_SEED}' (the `rng` of training calls). Pass "
                    f"the variables returned by `init`; received state keys {sorted(state)}."
                )
            values["rng"], new_state[_SEED] = next_seed(state[_SEED])
        try:
            result = self.call_fn(*[values[a] for a in self.call_fn_arguments])
        except Exception as e:
            raise _with_layer_name(
                e, f"JaxLayer '{self.name}': `call_fn` failed for inputs of shape "
                   f"{_shapes_str(inputs)}: ") from e
        if not self.call_fn_has_state:
            return result, new_state
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise ValueError(
                f"JaxLayer '{self.name}': `call_fn` takes a `state` argument, so it must "
                f"return a tuple `(outputs, new_state)`. Received a {type(result).__name__}."
            )
        outputs, returned = result
        treedef, slots = templates["state"]
        leaves, got = jax.tree_util.tree_flatten(returned)
        if got != treedef:
            raise ValueError(
                f"Structure mismatch in JaxLayer '{self.name}': the state returned by "
                f"`call_fn` has structure {got}, but the state at initialization has "
                f"structure {treedef}. Return a new state shaped like the initial one."
            )
        for (name, _), leaf in zip(slots, leaves):
            if name is not None:
                new_state[name] = jnp.asarray(leaf).astype(state[name].dtype)
        return outputs, new_state

    @property
    def params(self):
        """The current trainable weights in `call_fn`'s structure (None before building).

        Keras holds Variables in this tree; kerax holds the arrays (read-only: use
        `set_weights` or `variables` to change them).
        """
        return self._user_tree("params")

    @property
    def state(self):
        """The current non-trainable weights in `call_fn`'s structure (None before
        building), without the layer's seed state."""
        return self._user_tree("state")

    def _user_tree(self, collection):
        if self._variables is None:
            return None
        templates = self._templates_for(self._build_shapes or ())
        return _join_tree(templates[collection], self._variables[collection])

    # ------------------------------------------------------------------ config --
    def get_config(self):
        dump = lambda_layer._dump_function
        return {
            **super().get_config(),
            "call_fn": dump(self.call_fn),
            "init_fn": dump(self.init_fn) if self.init_fn is not None else None,
            "native_serialization_platforms": self.native_serialization_platforms,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds the layer; a Python lambda needs `safe_mode=False` (it runs code).

        As in Keras, `params` and `state` are not part of the config: the rebuilt layer
        needs an `init_fn` (or weights loaded later into a layer built with `params`).
        """
        if safe_mode is None:
            safe_mode = serialization_lib.in_safe_mode()
        config = dict(config)
        for name in ("call_fn", "init_fn"):
            if config.get(name) is not None:
                config[name] = lambda_layer._load_function(
                    _from_keras_lambda(config[name]), safe_mode, custom_objects)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(**config)


def _shapes_str(inputs):
    shapes = jax.tree_util.tree_map(lambda x: tuple(np.shape(x)), inputs)
    return str(shapes)


__all__ = ["JaxLayer"]
