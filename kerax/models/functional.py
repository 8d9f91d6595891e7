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
from kerax.layers import deserialize, serialize
from kerax.layers.core import masking, op_layer
from kerax.layers.core.input_layer import InputLayer
from kerax.layers.input_spec import relax_input_spec
from kerax.models.model import Model
from kerax.saving import model_config

_is_kt = lambda x: isinstance(x, KerasTensor)  # noqa: E731

# True while an eager `model(x)` that was given no `training` runs its graph: Keras then
# lets each node use the `training` value recorded on it (the eager shell passes False).
_TRAINING_UNSET = contextvars.ContextVar("kerax_functional_training_unset", default=False)


def _flat(tree):
    return [t for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt) if _is_kt(t)]


def _node_of(kt):
    layer, node_index, _ = kt._keras_history
    if isinstance(layer, InputLayer):
        return layer
    return layer._inbound_nodes[node_index]


def _tensor_name(kt):
    layer = kt._keras_history[0]
    return f"'{kt.name or layer.name}' (shape {kt.shape}, from layer '{layer.name}')"


def map_graph(inputs, outputs):
    """Orders the graph between `inputs` and `outputs` as Keras does.

    Returns `(nodes, layers)`: the layer-call nodes in execution order, and the layers in
    Keras' order (by depth from the inputs, then by first traversal), which fixes the
    order of `model.layers` and of `get_weights()`.

    Example:
    >>> import kerax
    >>> x = kerax.Input((4,), name="x")
    >>> nodes, layers = map_graph([x], [kerax.layers.Dense(2, name="d")(x)])
    >>> [l.name for l in layers]
    ['x', 'd']
    """
    nodes, layers, _ = _map_graph(inputs, outputs)
    return nodes, layers


def _map_graph(inputs, outputs):
    """`map_graph`, plus the number of input tensors of each node at each depth
    (`{depth: [count, ...]}`, model inputs counting 0), as Keras' `_nodes_by_depth`."""
    input_ids = {id(t) for t in inputs}
    finished, in_progress, order, first_seen = set(), set(), [], {}

    def visit(kt):
        if id(kt) in input_ids:
            graph_node, parents = ("input", id(kt)), []
            layer = kt._keras_history[0]
        else:
            graph_node = _node_of(kt)
            if isinstance(graph_node, InputLayer):
                raise ValueError(
                    f"Graph disconnected: an output depends on the input {_tensor_name(kt)}, "
                    f"which is not one of the model's inputs "
                    f"{[_tensor_name(t) for t in inputs]}. Pass every `Input` the outputs use "
                    "in `inputs`, e.g. `kerax.Model(inputs=[a, b], outputs=y)`."
                )
            layer, parents = graph_node.layer, _flat((graph_node.args, graph_node.kwargs))
        key = id(graph_node) if not isinstance(graph_node, tuple) else graph_node
        if key in finished:
            return key
        first_seen.setdefault(id(layer), (len(first_seen), layer))
        in_progress.add(key)
        parent_keys = [visit(p) for p in parents]
        in_progress.discard(key)
        finished.add(key)
        order.append((key, layer, graph_node, parent_keys))
        return key

    for out in outputs:
        if not _is_kt(out):
            raise ValueError(
                "All `outputs` of a functional model must be symbolic tensors (the result of "
                f"calling layers on `kerax.Input`). Received: {out!r}"
            )
        visit(out)
    # Depths, as Keras computes them: a node is deeper than every node it feeds.
    depth, layer_depth = {}, {}
    for key, layer, _, parents in reversed(order):
        d = max(depth.get(key, 0), layer_depth.get(id(layer), 0))
        depth[key] = layer_depth[id(layer)] = d
        for p in parents:
            depth[p] = max(depth.get(p, 0), d + 1)
    for t in inputs:
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            first_seen[id(layer)] = (-1, layer)
    layers = sorted((l for _, l in first_seen.values()),
                    key=lambda l: (-layer_depth[id(l)], first_seen[id(l)][0]))
    nodes = [n for _, _, n, _ in order if not isinstance(n, tuple)]
    arity_by_depth = {}
    for key, _, graph_node, _ in order:
        arity = 0 if isinstance(graph_node, tuple) else len(
            _flat((graph_node.args, graph_node.kwargs)))
        arity_by_depth.setdefault(depth[key], []).append(arity)
    names = [l.name for l in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All '
                "layer names should be unique: pass distinct `name=` arguments."
            )
    return nodes, layers, arity_by_depth


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
        self._input_tensors = _flat_or_raise(inputs, "inputs")
        self._output_tensors = jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)
        nodes, layers, arity_by_depth = _map_graph(self._input_tensors, self._output_tensors)
        self._nodes = nodes
        for node in reversed(nodes):
            if not isinstance(node.layer, InputLayer):
                record_symbolic_build_shapes(node.layer, node.args)
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
            refs = [self._tensor_ref(t) for n in nodes for t in _flat((n.args, n.kwargs))]
            rows.append((layer, shape, ", ".join(f"{a}[{b}][{c}]" for a, b, c in refs)))
        if self._sequential_like():
            rows = [row[:2] for row in rows]
        return rows

    # ------------------------------------------------------------ serialization --
    def get_config(self):
        """Keras 3's functional config: layers with `inbound_nodes`, input/output refs."""
        def ser_tensor(t):
            if not _is_kt(t):
                return t
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(t.shape), "dtype": t.dtype,
                               "keras_history": self._tensor_ref(t)}}

        layers = []
        for layer in self._graph_layers:
            config = serialize(layer)
            config["name"] = layer.name
            inbound = []
            for node in self._nodes:
                if node.layer is layer:
                    args = jax.tree_util.tree_map(ser_tensor, node.args, is_leaf=_is_kt)
                    kw = jax.tree_util.tree_map(ser_tensor, node.kwargs, is_leaf=_is_kt)
                    inbound.append({"args": _lists(args), "kwargs": _lists(kw)})
            config["inbound_nodes"] = inbound
            layers.append(config)
        refs = lambda s: _lists(jax.tree_util.tree_map(self._tensor_ref, s, is_leaf=_is_kt))  # noqa
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": refs(self._inputs_struct),
                "output_layers": refs(self._outputs_struct)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the graph from `get_config()` (Keras 3's format)."""
        objects = {"Functional": Functional, "Sequential": model_config.model_class("Sequential"),
                   **(custom_objects or {})}
        created, outputs_of, pending = {}, {}, []
        for lc in config["layers"]:
            lc = {k: v for k, v in lc.items() if k not in ("name", "inbound_nodes")}
            lc.pop("build_config", None)
            layer = op_layer.from_layer_config(lc)  # a `kerax.ops` call (kerax's or Keras')
            if layer is None:
                layer = deserialize(lc, custom_objects=objects)
            name = config["layers"][len(created)]["name"]
            created[name] = layer
            offset = 1 if isinstance(layer, Functional) else 0
            outputs_of[name] = [None] * offset
            if isinstance(layer, InputLayer):
                outputs_of[name] = [[layer.output]]
            for node in config["layers"][len(created) - 1]["inbound_nodes"]:
                pending.append((name, node))

        def ready(data):
            refs = [d for d in _config_leaves(data) if _is_ref(d)]
            return all(_resolve(d, outputs_of, check=True) for d in refs)

        while pending:
            progress = False
            for item in list(pending):
                name, node = item
                if pending.index(item) != _first_of(pending, name):
                    continue
                if not ready(node):
                    continue
                args = _rebuild(node.get("args", []), outputs_of)
                kwargs = _rebuild(node.get("kwargs", {}), outputs_of)
                out = created[name](*args, **kwargs)
                outputs_of[name].append(jax.tree_util.tree_leaves(out, is_leaf=_is_kt))
                pending.remove(item)
                progress = True
            if not progress:
                raise ValueError(
                    "Cannot rebuild the functional model from its config: the nodes of "
                    f"layers {sorted({n for n, _ in pending})} refer to tensors that no "
                    "layer produces. The config is inconsistent."
                )
        ref = lambda r: outputs_of[r[0]][r[1]][r[2]]  # noqa: E731
        inputs = _map_refs(config["input_layers"], ref)
        outputs = _map_refs(config["output_layers"], ref)
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))


def adjust_input_rank(x, ref, path=""):
    """`x` fitted to the rank of the model input `ref` as Keras does: a trailing axis of
    size 1 is added (`(n, 28, 28)` for `Input((28, 28, 1))`) or squeezed (`(n, 6, 1)` for
    `Input((6,))`); any other difference in rank is an error that names the input.

    Example:
    >>> import numpy as np, kerax
    >>> adjust_input_rank(np.ones((2, 28, 28)), kerax.Input((28, 28, 1))).shape
    (2, 28, 28, 1)
    """
    if x is None or not hasattr(x, "shape"):
        return x
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
        m = mask_of(arg) if _flat(arg) else None
        if m is not None:
            out[names[j] if j < len(names) else f"arg{j}"] = m
    for k, v in node.kwargs.items():
        m = mask_of(v) if _flat(v) else None
        if m is not None:
            out[k] = m
    return out


def _is_ref(d):
    return isinstance(d, dict) and d.get("class_name") == "__keras_tensor__"


def _config_leaves(data):
    if _is_ref(data):
        yield data
    elif isinstance(data, (list, tuple)):
        for d in data:
            yield from _config_leaves(d)
    elif isinstance(data, dict):
        for d in data.values():
            yield from _config_leaves(d)


def _resolve(d, outputs_of, check=False):
    name, node_index, tensor_index = d["config"]["keras_history"]
    produced = outputs_of.get(name, [])
    if check:
        return node_index < len(produced) and produced[node_index] is not None
    return produced[node_index][tensor_index]


def _rebuild(data, outputs_of):
    if _is_ref(data):
        return _resolve(data, outputs_of)
    if isinstance(data, (list, tuple)):
        return [_rebuild(d, outputs_of) for d in data]
    if isinstance(data, dict):
        return {k: _rebuild(v, outputs_of) for k, v in data.items()}
    return data


def _first_of(pending, name):
    return next(i for i, (n, _) in enumerate(pending) if n == name)


def _is_ref_triple(x):
    return (isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str)
            and isinstance(x[1], int) and isinstance(x[2], int))


def _map_refs(struct, fn):
    if _is_ref_triple(struct):
        return fn(struct)
    if isinstance(struct, (list, tuple)):
        return [_map_refs(s, fn) for s in struct]
    if isinstance(struct, dict):
        return {k: _map_refs(v, fn) for k, v in struct.items()}
    raise ValueError(f"Invalid tensor reference in a functional config: {struct!r}")


def _flat_or_raise(inputs, what):
    flat = jax.tree_util.tree_leaves(inputs, is_leaf=_is_kt)
    bad = [x for x in flat if not _is_kt(x)]
    if bad or not flat:
        raise ValueError(
            f"All `{what}` of a functional model must be symbolic tensors from "
            f"`kerax.Input(...)` (or layer calls on them). Received: {bad or inputs!r}"
        )
    return flat


def _lists(tree):
    if isinstance(tree, (list, tuple)):
        return [_lists(t) for t in tree]
    if isinstance(tree, dict):
        return {k: _lists(v) for k, v in tree.items()}
    return tree


__all__ = ["Functional", "adjust_input_rank", "map_graph"]


def record_symbolic_build_shapes(layer, args):
    """Keras' `build_config` records the symbolic shapes a layer was built with (an unknown
    size stays None): replaces the probe shapes of a layer built by a symbolic call (on
    `args`); a layer built earlier on concrete arrays keeps their shapes, as in Keras."""
    if _fits(layer._build_shapes, args):
        layer._build_shapes = jax.tree_util.tree_map(lambda t: tuple(t.shape), tuple(args),
                                                     is_leaf=_is_kt)


def _fits(shapes, args):
    """Whether build shapes are those a layer got from its symbolic `args` (a probe batch
    of 1, other unknown sizes filled), not those of an earlier call on concrete arrays."""
    sym = jax.tree_util.tree_leaves(args, is_leaf=_is_kt)
    if shapes is None or not all(_is_kt(t) for t in sym):
        return False
    got = jax.tree_util.tree_leaves(shapes, is_leaf=lambda s: isinstance(s, tuple) and all(
        isinstance(d, (int, type(None))) for d in s))
    return len(got) == len(sym) and all(
        len(g) == len(t.shape) and all(
            (e == 1 if i == 0 else True) if d is None else d == e
            for i, (d, e) in enumerate(zip(t.shape, g)))
        for g, t in zip(got, sym))
