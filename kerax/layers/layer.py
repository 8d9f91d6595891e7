"""The `Layer` base: Keras' configuration object around two pure functions.

Every layer offers the DESIGN.md contract::

    variables = layer.init(key, *sample_inputs)   # {"params": tree, "state": tree}
    outputs, state = layer.apply(variables, *inputs, training=False, rng=None)

Built-in layers are written in the explicit style: `build_variables(key, *input_specs)`
(the inputs as `jax.ShapeDtypeStruct` objects) returns `(params, state)` and
`forward(params, state, *inputs, training, rng)` returns `(outputs, state)`. `__call__`
dispatches on its context: symbolic inputs record a functional node, a call inside a
parent's `apply` uses the parent's pytree (see `kerax.backend.apply_scope`), and a call on
concrete arrays runs eagerly and keeps the layer's variables on the object, as Keras does.

This module is the contract; each other concern of Keras' `Layer` is a mixin in its own
module: `keras_style` (`build`/`add_weight`/`call`), `weight_order` (Keras' weight lists
and variable attributes), `eager_shell` (stored variables, eager calls, graph views),
`policies` (dtype and remat policies), `layer_config` (config round trip) and
`weight_rules` (regularizers, constraints and layer losses).
"""

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax import regularizers
from kerax.backend import apply_scope as scope_lib
from kerax.layers import (build_record, layer_config, policies, symbolic_call, variable_list,
                          weight_order, weight_rules)
from kerax.layers.eager_shell import EagerShell
from kerax.layers.input_spec import InputSpec, assert_input_compatibility
from kerax.layers.keras_style import KerasStyle, record_hand_build
from kerax.layers.stateless_call import StatelessCall
from kerax.layers.layer_config import LayerConfig
from kerax.layers.policies import DTypePolicyMixin
from kerax.layers.weight_order import WeightOrder
from kerax.random.seed_generator import SeedGenerator
from kerax.utils import naming

# The names of the layers whose `init` is running (Keras' name scopes at build time):
# a variable's `path` is `"/".join(names)/variable_name`, as Keras' `variable.path`.
_BUILD_PATH = []


def shape_of(x):
    """The static shape of an array, a ShapeDtypeStruct or a KerasTensor."""
    return tuple(x.shape)


def shapes_of(tree):
    """The static shapes in a pytree of arrays / `jax.ShapeDtypeStruct` objects (tuples).

    `build_variables` receives `jax.ShapeDtypeStruct` objects; a layer that needs only the shapes
    reads them with this.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> shapes_of([jax.ShapeDtypeStruct((2, 3), jnp.float32), jnp.ones((4,))])
    [(2, 3), (4,)]
    """
    return jax.tree_util.tree_map(shape_of, tree, is_leaf=_is_array_like)


def _spec(x):
    if isinstance(x, jax.ShapeDtypeStruct):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return jax.ShapeDtypeStruct(tuple(x.shape), jnp.dtype(x.dtype))
    x = np.asarray(x)
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


def _is_array_like(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


class Layer(KerasStyle, WeightOrder, EagerShell, StatelessCall, DTypePolicyMixin,
            LayerConfig):
    """Base class of all layers: configuration plus pure `init` / `apply`.

    Args:
        trainable: whether the layer's params are updated by training.
        dtype: the dtype of the layer's variables (default `kerax.config.floatx()`).
        name: the layer's name; unique names are generated as Keras does (`dense_1`).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = Dense(3)
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
    >>> y, state = layer.apply(variables, jnp.ones((2, 4)))
    >>> y.shape
    (2, 3)
    """

    _keras_module = "keras.layers"

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None,
                 autocast=True, name=None, **kwargs):
        layer_config.check_kwargs(self, kwargs)
        object.__setattr__(self, "_sublayers", {})
        self.name = name or naming.auto_name(type(self).__name__)
        self.__dict__["_trainable"] = bool(trainable)
        self._init_policies(dtype, autocast)
        self.built = False
        self.supports_masking = hasattr(type(self), "compute_mask")  # as Keras decides
        self.input_spec = None
        self._variables = None
        self._build_shapes = None
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._batch_input_shape = layer_config.batch_input_shape(kwargs)
        self._initial_weights = kwargs.get("weights")

    @property
    def trainable(self):
        """Whether the layer's weights are trained; setting it sets every sub-layer's
        (Keras: freezing a nested base model freezes all its layers)."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        self.__dict__["_trainable"] = bool(value)
        for child in self._children().values():
            child.trainable = value

    def __setattr__(self, name, value):
        if isinstance(value, SeedGenerator):
            # Keras tracks a layer's SeedGenerators: their state lives in its state pytree.
            self.__dict__.setdefault("_seed_generators", {})[name] = value
            value._attach(self, name)
        elif name in self.__dict__.get("_seed_generators", {}):
            del self._seed_generators[name]
        if not name.startswith("_") and _holds_layers(value):
            self.__dict__.setdefault("_sublayers", {})[name] = value
        elif name in self.__dict__.get("_sublayers", {}):
            del self._sublayers[name]
        object.__setattr__(self, name, value)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _dispatch_overrides(cls)

    def _children(self):
        """Sub-layers keyed by the name their variables are stored under."""
        out = {}
        for attr, value in self._sublayers.items():
            for suffix, layer in _flatten_layers(value):
                out[attr + suffix] = layer
        return out

    def _is_container(self):
        """Whether sub-layers hold the variables (they apply the dtype policy themselves)."""
        return bool(self._children())

    # ------------------------------------------------------------------ the contract --
    def init(self, key: jax.Array, *inputs: Any, **kwargs) -> dict[str, Any]:
        """Creates the layer's variables `{"params": ..., "state": ...}` (pure).

        The layer object is left as it was: Keras' build record (`built`, the weight order,
        the build shapes) is written by the stateful shell that builds the layer (an eager
        call, `build()`, a symbolic call), see `kerax.layers.build_record`.

        Args:
            key: a `jax.random.PRNGKey`.
            *inputs: sample inputs (arrays or `jax.ShapeDtypeStruct` objects); only their shapes
                and dtypes are used.

        Returns:
            A dict with the `"params"` and `"state"` pytrees.
        """
        with build_record.transaction(self):  # the shell, not `init`, keeps the record
            specs = jax.tree_util.tree_map(_spec, inputs, is_leaf=_is_array_like)
            shapes = jax.tree_util.tree_map(shape_of, specs, is_leaf=_is_array_like)
            if self.input_spec is not None:
                assert_input_compatibility(self, self.input_spec, specs[0] if specs else None)
            self._init_specs = specs
            _BUILD_PATH.append(self.name)
            try:
                self.__dict__["_path_prefix"] = "/".join(_BUILD_PATH)
                params, state = self.build_variables(key, *specs)
            finally:
                _BUILD_PATH.pop()
            self.__dict__["_init_empty"] = not jax.tree_util.tree_leaves((params, state))
            seeds = self.__dict__.get("_seed_generators", {})
            self._weight_names = (tuple(params), tuple(n for n in state if n not in seeds))
            weight_order.note_creation_order(self, self._weight_names, self._path_prefix)
            self._build_shapes = shapes
            self.built = True
            if self.input_spec is not None:
                assert_input_compatibility(self, self.input_spec, specs[0] if specs else None)
        return {"params": params, "state": state}

    def apply(self, variables: Mapping[str, Any], *inputs: Any, training: bool = False,
              rng: jax.Array | None = None, **kwargs) -> tuple[Any, Any]:
        """Runs the layer: returns `(outputs, state)` (pure; jit/grad/vmap work on it).

        Args:
            variables: `{"params": ..., "state": ...}` as returned by `init`.
            *inputs: the inputs.
            training: whether to run in training mode (Dropout, BatchNormalization).
            rng: a `jax.random.PRNGKey` for random layers in training mode; without one
                they draw from their seed state in `variables["state"]` (Keras' way).
        """
        variables = variable_list.as_tree(variables)  # `layer.variables`: Keras' list
        if self.input_spec is not None and inputs:
            assert_input_compatibility(self, self.input_spec, inputs[0])
        if not self.built and variables and inputs:
            build_record.check_inputs(self, variables, inputs)
        params = variables.get("params", {}) if variables else {}
        state = variables.get("state", {}) if variables else {}
        if not self._is_container():  # the dtype policy wraps leaf layers' pure forward
            params, (inputs, kwargs) = policies.autocast(self, params, (inputs, kwargs))
        # A quantized policy runs the layer's quantized forward (Keras' `quantized_call`).
        forward = self.forward if self.quantization_mode is None else self.quantized_forward
        if self.__dict__.get("_remat_mode") is not None:
            forward = policies.rematerialized(self, forward, params, state, inputs, training,
                                              rng, kwargs)
        outputs, state = forward(params, state, *inputs, training=training, rng=rng,
                                 **kwargs)
        if self.activity_regularizer is not None and scope_lib.current_record() is not None:
            for out in jax.tree_util.tree_leaves(outputs):
                scope_lib.add_loss(weight_rules.activity_penalty(self.activity_regularizer, out),
                                   rows_masked=True)
        return outputs, state

    def compute_output_shape(self, *input_shapes):
        """Output shape(s) for input shape(s), derived with `jax.eval_shape` over `apply`."""
        specs = [jax.tree_util.tree_map(
            lambda s: jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in s),
                                           self._dtype_policy.variable_dtype),
            shp, is_leaf=_is_shape) for shp in input_shapes]
        variables = jax.eval_shape(self.init, jax.random.PRNGKey(0), *specs)
        out = jax.eval_shape(lambda v, *a: self.apply(v, *a)[0], variables, *specs)
        batch_none = any(shp and shp[0] is None for shp in input_shapes if _is_shape(shp))
        return jax.tree_util.tree_map(
            lambda o: ((None,) + tuple(o.shape[1:])) if batch_none and o.ndim else tuple(o.shape),
            out)

    def __call__(self, *args, **kwargs):
        if scope_lib.any_symbolic((args, kwargs)):
            return symbolic_call.call_symbolic(self, args, kwargs)
        scope = scope_lib.current()
        if scope is not None:
            return scope.call_child(self, args, kwargs)
        return self._call_eager(args, kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _defining(cls, name):
    """The position in `cls.__mro__` of the class that defines `name` (KerasStyle's
    defaults excluded), or None."""
    for i, klass in enumerate(cls.__mro__):
        if name in klass.__dict__ and klass is not KerasStyle:
            return i
    return None


def _dispatch_overrides(cls):
    """A subclass of a built-in (explicit-style) layer that overrides `call` or `build`
    runs them, as Python does in Keras: its `forward` becomes the Keras-style `call` path
    (and `build_variables` the `build` path), while `super().call(x)` / `super().build(s)`
    reach the built-in layer's own `forward` / `build_variables`."""
    forward, call = _defining(cls, "forward"), _defining(cls, "call")
    if forward is not None and call is not None and call < forward:
        cls._explicit_forward = cls.__mro__[forward].__dict__["forward"]
        cls.forward = KerasStyle.forward
    record_hand_build(cls)
    variables, build = _defining(cls, "build_variables"), _defining(cls, "build")
    if variables is not None and build is not None and build < variables:
        cls._explicit_build_variables = cls.__mro__[variables].__dict__["build_variables"]
        cls.build_variables = KerasStyle.build_variables


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _holds_layers(value):
    if isinstance(value, Layer):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_layers(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_layers(v) for v in value.values())
    return False


def _flatten_layers(value, suffix=""):
    if isinstance(value, Layer):
        yield suffix, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _flatten_layers(v, f"{suffix}_{i}")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten_layers(v, f"{suffix}_{k}")


__all__ = ["Layer", "InputSpec"]
