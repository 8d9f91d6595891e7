"""The Keras-style way to write a layer: `build` with `add_weight`, then `call`.

`KerasStyle` gives `Layer` Keras 3's authoring hooks. A layer that overrides `call`
(and, if it has weights, `build`) needs nothing else: its default `build_variables`
runs `build()` under an initializing `ApplyScope` (where `add_weight` creates the arrays
from the scope's key) and its default `forward` runs `call()` with every weight view and
sub-layer resolved against the `params`/`state` that `apply` received, as Keras 3's JAX
backend does with its stateless scope. Outside any scope (`layer.build(shape)` by hand),
`add_weight` creates the weight eagerly on the layer, as in Keras.
"""

import functools
import inspect

import jax
import jax.numpy as jnp

from kerax import constraints, initializers, regularizers
from kerax.backend import apply_scope as scope_lib
from kerax.backend import random_state
from kerax.layers import weight_rules


class KerasStyle:
    """Mixin of `Layer`: Keras' `build` / `add_weight` / `call` / `add_loss` / `losses`."""

    def build_variables(self, key, *inputs):
        """Creates `(params, state)` for inputs like `inputs` (`jax.ShapeDtypeStruct` objects).

        Built-in layers override this. The default runs the Keras-style path: the user's
        `build()` (whose `add_weight` calls create the arrays), then one abstract pass of
        `call()` that creates the variables of sub-layers stored as attributes.
        """
        sc = scope_lib.ApplyScope(self, {}, {}, key=key, initializing=True)
        with sc:
            if type(self).build is not KerasStyle.build:
                _rebuild(self, inputs)
            if self._has_call() and self._children():
                if isinstance(key, jax.core.Tracer):  # under jax.jit(model.init)
                    sc.deferred = []
                jax.eval_shape(lambda *xs: self._run_call(xs, {}, False), *inputs)
                sc.init_deferred()
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
            if not self.built and type(self).build is not KerasStyle.build:
                self._build_in_apply(sc, inputs)
            outputs = self._run_call(inputs, kwargs, training)
        return outputs, sc.state

    def _build_in_apply(self, sc, inputs):
        """Keras builds a layer on its first call: a copy that was never built (made with
        `from_config`, given another instance's variables) runs `build` here, and its
        `add_weight` calls bind to the variables `apply` received instead of creating any."""
        sc.rebuilt_names = []
        try:
            with jax.ensure_compile_time_eval():  # what `build` computes stays concrete
                _rebuild(self, inputs)
        finally:
            sc.rebuilt_names = None
        sc.__dict__.pop("_paths", None)  # `build` may have created sub-layers
        self.built = True

    def _has_call(self):
        return type(self).call is not KerasStyle.call

    def call(self, *args, **kwargs):
        """Keras-style forward computation; override it in custom layers.

        In a subclass of a built-in layer whose `call` is overridden, `super().call(x)`
        runs the built-in layer's pure `forward` on the variables of the running call.
        """
        explicit = type(self).__dict__.get("_explicit_forward") or getattr(
            type(self), "_explicit_forward", None)
        sc = scope_lib.scope_for(self)
        if explicit is None or sc is None:
            raise NotImplementedError(
                f"Layer {type(self).__name__} must implement `call` (Keras style) or "
                "`build_variables` and `forward` (explicit style).")
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        training = sc.training if training is None else training
        rng = kwargs.pop("rng", None)
        outputs, state = explicit(self, sc.params, sc.state, *args, training=training,
                                  rng=sc.rng if rng is None else rng, **kwargs)
        sc.state.update(state)
        return outputs

    def _run_call(self, inputs, kwargs, training):
        sig = inspect.signature(self.call).parameters
        kwargs = dict(kwargs)
        if "training" in sig:
            kwargs["training"] = training
        return self.call(*inputs, **kwargs)

    def build(self, input_shape):
        """Keras' `build`: initializes the layer for `input_shape` (batch axis may be None).

        Reached through `super().build(input_shape)` from a subclass's own `build` (the
        last line of most hand-written Keras layers), it only marks the layer built.
        """
        if type(self).build is not KerasStyle.build:
            self._build_explicit_weights(input_shape)
            self.built = True
            return
        dims = tuple(input_shape)  # (a list, tuple or array of sizes)
        shape = tuple(1 if d is None else d for d in dims)
        self.build_eagerly(jax.ShapeDtypeStruct(shape, self._dtype_policy.variable_dtype))
        if dims and dims[0] is None:  # built on a probe batch of 1
            self._summary_batch = None

    def _build_explicit_weights(self, input_shape):
        """`super().build(shape)` in a subclass of a built-in layer: the built-in layer's
        own weights (its `build_variables`), created in the running `init` (in Keras'
        order, before the subclass's `add_weight`s); bound, not created, when `build`
        runs inside `apply`."""
        explicit = getattr(type(self), "_explicit_build_variables", None)
        sc = scope_lib.scope_for(self)
        if explicit is None or sc is None or not sc.initializing:
            return
        spec = jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in input_shape),
                                    self._dtype_policy.variable_dtype)
        with jax.ensure_compile_time_eval():
            params, state = explicit(self, sc.key, spec)
        sc.params.update(params)
        sc.state.update(state)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Creates a weight (Keras' idiom, used in `build`): returns a variable view.

        Trainable weights go to `params`; non-trainable ones to `state`, where `call` may
        update them with `.assign()`. `regularizer` and `constraint` are declared for this
        weight here (see `kerax.layers.weight_rules`).

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
        dtype = jnp.dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
        init = initializers.get(initializer)
        shape = tuple(shape or ())
        coll = "params" if trainable else "state"
        sc = scope_lib.scope_for(self)
        rebuilt = getattr(sc, "rebuilt_names", None)  # `build` inside `apply`: bind only
        taken = set(sc.params) | set(sc.state) if sc is not None else set()
        if sc is None and self._variables is not None:
            taken = set(self._variables["params"]) | set(self._variables["state"])
        if rebuilt is not None:
            taken = set(rebuilt)
        if name is None:
            name, i = "variable", 1
            while name in taken:
                name, i = f"variable_{i}", i + 1
        if rebuilt is not None:
            rebuilt.append(name)
            if name not in sc.__dict__[coll]:
                raise ValueError(
                    f"Layer '{self.name}': `build` creates the weight '{name}', but the "
                    f"{coll} passed to `apply` have no '{name}' (they have "
                    f"{sorted(sc.__dict__[coll])}). Pass the variables that `init` returned "
                    "for this layer."
                )
        elif sc is not None and sc.initializing:
            key = scope_lib.name_key(sc.key, name)
            with jax.ensure_compile_time_eval():
                sc.__dict__[coll][name] = init(shape, dtype, key=key)
        else:
            variables = self._variables or {"params": {}, "state": {}}
            variables = {c: dict(v) for c, v in variables.items()}
            variables[coll][name] = init(shape, dtype, key=random_state.next_key())
            pn, sn = self._weight_names  # read before the new weight is stored
            self._variables = variables
            self._weight_names = (pn + (name,), sn) if trainable else (pn, sn + (name,))
            self.built = True
        weight_rules.declare(self, name, regularizer=regularizers.get(regularizer),
                             constraint=constraints.get(constraint))
        return self._view(coll, name)

    def param_rules(self):
        """`{param name: (regularizer, constraint)}` for the params this layer creates.

        The trainer adds each regularizer's penalty to the loss and applies each
        constraint after every update (see `kerax.layers.weight_rules`). The default is
        what `add_weight(regularizer=..., constraint=...)` declared; a layer that creates
        its params in `build_variables` returns its own table, built from its constructor
        arguments (`Dense`: `{"kernel": (self.kernel_regularizer, self.kernel_constraint),
        "bias": (self.bias_regularizer, self.bias_constraint)}`).

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Layer
        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(2,), regularizer="l2", name="w")
        ...     def call(self, x):
        ...         return x * self.w
        >>> layer = Scale()
        >>> _ = layer(np.ones((1, 2)))
        >>> {name: (type(reg).__name__, con) for name, (reg, con) in layer.param_rules().items()}
        {'w': ('L2', None)}
        """
        return weight_rules.declared(self)

    def add_loss(self, loss):
        """Adds a scalar loss from inside `call` (Keras' `add_loss`); training adds it.

        The value flows out of the forward pass through
        `kerax.backend.apply_scope.record_forward` (the train step opens one), so `apply`
        stays pure; after an eager call the values are in `layer.losses`.

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
        own = list(self.__dict__.get("_eager_losses", []))
        if self._variables is None:
            return own
        return own + weight_rules.weight_regularization_losses(
            self, self._variables["params"])


def _rebuild(layer, inputs):
    """Runs the layer's own `build` for `inputs`, or with the arguments of the `build` a
    user called by hand with more than a shape (Keras never builds a built layer again)."""
    recorded = layer.__dict__.get("_build_args")
    if recorded is not None:
        layer.build(**recorded)
    else:
        layer.build(*_build_shapes(layer.build, inputs))


def record_hand_build(cls):
    """Makes a user's `build` record its arguments when called by hand (outside `init` and
    `apply`), as Keras' build wrapper does: a shape becomes the build config's
    `input_shape`; several arguments its `shapes_dict`, and building the layer again (inside
    a model) calls `build` with them.

    Example:
    >>> from kerax.layers import Layer
    >>> class Scaled(Layer):
    ...     def build(self, input_shape, init="ones"):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer=init)
    ...     def call(self, x):
    ...         return x * self.w
    >>> layer = Scaled()
    >>> layer.build((None, 3), init="zeros")
    >>> layer.get_build_config()
    {'shapes_dict': {'input_shape': (None, 3), 'init': 'zeros'}}
    """
    build = cls.__dict__.get("build")
    if build is None or cls.__module__.startswith("kerax.models.") \
            or getattr(build, "_records_hand_build", False):
        return  # (kerax's Sequential keeps its own build record)

    @functools.wraps(build)
    def recording_build(self, *args, **kwargs):
        out = build(self, *args, **kwargs)
        if scope_lib.scope_for(self) is None:
            arguments = dict(inspect.signature(build).bind(self, *args, **kwargs).arguments)
            arguments.pop(next(iter(arguments)))  # self
            if len(arguments) > 1:
                self.__dict__["_build_args"] = arguments
            elif arguments:
                shapes = _as_shapes(next(iter(arguments.values())))
                if shapes is not None:
                    self._build_shapes = shapes
        return out

    recording_build._records_hand_build = True
    cls.build = recording_build


def _as_shapes(value):
    """`(shape,)` for one shape, one shape per input for a list of shapes, else None."""
    def is_shape(x):
        return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, int) for d in x)

    if is_shape(value):
        return (tuple(value),)
    if isinstance(value, (list, tuple)) and value and all(is_shape(v) for v in value):
        return tuple(tuple(v) for v in value)
    return None


def _build_shapes(build, inputs):
    """The shapes `build` receives for a call on `inputs`, as Keras aligns them: a `build`
    with one argument gets the first input's shape (an RNN cell's `build(input_shape)`,
    called with `(inputs, states)`), otherwise one shape per input."""
    shapes = jax.tree_util.tree_map(lambda x: tuple(jnp.shape(x)), inputs,
                                    is_leaf=_is_array_like)
    named = [p for p in inspect.signature(build).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return shapes[:1] if len(named) == 1 else shapes


def _is_array_like(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")
