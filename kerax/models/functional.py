"""`Functional`: a model that is a graph of layer calls, `Model(inputs, outputs)`.

Calling a layer on a `KerasTensor` records a `Node` (see `kerax.backend.keras_tensor`).
`Functional` walks those nodes back from the outputs, orders them as Keras does, and runs
them in `forward` over one pytree nested by layer name. The model holds no arrays of its
own: its variables are gathered from (and written back to) its layers, so two models
built from the same layers share weights, as in Keras.
"""

import contextvars
import zlib

import jax
import jax.numpy as jnp

from kerax.backend import host_prng, random_state
from kerax.backend.keras_tensor import KerasTensor
from kerax.backend import apply_scope as scope_lib
from kerax.layers.core import masking
from kerax.layers.core.input_layer import InputLayer
from kerax.layers.input_spec import relax_input_spec
from kerax.models import functional_config, graph
from kerax.models.model import Model
from kerax.saving import model_config

_is_kt = lambda x: isinstance(x, KerasTensor)  # noqa: E731

# True while an eager `model(x)` that was given no `training` runs its graph: Keras then
# lets each node use the `training` value recorded on it (the eager shell passes False).
_TRAINING_UNSET = contextvars.ContextVar("kerax_functional_training_unset", default=False)




@model_config.register_model_class
class Functional(Model):
    """A model defined by calling layers on `kerax.Input`s: `kerax.Model(inputs, outputs)`.

    Inputs and outputs may be one tensor, a list or a dict. Params nest by layer name; a
    layer called several times (a shared layer) has one set of params.

    Example:
    >>> import numpy as np, kerax
    >>> x = kerax.Input((4,), name="x")
    >>> shared = kerax.layers.Dense(3, name="shared")
    >>> y = kerax.layers.Add()([shared(x), shared(x)])
    >>> model = kerax.Model(x, y)
    >>> sorted(model.variables["params"])
    ['shared']
    >>> model(np.ones((2, 4))).shape
    (2, 3)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._input_tensors = graph.flat_or_raise(inputs, "inputs")
        self._output_tensors = jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)
        nodes, layers, arity_by_depth = graph.map_graph_by_depth(self._input_tensors,
                                                                 self._output_tensors)
        self._nodes = nodes
        for node in reversed(nodes):
            if not isinstance(node.layer, InputLayer):
                graph.record_symbolic_build_shapes(node.layer, node.args)
        self._arity_by_depth = arity_by_depth
        self._graph_layers = layers
        self.__dict__["_graph_children"] = {
            l.name: l for l in layers if not isinstance(l, InputLayer)}
        self._init_specs = (jax.tree_util.tree_map(lambda t: t.spec(), inputs, is_leaf=_is_kt),)
        self.built = True

    # Variables live in the layers (see `Layer._variables`): nothing is stored here.
    def _children(self):
        return dict(self.__dict__.get("_graph_children", {}))

    @property
    def layers(self):
        """Every layer of the graph, `InputLayer`s included, in Keras' order."""
        return list(self._graph_layers)

    # ----------------------------------------------------------------- structure --
    @property
    def input(self):
        return self._inputs_struct

    @property
    def inputs(self):
        return list(self._input_tensors)

    @property
    def output(self):
        return self._outputs_struct

    @property
    def outputs(self):
        return list(self._output_tensors)

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self._output_tensors]

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self._input_tensors]

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._output_tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_shape(self):
        return jax.tree_util.tree_map(lambda t: t.shape, self._inputs_struct, is_leaf=_is_kt)

    # ------------------------------------------------------------ pure functions --
    def build_variables(self, key, *inputs):
        params, state = {}, {}
        seen = set()
        for node in self._nodes:
            layer = node.layer
            if layer.name in seen:
                continue
            seen.add(layer.name)
            specs = jax.tree_util.tree_map(lambda t: t.spec(), node.args, is_leaf=_is_kt)
            kw = {k: v for k, v in node.kwargs.items() if k not in ("training", "rng")}
            kw = jax.tree_util.tree_map(lambda t: t.spec(), kw, is_leaf=_is_kt)
            k = host_prng.fold_in(key, zlib.crc32(layer.name.encode()) & 0x7FFFFFFF)
            v = layer.init(k, *specs, **kw)
            first = node.args[0] if node.args else None
            relax_input_spec(layer, first if _is_kt(first) else None)
            if v["params"]:
                params[layer.name] = v["params"]
            if v["state"]:
                state[layer.name] = v["state"]
        return params, state

    def _flatten_inputs(self, inputs):
        """The model's input values, in the order of `self.inputs`."""
        struct = self._inputs_struct
        names = [t._keras_history[0].name for t in self._input_tensors]
        if isinstance(inputs, dict):
            keys = list(struct) if isinstance(struct, dict) else names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(
                    f"Missing data for input '{missing[0]}' of model '{self.name}'. You passed "
                    f"a data dictionary with keys {sorted(inputs)}. Expected the following "
                    f"keys: {keys}."
                )
            if isinstance(struct, dict):
                # `self.inputs` is in flattened (sorted-key) order, as in Keras, which
                # may differ from the order the dict was written in.
                by_id = {id(struct[k]): inputs[k] for k in struct}
                return [by_id[id(t)] for t in self._input_tensors]
            return [inputs[k] for k in names]
        if isinstance(struct, dict):
            raise ValueError(
                f"Model '{self.name}' expects a dict of inputs with keys {list(struct)}; "
                f"received a {type(inputs).__name__}."
            )
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(self._input_tensors) == 1 and len(flat) != 1:
            flat = [inputs]
        if len(flat) != len(self._input_tensors):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._input_tensors)} inputs {names}, but "
                f"received {len(flat)} input arrays."
            )
        return flat

    def _call_eager(self, args, kwargs):
        unset = kwargs.get("training") is None
        if unset and kwargs.get("rng") is None and self._records_training():
            kwargs = {**kwargs, "rng": random_state.next_key()}  # for a Dropout(training=True)
        token = _TRAINING_UNSET.set(unset)
        try:
            return super()._call_eager(args, kwargs)
        finally:
            _TRAINING_UNSET.reset(token)

    def _records_training(self):
        """Whether a node of this graph, or of a nested one, was called with training=True."""
        return any(n.kwargs.get("training") is True or (
            isinstance(n.layer, Functional) and n.layer._records_training()) for n in self._nodes)

    def forward(self, params, state, *inputs, training=False, rng=None, **kwargs):
        """Runs the graph. As in Keras, a `training` given to the model (True or False)
        is passed to every layer, overriding a `training=` recorded on a node (a frozen
        `BatchNormalization` runs in inference mode because it is not trainable); with
        `training=None` each node uses its recorded value."""
        if _TRAINING_UNSET.get():
            training = None
        token = _TRAINING_UNSET.set(False)
        try:
            return self._run_graph(params, state, inputs, training, rng)
        finally:
            _TRAINING_UNSET.reset(token)

    def _run_graph(self, params, state, inputs, training, rng):
        values = inputs[0] if len(inputs) == 1 else list(inputs)
        flat = self._flatten_inputs(values)
        paths = _input_paths(self._inputs_struct)
        flat = [adjust_input_rank(x, t, p) for x, t, p in zip(flat, self._input_tensors, paths)]
        env = {id(t): v for t, v in zip(self._input_tensors, flat)}
        new_state = dict(state)
        masks = {}  # id(KerasTensor) -> mask, under Keras' rules (kerax.layers.core.masking)
        lookup = lambda t: env[id(t)] if _is_kt(t) else t  # noqa: E731
        for i, node in enumerate(self._nodes):
            layer = node.layer
            args = jax.tree_util.tree_map(lookup, node.args, is_leaf=_is_kt)
            kw = {k: v for k, v in node.kwargs.items() if k not in ("training", "rng")}
            arg_masks = _node_masks(layer, node, masks)
            kw = jax.tree_util.tree_map(lookup, kw, is_leaf=_is_kt)
            if arg_masks:
                kw.update(masking.mask_kwargs(layer, arg_masks, given=kw))
            node_training = node.kwargs.get("training") if training is None else training
            if not isinstance(layer, Functional):  # a nested graph resolves None itself
                node_training = bool(node_training)
            node_rng = host_prng.fold_in(rng, i) if rng is not None else None
            sub = {"params": params.get(layer.name, {}), "state": new_state.get(layer.name, {})}
            try:
                out, s = layer.apply(sub, *args, training=node_training, rng=node_rng, **kw)
            except Exception as e:
                if not getattr(e, "_kerax_noted", False):
                    shapes = [tuple(getattr(a, "shape", ())) for a in jax.tree_util.tree_leaves(args)]
                    e.add_note(f"(raised in layer '{layer.name}' of model '{self.name}', "
                               f"input shapes {shapes})")
                    e._kerax_noted = True
                raise
            if s:
                new_state[layer.name] = s
            out_kts = jax.tree_util.tree_leaves(node.outputs, is_leaf=_is_kt)
            for t, v in zip(out_kts, jax.tree_util.tree_leaves(out)):
                env[id(t)] = v
            if arg_masks or getattr(layer, "compute_mask", None) is not None:
                previous = kw.get("mask")
                if previous is None and arg_masks:
                    previous = next(iter(arg_masks.values()))
                out_mask = masking.output_mask(layer, args[0] if args else None, previous)
                if isinstance(out_mask, (list, tuple)) and len(out_mask) == len(out_kts):
                    masks.update({id(t): m for t, m in zip(out_kts, out_mask)})
                elif hasattr(out_mask, "shape"):  # a merged list of masks is dropped
                    masks.update({id(t): out_mask for t in out_kts})
        outputs = jax.tree_util.tree_map(lambda t: env[id(t)], self._outputs_struct,
                                         is_leaf=_is_kt)
        if len(self._output_tensors) == 1:
            scope_lib.record_output_mask(self, masks.get(id(self._output_tensors[0])))
        return outputs, new_state

    # --------------------------------------------------------------- display --
    def _local_node_index(self, layer, node):
        own = [n for n in getattr(layer, "_inbound_nodes", []) if any(n is m for m in self._nodes)]
        offset = 1 if isinstance(layer, Functional) else 0
        return offset + next(i for i, n in enumerate(own) if n is node)

    def _tensor_ref(self, t):
        layer, node_index, tensor_index = t._keras_history
        if isinstance(layer, InputLayer):
            return [layer.name, 0, tensor_index]
        return [layer.name, self._local_node_index(layer, layer._inbound_nodes[node_index]),
                tensor_index]

    def _sequential_like(self):
        """Keras' test for a summary without "Connected to": one node with at most one
        input tensor at every depth, and no layer called twice."""
        if any(len(a) > 1 or a[0] > 1 for a in self._arity_by_depth.values()):
            return False
        called = [id(n.layer) for n in self._nodes]
        return len(called) == len(set(called))

    def summary_rows(self):
        """`(layer, output shape, connected to)` per layer for `summary()`, without the
        third item when Keras shows the model like a Sequential."""
        rows = []
        for layer in self._graph_layers:
            if isinstance(layer, InputLayer):
                rows.append((layer, layer.output.shape, "-"))
                continue
            nodes = [n for n in self._nodes if n.layer is layer]
            shape = jax.tree_util.tree_map(lambda t: t.shape, nodes[0].outputs, is_leaf=_is_kt)
            # Keras' `keras_history`: the layer's own node index (not the config's)
            refs = [t._keras_history for n in nodes for t in graph.flat_tensors((n.args, n.kwargs))]
            rows.append((layer, shape, ", ".join(f"{a.name}[{b}][{c}]" for a, b, c in refs)))
        if self._sequential_like():
            rows = [row[:2] for row in rows]
        return rows

    # ------------------------------------------------------------ serialization --
    def get_config(self):
        """Keras 3's functional config: layers with `inbound_nodes`, input/output refs."""
        return functional_config.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the graph from `get_config()` (Keras 3's format)."""
        return functional_config.from_config(cls, config, custom_objects)


def adjust_input_rank(x, ref, path=""):
    """`x` fitted to the rank of the model input `ref` as Keras does: a trailing axis of
    size 1 is added (`(n, 28, 28)` for `Input((28, 28, 1))`) or squeezed (`(n, 6, 1)` for
    `Input((6,))`); any other difference in rank is an error that names the input.

    Example:
    >>> import numpy as np, kerax
    >>> adjust_input_rank(np.ones((2, 28, 28)), kerax.Input((28, 28, 1))).shape
    (2, 28, 28, 1)
    """
    if x is None or not hasattr(x, "shape") or ref.__dict__.get("_host_fed", False):
        return x  # (an input the trainer's host prefix already turned into its output)
    rank, ref_shape = len(x.shape), tuple(ref.shape)
    if rank == len(ref_shape):
        return x
    if rank == len(ref_shape) + 1 and x.shape[-1] == 1:
        return jnp.squeeze(x, axis=-1)
    if rank == len(ref_shape) - 1 and ref_shape[-1] == 1:
        return jnp.expand_dims(x, axis=-1)
    name = ref.name or ref._keras_history[0].name
    raise ValueError(
        f"Invalid input shape for input with name '{name}' and path '{path}'. Expected "
        f"shape {ref_shape}, but input has incompatible shape {tuple(x.shape)}. Keras only "
        "adds or removes a trailing axis of size 1; reshape the data to the input's shape."
    )


def _input_paths(struct):
    """Keras' path of each flat input, e.g. `'image'` in a dict, `'1'` in a list, `''`."""
    if _is_kt(struct):
        return [""]
    paths = jax.tree_util.tree_flatten_with_path(struct, is_leaf=_is_kt)[0]
    return [".".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in p) for p, _ in paths]


def _node_masks(layer, node, masks):
    """`{argument_name: mask}` for the node's tensor arguments that carry a mask."""
    if not masks:
        return {}
    names = [n for n in masking._call_parameters(layer) if n not in ("self", "params", "state")]

    def mask_of(value):
        found = jax.tree_util.tree_map(lambda t: masks.get(id(t)), value, is_leaf=_is_kt)
        leaves = jax.tree_util.tree_leaves(found)
        return found if leaves else None

    out = {}
    for j, arg in enumerate(node.args):
        m = mask_of(arg) if graph.flat_tensors(arg) else None
        if m is not None:
            out[names[j] if j < len(names) else f"arg{j}"] = m
    for k, v in node.kwargs.items():
        m = mask_of(v) if graph.flat_tensors(v) else None
        if m is not None:
            out[k] = m
    return out








__all__ = ["Functional", "adjust_input_rank"]
