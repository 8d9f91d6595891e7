"""The `Layer` base: Keras' configuration object around two pure functions.

Every layer offers the DESIGN.md contract::

    variables = layer.init(key, *sample_inputs)   # {"params": tree, "state": tree}
    outputs, state = layer.apply(variables, *inputs, training=False, rng=None)

Built-in layers are written in the explicit style: `build_variables(key, *input_shapes)`
returns `(params, state)` and `forward(params, state, *inputs, training, rng)` returns
`(outputs, state)`. `__call__` dispatches on its context: symbolic inputs record a
functional node, a call inside a parent's `apply` uses the parent's pytree (see
`kerax.backend.apply_scope`), and a call on concrete arrays runs eagerly and keeps the layer's
variables on the object, as Keras does.
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import apply_scope as scope_lib
from kerax.backend import config as _config
from kerax.backend import random_state
from kerax.layers import keras_mask
from kerax.layers import symbolic_call
from kerax.layers.input_spec import InputSpec, assert_input_compatibility
from kerax.layers.variable_view import VariableView as _VariableView
from kerax.layers.variable_view import views_for
from kerax.random.seed_generator import SeedGenerator
from kerax.utils import naming

# The names of the layers whose `init` is running (Keras' name scopes at build time):
# a variable's `path` is `"/".join(names)/variable_name`, as Keras' `variable.path`.
_BUILD_PATH = []

_ALLOWED_KWARGS = {"input_shape", "input_dim", "batch_input_shape", "batch_size", "weights"}


def shape_of(x):
    """The static shape of an array, a ShapeDtypeStruct or a KerasTensor."""
    return tuple(x.shape)


def _spec(x):
    if isinstance(x, jax.ShapeDtypeStruct):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return jax.ShapeDtypeStruct(tuple(x.shape), jnp.dtype(x.dtype))
    x = np.asarray(x)
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


def _is_array_like(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


class Layer:
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
        unknown = set(kwargs) - _ALLOWED_KWARGS
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword argument(s) {sorted(unknown)}."
            )
        object.__setattr__(self, "_sublayers", {})
        self.name = name or naming.auto_name(type(self).__name__)
        self.__dict__["_trainable"] = bool(trainable)
        from kerax import dtype_policies

        # The policy is fixed at construction (the global one unless `dtype` is given).
        self._dtype_policy = dtype_policies.get(dtype)
        self._dtype = self._dtype_policy.name if dtype is not None else None
        self.autocast = autocast
        self.built = False
        self.supports_masking = hasattr(type(self), "compute_mask")  # as Keras decides
        self.input_spec = None
        self._variables = None
        self._build_shapes = None
        self._weight_names = ((), ())
        if activity_regularizer is not None:
            from kerax import regularizers

            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        # Keras' first-layer shorthand: Dense(8, input_shape=(4,)).
        shape = kwargs.get("batch_input_shape")
        if shape is None and kwargs.get("input_shape") is not None:
            shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        if shape is None and kwargs.get("input_dim") is not None:
            shape = (kwargs.get("batch_size"), kwargs["input_dim"])
        self._batch_input_shape = tuple(shape) if shape is not None else None
        self._initial_weights = kwargs.get("weights")
        from kerax.backend import remat

        self._remat_mode = remat.get_current_remat_mode()  # as Keras: fixed at creation

    # ----------------------------------------------------------------- attributes --
    def __getattr__(self, name):
        # Keras exposes each variable as an attribute named like it (`dense.kernel`,
        # `bn.moving_mean`, `norm.mean`): a stable view on the layer's variables.
        prop = getattr(type(self), name, None)
        if isinstance(prop, property):  # a property that raised: let its own error show
            return prop.fget(self)
        if not name.startswith("__"):
            for coll in ("params", "state"):
                tree = scope_lib.variables_for(self, coll)
                if tree is not None and name in tree and _is_leaf(tree[name]):
                    return self._view(coll, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _view(self, collection, name):
        """The one `VariableView` of this layer's variable `name` (created on first use)."""
        generator = self.__dict__.get("_seed_generators", {}).get(name)
        if generator is not None and collection == "state":
            return generator.state  # Keras lists the generator's own `state` variable
        views = self.__dict__.setdefault("_views", {})
        view = views.get((collection, name))
        if view is None:
            view = views[(collection, name)] = _VariableView(self, collection, name)
        return view

    def _built_view(self, collection, name):
        """`_view` for a built-in layer's attribute (`dense.kernel`): AttributeError
        before the layer is built, as in Keras."""
        tree = scope_lib.variables_for(self, collection)
        if tree is None or name not in tree:
            raise AttributeError(
                f"Layer '{self.name}' ({type(self).__name__}) is not built yet, so it has no "
                f"`{name}`. Call it on an input (or `build(input_shape)`) first."
            )
        return self._view(collection, name)

    def _own_variables_tree(self, collection):
        """This layer's own stored `collection` dict (not its children's), or None."""
        own = self.__dict__.get("_own_variables")
        return None if own is None else own[collection]

    def _assign_own(self, collection, name, value):
        """Writes one of this layer's own stored variables (a view's eager `assign`)."""
        own = self.__dict__.get("_own_variables")
        if own is None or name not in own[collection]:
            raise ValueError(
                f"Layer '{self.name}' has no built variable '{name}' to assign. Build the "
                "layer (call it on an input) before assigning its variables."
            )
        own = dict(own)
        own[collection] = {**own[collection], name: value}
        self.__dict__["_own_variables"] = own
        if collection == "state" and name in self.__dict__.get("_seed_generators", {}):
            self._seed_generators[name]._state = value

    def _variable_path_prefix(self):
        """The layer names a variable of this layer is under in Keras' `variable.path`."""
        return self.__dict__.get("_path_prefix") or self.name

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
        elif name in self.__dict__.get("_seed_generators", {}):
            del self._seed_generators[name]
        if not name.startswith("_") and _holds_layers(value):
            self.__dict__.setdefault("_sublayers", {})[name] = value
        elif name in self.__dict__.get("_sublayers", {}):
            del self._sublayers[name]
        object.__setattr__(self, name, value)

    @property
    def dtype(self):
        """The dtype of the layer's variables (its policy's `variable_dtype`)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (its policy's `compute_dtype`)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def dtype_policy(self):
        """The layer's `kerax.dtype_policies.DTypePolicy`."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        from kerax import dtype_policies

        self._dtype_policy = dtype_policies.get(value)
        self._dtype = self._dtype_policy.name

    # --------------------------------------------------------- explicit-style hooks --
    def build_variables(self, key, *input_shapes):
        """Creates `(params, state)` for inputs of the given shapes.

        Built-in layers override this. The default runs the Keras-style path: the user's
        `build()` (whose `add_weight` calls create the arrays), then one abstract pass of
        `call()` that creates the variables of sub-layers stored as attributes.
        """
        sc = scope_lib.ApplyScope(self, {}, {}, key=key, initializing=True)
        with sc:
            if type(self).build is not Layer.build:
                self.build(*input_shapes)
            if self._has_call() and self._children():
                specs = self._init_specs
                jax.eval_shape(lambda *xs: self._run_call(xs, {}, False), *specs)
        for name, generator in self.__dict__.get("_seed_generators", {}).items():
            sc.state[name] = generator._state
        return sc.params, sc.state

    def forward(self, params, state, *inputs, training=False, rng=None, **kwargs):
        """Maps inputs to `(outputs, state)`, purely.

        Built-in layers override this. The default runs the Keras-style `call()` with its
        weights and sub-layers resolved against `params` and `state`.
        """
        if not self._has_call():
            raise NotImplementedError(
                f"Layer {type(self).__name__} must implement `call` (Keras style) or "
                "`build_variables` and `forward` (explicit style)."
            )
        sc = scope_lib.ApplyScope(self, params, state, training=training, rng=rng)
        with sc:
            outputs = self._run_call(inputs, kwargs, training)
        return outputs, sc.state

    def _has_call(self):
        return type(self).call is not Layer.call

    def call(self, *args, **kwargs):
        """Keras-style forward computation; override it in custom layers."""
        raise NotImplementedError

    def _run_call(self, inputs, kwargs, training):
        import inspect

        sig = inspect.signature(self.call).parameters
        kwargs = dict(kwargs)
        if "training" in sig:
            kwargs["training"] = training
        return self.call(*inputs, **kwargs)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Creates a weight (Keras' idiom, used in `build`): returns a variable view.

        Trainable weights go to `params`; non-trainable ones to `state`, where `call` may
        update them with `.assign()`.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Layer
        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, x):
        ...         return x * self.w
        >>> Scale()(np.ones((2, 3))).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
        """
        from kerax import initializers

        dtype = jnp.dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
        init = initializers.get(initializer)
        shape = tuple(shape or ())
        coll = "params" if trainable else "state"
        sc = scope_lib.scope_for(self)
        taken = set(sc.params) | set(sc.state) if sc is not None else set()
        if sc is None and self._variables is not None:
            taken = set(self._variables["params"]) | set(self._variables["state"])
        if name is None:
            name, i = "variable", 1
            while name in taken:
                name, i = f"variable_{i}", i + 1
        if sc is not None and sc.initializing:
            key = scope_lib.name_key(sc.key, name)
            with jax.ensure_compile_time_eval():
                sc.__dict__[coll][name] = init(shape, dtype, key=key)
        else:
            variables = self._variables or {"params": {}, "state": {}}
            variables = {c: dict(v) for c, v in variables.items()}
            variables[coll][name] = init(shape, dtype, key=random_state.next_key())
            self._variables = variables
            pn, sn = self._weight_names
            self._weight_names = (pn + (name,), sn) if trainable else (pn, sn + (name,))
            self.built = True
        self.__dict__.setdefault("_weight_regularizers", {})
        self.__dict__.setdefault("_weight_constraints", {})
        if regularizer is not None:
            from kerax import regularizers

            self._weight_regularizers[name] = regularizers.get(regularizer)
        if constraint is not None:
            from kerax import constraints

            self._weight_constraints[name] = constraints.get(constraint)
        return self._view(coll, name)

    def compute_output_shape(self, *input_shapes):
        """Output shape(s) for input shape(s), derived with `jax.eval_shape` over `apply`."""
        specs = [jax.tree_util.tree_map(
            lambda s: jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in s), self.dtype),
            shp, is_leaf=_is_shape) for shp in input_shapes]
        variables = jax.eval_shape(self.init, jax.random.PRNGKey(0), *specs)
        out = jax.eval_shape(lambda v, *a: self.apply(v, *a)[0], variables, *specs)
        batch_none = any(shp and shp[0] is None for shp in input_shapes if _is_shape(shp))
        return jax.tree_util.tree_map(
            lambda o: ((None,) + tuple(o.shape[1:])) if batch_none and o.ndim else tuple(o.shape),
            out)

    # ------------------------------------------------------------------ the contract --
    def init(self, key, *inputs, **kwargs):
        """Creates the layer's variables `{"params": ..., "state": ...}` (pure).

        Args:
            key: a `jax.random.PRNGKey`.
            *inputs: sample inputs (arrays or `jax.ShapeDtypeStruct`s); only their shapes
                and dtypes are used.

        Returns:
            A dict with the `"params"` and `"state"` pytrees.
        """
        specs = jax.tree_util.tree_map(_spec, inputs, is_leaf=_is_array_like)
        shapes = jax.tree_util.tree_map(shape_of, specs, is_leaf=_is_array_like)
        if self.input_spec is not None:
            assert_input_compatibility(self, self.input_spec, specs[0] if specs else None)
        self._init_specs = specs
        _BUILD_PATH.append(self.name)
        try:
            self.__dict__["_path_prefix"] = "/".join(_BUILD_PATH)
            params, state = self.build_variables(key, *shapes)
        finally:
            _BUILD_PATH.pop()
        self.__dict__["_init_empty"] = not jax.tree_util.tree_leaves((params, state))
        seeds = self.__dict__.get("_seed_generators", {})
        self._weight_names = (tuple(params), tuple(n for n in state if n not in seeds))
        self._build_shapes = shapes
        self.built = True
        if self.input_spec is not None:
            assert_input_compatibility(self, self.input_spec, specs[0] if specs else None)
        return {"params": params, "state": state}

    def apply(self, variables, *inputs, training=False, rng=None, **kwargs):
        """Runs the layer: returns `(outputs, state)` (pure; jit/grad/vmap work on it).

        Args:
            variables: `{"params": ..., "state": ...}` as returned by `init`.
            *inputs: the inputs.
            training: whether to run in training mode (Dropout, BatchNormalization).
            rng: a `jax.random.PRNGKey`; required by random layers in training mode.
        """
        if self.input_spec is not None and inputs:
            assert_input_compatibility(self, self.input_spec, inputs[0])
        params = variables.get("params", {}) if variables else {}
        state = variables.get("state", {}) if variables else {}
        if not self._children():  # the dtype policy wraps leaf layers' pure forward
            params, inputs = _autocast(self, params, inputs)
        forward = self.forward
        if self.__dict__.get("_remat_mode") is not None:
            forward = _rematerialized(self, forward, params, state, inputs, training, rng,
                                      kwargs)
        outputs, state = forward(params, state, *inputs, training=training, rng=rng,
                                 **kwargs)
        if self.activity_regularizer is not None and scope_lib.current_record() is not None:
            for out in jax.tree_util.tree_leaves(outputs):
                scope_lib.add_loss(_activity_penalty(self.activity_regularizer, out),
                                   rows_masked=True)
        return outputs, state

    def add_loss(self, loss):
        """Adds a scalar loss from inside `call` (Keras' `add_loss`); training adds it.

        The value flows out of the forward pass through `kerax.backend.apply_scope.record_forward`
        (the train step opens one), so `apply` stays pure; after an eager call the values
        are in `layer.losses`.

        Example:
        >>> import numpy as np, jax.numpy as jnp
        >>> from kerax.layers import Layer
        >>> class Sparse(Layer):
        ...     def call(self, x):
        ...         self.add_loss(0.1 * jnp.sum(jnp.abs(x)))
        ...         return x
        >>> layer = Sparse()
        >>> _ = layer(np.ones((2, 3)))
        >>> [round(float(l), 4) for l in layer.losses]
        [0.6]
        """
        for value in jax.tree_util.tree_leaves(loss):
            if not _is_array_like(value) and not isinstance(value, (int, float)):
                raise ValueError(
                    f"Layer '{self.name}': `add_loss()` expects a scalar tensor computed in "
                    f"`call()`. Received: {value!r} (of type {type(value).__name__})."
                )
            scope_lib.add_loss(jnp.asarray(value))

    @property
    def losses(self):
        """Keras' `layer.losses`: the `add_loss`/activity losses of the last eager call,
        plus the weight regularization losses of the current variables."""
        from kerax.trainer import regularization

        own = list(self.__dict__.get("_eager_losses", []))
        if self._variables is None:
            return own
        return own + regularization.weight_regularization_losses(
            self, self._variables["params"])

    # ---------------------------------------------------------------- the Keras shell --
    def __call__(self, *args, **kwargs):
        if scope_lib.any_symbolic((args, kwargs)):
            return symbolic_call.call_symbolic(self, args, kwargs)
        scope = scope_lib.current()
        if scope is not None:
            return scope.call_child(self, args, kwargs)
        return self._call_eager(args, kwargs)

    def _call_eager(self, args, kwargs):
        kwargs = dict(kwargs)
        training = bool(kwargs.pop("training", False) or False)
        rng = kwargs.pop("rng", None)
        if self._variables is None:
            self.build_eagerly(*args)
        if rng is None and training:
            rng = random_state.next_key()
        kwargs, mask = keras_mask.eager_input_mask(self, args, kwargs)  # Keras' `_keras_mask`
        with scope_lib.record_forward() as record:
            outputs, state = self.apply(self._variables, *args, training=training, rng=rng,
                                        **kwargs)
        self.__dict__["_eager_losses"] = record.losses
        for layer, name, value in record.assigned_params:  # Keras' eager `assign` in call
            if not isinstance(value, jax.core.Tracer):
                layer._assign_own("params", name, value)
        self._variables = {"params": self._variables["params"], "state": state}
        keras_mask.set_output_mask(self, args, outputs, mask, record.output_mask(self))
        return outputs

    def build_eagerly(self, *inputs, key=None):
        """Initializes the layer's own variables for inputs like `inputs` (eager shell)."""
        key = random_state.next_key() if key is None else key
        # `type(self).init`: a Keras-style layer may use `self.init` for its own data.
        self._variables = type(self).init(self, key, *inputs)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        return self._variables

    def build(self, input_shape):
        """Keras' `build`: initializes the layer for `input_shape` (batch axis may be None).

        Reached through `super().build(input_shape)` from a subclass's own `build` (the
        last line of most hand-written Keras layers), it only marks the layer built.
        """
        if type(self).build is not Layer.build:
            self.built = True
            return
        shape = tuple(1 if d is None else d for d in input_shape)
        self.build_eagerly(jax.ShapeDtypeStruct(shape, self.dtype))

    # Variables live in the layers that own them: a container's `_variables` is assembled
    # from its own weights and its children's, and writing it writes them back, so a
    # layer reads the same weights whether used alone or through any model holding it.
    @property
    def _variables(self):
        own = self.__dict__.get("_own_variables")
        children = self._children()
        if not children:
            return own
        params = dict(own["params"]) if own else {}
        state = dict(own["state"]) if own else {}
        for name, child in children.items():
            v = child._variables
            if v is None:
                return None
            if v["params"]:
                params[name] = v["params"]
            if v["state"]:
                state[name] = v["state"]
        return {"params": params, "state": state}

    @_variables.setter
    def _variables(self, value):
        if value is None:
            self.__dict__["_own_variables"] = None
            return
        children = self._children()
        params, state = value.get("params", {}), value.get("state", {})
        for name, generator in self.__dict__.get("_seed_generators", {}).items():
            if name in state and not isinstance(state[name], jax.core.Tracer):
                generator._state = state[name]  # eager calls and `fit` advance the seed
        self.__dict__["_own_variables"] = {
            "params": {k: v for k, v in params.items() if k not in children},
            "state": {k: v for k, v in state.items() if k not in children}}
        for name, child in children.items():
            child._variables = {"params": params.get(name, {}), "state": state.get(name, {})}

    @property
    def variables(self):
        """The layer's current `{"params": ..., "state": ...}` (None before it is built)."""
        return self._variables

    @variables.setter
    def variables(self, value):
        self._variables = value

    # ------------------------------------------------------- functional-graph views --
    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on a symbolic input, so it has no "
                f"`{what}`. Call it on `kerax.Input(...)` (or a tensor derived from one) first."
            )
        return nodes[0]

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call (Keras' `layer.input`)."""
        if "_output_tensor" in self.__dict__:
            return self.__dict__["_output_tensor"]
        args = self._first_node("input").args
        return args[0] if len(args) == 1 else list(args)

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call (Keras' `layer.output`)."""
        if "_output_tensor" in self.__dict__:
            return self.__dict__["_output_tensor"]
        return self._first_node("output").outputs

    @output.setter
    def output(self, value):
        self.__dict__["_output_tensor"] = value

    # ---------------------------------------------------------- Keras' weight views --
    def _weight_leaves(self, variables):
        """Leaves of `variables` in Keras' weight order: own params, own state, children."""
        params, state = variables.get("params", {}), variables.get("state", {})
        pnames, snames = self._weight_names
        leaves = [("params", (n,)) for n in pnames if n in params and _is_leaf(params[n])]
        leaves += [("state", (n,)) for n in snames if n in state and _is_leaf(state[n])]
        for name, child in self._children().items():
            sub = {"params": params.get(name, {}), "state": state.get(name, {})}
            for coll, path in child._weight_leaves(sub):
                leaves.append((coll, (name,) + path))
        return leaves

    def _variable_leaves(self, variables):
        """Keras' `layer.variables` order: like `_weight_leaves`, with SeedGenerator states
        after the layer's own weights (they are not weights: `get_weights` omits them)."""
        params, state = variables.get("params", {}), variables.get("state", {})
        pnames, snames = self._weight_names
        leaves = [("params", (n,)) for n in pnames if n in params and _is_leaf(params[n])]
        leaves += [("state", (n,)) for n in snames if n in state and _is_leaf(state[n])]
        leaves += [("state", (n,)) for n in self.__dict__.get("_seed_generators", {})
                   if n in state]
        for name, child in self._children().items():
            sub = {"params": params.get(name, {}), "state": state.get(name, {})}
            for coll, path in child._variable_leaves(sub):
                leaves.append((coll, (name,) + path))
        return leaves

    @property
    def trainable_variables(self):
        """Keras' `trainable_variables`: the trainable weights (views)."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Keras' `non_trainable_variables`: non-trainable weights and SeedGenerator states."""
        return [v for v in self._keras_variables() if not v.trainable]

    def _keras_variables(self):
        """Keras' `layer.variables` list: the views of weights and SeedGenerator states."""
        variables = self._variables
        if variables is None:
            return []
        return views_for(self, self._variable_leaves(variables))

    def _keras_variable_layout(self):
        """`(trainable, non_trainable)` leaves `(collection, path)` in Keras' order (the
        lists of `stateless_call`)."""
        variables = self._variables
        leaves = self._variable_leaves(variables)
        flags = [v.trainable for v in views_for(self, leaves)]
        return ([leaf for leaf, t in zip(leaves, flags) if t],
                [leaf for leaf, t in zip(leaves, flags) if not t])

    def _children(self):
        """Sub-layers keyed by the name their variables are stored under."""
        out = {}
        for attr, value in self._sublayers.items():
            for suffix, layer in _flatten_layers(value):
                out[attr + suffix] = layer
        return out

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras 3's order.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(2)
        >>> _ = layer(np.ones((1, 3)))
        >>> [w.shape for w in layer.get_weights()]
        [(3, 2), (2,)]
        """
        self._require_built("get_weights")
        return [_to_numpy(_get_path(self._variables[c], p))
                for c, p in self._weight_leaves(self._variables)]

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays in Keras 3's order (shapes are checked)."""
        self._require_built("set_weights")
        leaves = self._weight_leaves(self._variables)
        weights = list(weights)
        if len(weights) != len(leaves):
            raise ValueError(
                f"Layer '{self.name}' expects {len(leaves)} weight arrays, "
                f"but `set_weights` received {len(weights)}."
            )
        new = jax.tree_util.tree_map(lambda x: x, self._variables)
        for (coll, path), w in zip(leaves, weights):
            old = _get_path(new[coll], path)
            w = np.asarray(w)
            if tuple(w.shape) != tuple(old.shape):
                raise ValueError(
                    f"Layer '{self.name}': weight {'/'.join(path)} expects shape "
                    f"{tuple(old.shape)}, but `set_weights` received shape {tuple(w.shape)}."
                )
            _set_path(new[coll], path, jnp.asarray(w, old.dtype))
        self._variables = new

    @property
    def weights(self):
        """Keras' `layer.weights`: the (stable) variable views of every weight, in Keras'
        order; `layer.weights[0] is layer.kernel`."""
        variables = self._variables
        if variables is None:
            return []
        return views_for(self, self._weight_leaves(variables))

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable]

    def count_params(self):
        """Number of scalars in the layer's weights."""
        self._require_built("count_params")
        return int(sum(np.prod(w.shape) for w in self.weights))

    def trainable_mask(self, params):
        """A pytree of bools like `params`: which leaves the optimizer updates."""
        if not self.trainable:
            return jax.tree_util.tree_map(lambda _: False, params)
        children = self._children()
        out = {}
        for name, value in params.items():
            if name in children and isinstance(value, dict):
                out[name] = children[name].trainable_mask(value)
            else:
                out[name] = jax.tree_util.tree_map(lambda _: True, value)
        return out

    def _require_built(self, what):
        if self._variables is None:
            raise ValueError(
                f"Layer '{self.name}' is not built yet, so `{what}` has nothing to return. "
                "Call it on an input first (or `build(input_shape)`)."
            )

    # ------------------------------------------------------------------ serialization --
    def get_config(self):
        """Keras 3's config dict (arguments to rebuild the layer)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    def _dtype_config(self):
        from kerax import dtype_policies

        return dtype_policies.serialize(self._dtype_policy)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name", dtype)  # quantized: refused
        return cls(**config)

    def build_from_config(self, config):
        """Keras' `build_from_config`: builds the layer for `config["input_shape"]` (the
        `get_build_config()` of a built layer; a list of shapes for several inputs)."""
        shape = (config or {}).get("input_shape")
        if shape is None:
            return
        if shape and all(isinstance(s, (list, tuple)) for s in shape):
            self.build_eagerly(*[jax.ShapeDtypeStruct(
                tuple(1 if d is None else d for d in s), self.dtype) for s in shape])
        else:
            self.build(tuple(shape))

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        shapes = self._build_shapes
        return {"input_shape": list(shapes[0]) if len(shapes) == 1 else [list(s) for s in shapes]}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _autocast(layer, params, inputs):
    """Casts floating params and inputs to the layer's compute dtype (mixed precision)."""
    policy = layer._dtype_policy
    compute = jnp.dtype(policy.compute_dtype)
    if policy.is_mixed:
        params = jax.tree_util.tree_map(
            lambda p: p.astype(compute) if jnp.issubdtype(p.dtype, jnp.floating) else p, params)
    if layer.autocast:
        inputs = jax.tree_util.tree_map(
            lambda x: policy.convert_input(x) if hasattr(x, "dtype") else x, inputs)
    return params, inputs


def _rematerialized(layer, forward, params, state, inputs, training, rng, kwargs):
    """`forward` under the layer's `RematScope` mode (Keras 3's rules): recomputed in the
    backward pass instead of keeping its activations (`jax.checkpoint`)."""
    mode = layer._remat_mode

    def checkpointed(p, s, *xs, training, rng, **kw):
        traced = {}

        def inner(p, s, xs, rng, kw):  # what `forward` records leaves as outputs
            with scope_lib.record_forward() as record:
                out = forward(p, s, *xs, training=training, rng=rng, **kw)
            traced["row_dependent"] = record.row_dependent
            return out, record.losses, record.masks

        out, losses, masks = jax.checkpoint(inner)(p, s, xs, rng, kw)
        outer = scope_lib.current_record()
        if outer is not None:
            outer.losses.extend(losses)
            outer.masks.update(masks)
            outer.row_dependent = outer.row_dependent or traced["row_dependent"]
        return out

    if mode.mode == "full":
        return checkpointed
    if mode.mode == "list_of_layers":
        return checkpointed if layer.name in mode.layer_names else forward
    if mode.mode == "larger_than":
        out = jax.eval_shape(lambda p, s, xs: forward(p, s, *xs, training=training, rng=rng,
                                                      **kwargs)[0], params, state, inputs)
        size = sum(int(np.prod(o.shape)) for o in jax.tree_util.tree_leaves(out))
        return checkpointed if size > mode.output_size_threshold else forward
    if mode.mode == "activations" and callable(getattr(layer, "activation", None)):
        def with_remat_activation(*args, **kw):
            original = layer.activation
            object.__setattr__(layer, "activation", jax.checkpoint(original))
            try:
                return forward(*args, **kw)
            finally:
                object.__setattr__(layer, "activation", original)
        return with_remat_activation
    return forward


def _activity_penalty(regularizer, output):
    """Keras' activity loss: `regularizer(output) / batch_size`, real rows only.

    Inside `kerax.layers.batch_mask.use(rows)` (the engine's padded last batch) padded
    rows add nothing and the division is by the number of real rows.
    """
    from kerax.layers import batch_mask

    x = jnp.asarray(output)
    if x.ndim == 0:
        return regularizer(x)
    rows = batch_mask.current()
    if rows is None or rows.shape[0] != x.shape[0]:
        return regularizer(x) / jnp.asarray(x.shape[0], x.dtype)
    keep = jnp.reshape(rows, (-1,) + (1,) * (x.ndim - 1))
    count = jnp.maximum(jnp.sum(rows.astype(x.dtype)), 1)
    return regularizer(jnp.where(keep, x, jnp.zeros((), x.dtype))) / count


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _is_leaf(x):
    return not isinstance(x, dict)


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


def _to_numpy(a):
    """A whole host copy; an array split across processes is gathered (a collective: with
    several processes, every process calls `get_weights`, as every process runs `fit`)."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)


def _get_path(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _set_path(tree, path, value):
    for p in path[:-1]:
        tree = tree[p]
    tree[path[-1]] = value


__all__ = ["Layer", "InputSpec"]
