"""Keras 3's config of a functional model (layers with `inbound_nodes`, input and output
references) and the graph rebuilt from it: `Functional.get_config` / `from_config`."""

import jax

from kerax.backend.keras_tensor import KerasTensor
from kerax.layers import deserialize, serialize
from kerax.layers.core import op_layer
from kerax.layers.core.input_layer import InputLayer
from kerax.saving import model_config

_is_kt = lambda x: isinstance(x, KerasTensor)  # noqa: E731


def get_config(model):
    """Keras 3's functional config: layers with `inbound_nodes`, input/output refs."""
    def ser_tensor(t):
        if not _is_kt(t):
            return t
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype,
                           "keras_history": model._tensor_ref(t)}}

    layers = []
    for layer in model._graph_layers:
        config = serialize(layer)
        config["name"] = layer.name
        inbound = []
        for node in model._nodes:
            if node.layer is layer:
                args = jax.tree_util.tree_map(ser_tensor, node.args, is_leaf=_is_kt)
                kw = jax.tree_util.tree_map(ser_tensor, node.kwargs, is_leaf=_is_kt)
                inbound.append({"args": _lists(args), "kwargs": _lists(kw)})
        config["inbound_nodes"] = inbound
        layers.append(config)
    refs = lambda s: _lists(jax.tree_util.tree_map(model._tensor_ref, s, is_leaf=_is_kt))  # noqa
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": refs(model._inputs_struct),
            "output_layers": refs(model._outputs_struct)}

def from_config(cls, config, custom_objects=None):
    """Rebuilds the graph from `get_config()` (Keras 3's format)."""
    functional = model_config.model_class("Functional")
    objects = {"Functional": functional, "Sequential": model_config.model_class("Sequential"),
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
        offset = 1 if isinstance(layer, functional) else 0
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


def _lists(tree):
    if isinstance(tree, (list, tuple)):
        return [_lists(t) for t in tree]
    if isinstance(tree, dict):
        return {k: _lists(v) for k, v in tree.items()}
    return tree
