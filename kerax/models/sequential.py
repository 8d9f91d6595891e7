"""`Sequential`: a stack of layers, itself a layer (and a trainable `Model`)."""

import jax

from kerax.backend import host_prng, naming
from kerax.backend.keras_tensor import UNKNOWN_SIZE, KerasTensor, as_jax_dtype
from kerax.backend import apply_scope as scope_lib
from kerax.layers import deserialize, serialize
from kerax.layers.core import masking
from kerax.layers.core.input_layer import InputLayer
from kerax.layers.layer import Layer
from kerax.models import functional, graph
from kerax.models.model import Model
from kerax.saving import model_config


def _next_spec(layer, variables, spec):
    """The spec a layer passes on; host layers (strings) say it without being traced."""
    host_spec = getattr(layer, "host_output_spec", None)
    if host_spec is None:
        return jax.eval_shape(lambda vv, x: layer.apply(vv, x)[0], variables, spec)
    out = host_spec(spec)
    return jax.ShapeDtypeStruct(tuple(UNKNOWN_SIZE if d is None else d for d in out.shape),
                                as_jax_dtype(out.dtype))


@model_config.register_model_class
class Sequential(Model):
    """A linear stack of layers: `Sequential([Input((64,)), Dense(10)])`.

    Params nest by layer name: `variables["params"]["dense"]["kernel"]`. With an `Input`
    (or `input_shape=` on the first layer) the model is built at once; otherwise it is
    built on the first call, `fit` or `build(input_shape)`.

    Example:
    >>> import jax, jax.numpy as jnp, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    >>> y, state = model.apply(model.variables, jnp.ones((3, 4)))
    >>> y.shape
    (3, 2)
    """

    # Keras 3's variable paths of a Sequential start with its name: "sequential/dense/kernel".
    _variable_paths_start_with_name = True

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._stack = []
        self._input_layer = None
        self._graph = None  # (input KerasTensor, output KerasTensor) once built
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    # ----------------------------------------------------------------- structure --
    def add(self, layer, rebuild=True):
        """Adds a layer on top of the stack (an `Input` only as the first element)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            layer = history[0] if history else None
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    "Sequential model '%s' already has layers: an `Input` can only be the "
                    "first element of a Sequential model." % self.name
                )
            self._input_layer = layer
        elif not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `kerax.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        else:
            if any(l.name == layer.name for l in self._stack):
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name "
                    f"'{layer.name}' is already the name of a layer in this model. Update the "
                    "`name` argument to pass a unique name."
                )
            if not self._stack and self._input_layer is None and \
                    getattr(layer, "_batch_input_shape", None) is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
            self._stack.append(layer)
        self._variables = None
        self.built = False
        self._programs = {}
        self._graph = None
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild=True):
        """Removes the last layer and returns it."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._variables = None
        self.built = False
        self._programs = {}
        self._graph = None
        if rebuild:
            self._maybe_build()
        return layer

    @property
    def layers(self):
        """The stacked layers (the `Input` is not listed, as in Keras)."""
        return list(self._stack)

    def _children(self):
        return {layer.name: layer for layer in self.__dict__.get("_stack", [])}

    def _maybe_build(self):
        if self._input_layer is not None and self._stack:
            self.build_eagerly(self._input_layer.output.build_spec())

    def build(self, input_shape=None):
        """Builds the model for `input_shape` (the batch axis may be None)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("`build` needs an `input_shape` when the model has no Input.")
            input_shape = self._input_layer.batch_shape
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        if self._input_layer is not None and input_shape != self._input_layer.batch_shape:
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input "
                f"shape {self._input_layer.batch_shape}. You cannot build it with "
                f"input_shape {input_shape}"
            )
        if self._input_layer is None and self._stack:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape), dtype=self.dtype)
        if self._input_layer is not None:
            self.build_eagerly(self._input_layer.output.build_spec())
        else:  # no layers yet: nothing to record
            self.build_eagerly(KerasTensor(input_shape, self.dtype).build_spec())

    def build_eagerly(self, *inputs, key=None):
        """Builds the variables, then records the symbolic graph behind Keras' `inputs`,
        `outputs` and each layer's `input`/`output` (as Keras' Sequential does).

        A layer that was already built (used on its own, or before a later `add`) keeps
        its weights and variable paths, as in Keras."""
        kept = {id(layer): (layer._variables, layer.__dict__.get("_path_prefix"))
                for layer in self._stack if layer.built and layer._variables is not None}
        super().build_eagerly(*inputs, key=key)
        for layer in self._stack:
            old, prefix = kept.get(id(layer), (None, None))
            if old is not None and _same_layout(old, layer._variables):
                layer._variables = old
                layer.__dict__["_path_prefix"] = prefix
        variables = self._variables
        if self._input_layer is None and len(inputs) == 1 and hasattr(inputs[0], "shape"):
            # Built by its first call, `fit` or `predict`: Keras records the shape it was
            # built with, a concrete batch's size (`fit` builds on a probe batch of 1 and
            # says the first batch's size in `_summary_batch`; None: unknown).
            x = inputs[0]
            batch = (self.__dict__.get("_summary_batch") if isinstance(x, jax.ShapeDtypeStruct)
                     else x.shape[0])
            self._input_layer = InputLayer(batch_shape=(batch,) + tuple(x.shape[1:]),
                                           dtype=self._input_dtype(x))
        self._record_graph()
        return variables

    def _input_dtype(self, x):
        """The dtype of the input Keras adds: its first layer's compute dtype (float32 for
        float64 data, float16 under "mixed_float16"); a host layer's data as it comes
        (strings, integer ids)."""
        dtype = jax.numpy.dtype(x.dtype)
        if dtype == object:
            return "string"
        if hasattr(type(self._stack[0]), "host_output_spec"):
            return dtype.name
        return self._stack[0].compute_dtype

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and isinstance(args[0], KerasTensor) \
                and self._input_layer is None and self._variables is None:
            self.build(args[0].shape)  # keep the symbolic input's unknown dimensions
        return super().__call__(*args, **kwargs)

    def _record_graph(self):
        """Calls the layers on the input's symbolic tensor: each layer gets a node, so
        `layer.output` and `kerax.Model(model.inputs, layer.output)` work."""
        self._graph = None
        if self._input_layer is None or not self._stack:
            return
        inputs = x = self._input_layer.output
        outputs = []
        for layer in self._stack:
            x_in, x = x, layer(x)
            graph.record_symbolic_build_shapes(layer, (x_in,))
            outputs.append(x)
        self._graph = (inputs, x)
        self._graph_outputs = outputs
        # Keras' Sequential builds a `Functional` each time it is built, which takes the next
        # automatic "functional" name: the next `Model(...)` is named after it.
        naming.uniquify("functional")

    def _graph_or_raise(self, what):
        if self._graph is None and self._variables is not None and self._input_layer is None:
            spec = self._init_specs[0] if getattr(self, "_init_specs", None) else None
            if hasattr(spec, "shape"):  # built inside a parent model's `init`
                self._input_layer = InputLayer(batch_shape=(None,) + tuple(spec.shape[1:]),
                                               dtype=jax.numpy.dtype(spec.dtype).name)
                self._record_graph()
        if self._graph is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined {what} yet.")
        return self._graph

    @property
    def inputs(self):
        """The symbolic input, as a one-element list (Keras' `model.inputs`)."""
        return [self._graph_or_raise("inputs")[0]]

    @property
    def outputs(self):
        """The symbolic output(s), as a list (Keras' `model.outputs`)."""
        return _as_list(self._graph_or_raise("outputs")[1])

    @property
    def input_shape(self):
        return self._graph_or_raise("input shape")[0].shape

    @property
    def output_shape(self):
        shapes = [t.shape for t in _as_list(self._graph_or_raise("output shape")[1])]
        return shapes[0] if len(shapes) == 1 else shapes

    # ---------------------------------------------------------------- pure functions --
    def build_variables(self, key, inputs):
        if not self._stack:
            raise ValueError(f"Sequential model '{self.name}' has no layers to build.")
        spec = inputs
        params, state = {}, {}
        for i, layer in enumerate(self._stack):
            v = layer.init(host_prng.fold_in(key, i), spec)
            if v["params"]:
                params[layer.name] = v["params"]
            if v["state"]:
                state[layer.name] = v["state"]
            spec = _next_spec(layer, v, spec)
        return params, state

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = inputs
        if self._graph is not None:  # Keras' rank adjustment against the model's input
            x = functional.adjust_input_rank(x, self._graph[0])
        new_state = dict(state)
        mask = None  # Keras' mask propagation (see kerax.layers.core.masking)
        for i, layer in enumerate(self._stack):
            sub = {"params": params.get(layer.name, {}), "state": state.get(layer.name, {})}
            layer_rng = host_prng.fold_in(rng, i) if rng is not None else None
            kw = masking.mask_kwargs(layer, {"inputs": mask}) if mask is not None else {}
            try:
                x_in = x
                x, s = layer.apply(sub, x, training=training, rng=layer_rng, **kw)
                mask = masking.output_mask(layer, x_in, mask)
            except Exception as e:
                if hasattr(e, "add_note") and not getattr(e, "_kerax_noted", False):
                    e.add_note(f"(raised in layer '{layer.name}' of Sequential '{self.name}', "
                               f"input shape {tuple(getattr(x, 'shape', ()))})")
                    e._kerax_noted = True
                raise
            if s:
                new_state[layer.name] = s
        scope_lib.record_output_mask(self, mask)
        return x, new_state

    # ----------------------------------------------------------------- display/config --
    def summary_rows(self):
        """`(layer, output_shape)` per layer, from the recorded graph (unknown sizes are
        None, as in Keras' summary)."""
        if self._variables is None or self._graph is None:
            return [(layer, None) for layer in self._stack]
        is_kt = lambda t: isinstance(t, KerasTensor)  # noqa: E731
        return [(layer, jax.tree_util.tree_map(lambda t: t.shape, out, is_leaf=is_kt))
                for layer, out in zip(self._stack, self._graph_outputs)]

    def get_build_config(self):
        """Keras' `{"input_shape": ...}`: the shape the model was built for (its input's)."""
        if self._graph is None:
            return super().get_build_config()
        return {"input_shape": self._input_layer.batch_shape}

    def get_config(self):
        layers = []
        if self._input_layer is not None:
            layers.append({"module": "keras.layers", "class_name": "InputLayer",
                           "config": self._input_layer.get_config(), "registered_name": None})
        layers += [serialize(layer) for layer in self._stack]
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": self._dtype_config(), "layers": layers}
        if self._graph is not None:
            config["build_input_shape"] = self._input_layer.batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = [deserialize(c, custom_objects=custom_objects) for c in config["layers"]]
        return cls(layers=layers, name=config.get("name"), trainable=config.get("trainable", True))


def _same_layout(a, b):
    """Whether two variable trees have the same structure, shapes and dtypes."""
    layout = lambda t: jax.tree_util.tree_map(lambda x: (tuple(x.shape), str(x.dtype)), t)  # noqa: E731
    return (jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
            and layout(a) == layout(b))


def _as_list(outputs):
    return list(jax.tree_util.tree_leaves(outputs, is_leaf=lambda t: isinstance(t, KerasTensor)))
