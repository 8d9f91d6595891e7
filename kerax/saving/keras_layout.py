"""Where each weight of a kerax model lives in Keras 3's weights file.

Keras 3 writes a layer's own variables as `<path>/vars/0`, `<path>/vars/1`, ... (trainable
first, then non-trainable, in creation order) and finds `<path>` by walking the model:
`Sequential` and functional models list their layers under `layers/` named by the
snake-cased class (`layers/dense`, `layers/dense_1`, ...); other layers and subclassed
models use attribute names (`encoder/vars/0`), visited in sorted order with private names
last, lists becoming containers, each layer saved once (at its first path). This module
computes that layout for a kerax model; `saving_lib` reads and writes it.
"""

from kerax.backend.naming import to_snake_case
from kerax.layers.layer import Layer
from kerax.saving import model_config

# Keras' attribute names for the children of built-in composite layers, where kerax keys
# their variables differently.
_KERAS_CHILD_NAMES = {
    "MultiHeadAttention": {"query": "query_dense", "key": "key_dense",
                           "value": "value_dense", "output": "output_dense",
                           "attention_output": "output_dense"},
}


class Entry:
    """One layer's group: its Keras path, its name, and its own weights' kerax locations.

    `leaves` lists `(collection, path)` pairs into the model's variables, in the order of
    the datasets `vars/0`, `vars/1`, ... A layer whose file values are not its variables
    as they are (LoRA writes its kernel merged, as Keras' `save_own_variables`) has the
    hooks `_keras_file_values(variables, prefix, leaves)` and
    `_keras_after_load(variables, prefix)`.
    """

    def __init__(self, path, name, leaves, layer=None, prefix=None):
        self.path, self.name, self.leaves = path, name, leaves
        self.layer, self.prefix = layer, prefix

    def values(self, variables):
        """The arrays the file holds for this entry, in the order of `leaves`."""
        hook = getattr(type(self.layer), "_keras_file_values", None)
        if hook is not None and self.leaves:
            return hook(self.layer, variables, self.prefix, self.leaves)
        return [_get(variables[c], p) for c, p in self.leaves]

    def after_load(self, variables):
        """Lets the layer adjust `variables` (a fresh copy) once its file values are in."""
        hook = getattr(type(self.layer), "_keras_after_load", None)
        if hook is not None and self.leaves:
            hook(self.layer, variables, self.prefix)

    def __repr__(self):
        return f"Entry({self.path!r}, {self.name!r}, {len(self.leaves)} weights)"


def weight_layout(model):
    """The Keras 3 weights-file layout of a built kerax model, as a list of `Entry`.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> [(e.path, len(e.leaves)) for e in weight_layout(m)]
    [('', 0), ('layers/dense', 2)]
    """
    out = []
    _walk_layer(model, model._variables or {}, (), "", set(), out)
    return out


def _own_leaves(layer, variables, prefix):
    """The layer's own weights in creation order (pytree dicts lose it: keys get sorted).

    A layer whose Keras file stores other weights as its own (SpectralNormalization keeps
    the wrapped kernel twice) lists them with a `_keras_own_leaves(variables, prefix)` hook.
    """
    hook = getattr(layer, "_keras_own_leaves", None)
    if hook is not None:
        return hook(variables, prefix)
    leaves = []
    seeds = layer.__dict__.get("_seed_generators", {})  # Keras saves no seed state
    for coll, names in zip(("params", "state"), layer._weight_names):
        tree = _at(variables.get(coll, {}), prefix)
        own = [k for k, v in tree.items() if not isinstance(v, dict)
               and not (coll == "state" and k in seeds)]
        ordered = [n for n in names if n in own] + [k for k in own if k not in names]
        leaves += [(coll, prefix + (k,)) for k in ordered]
    return leaves


def _at(tree, prefix):
    for p in prefix:
        tree = tree.get(p, {}) if isinstance(tree, dict) else {}
    return tree if isinstance(tree, dict) else {}


def _walk_layer(layer, variables, prefix, path, visited, out):
    if id(layer) in visited:
        return
    leaves = _own_leaves(layer, variables, prefix) if prefix is not None else []
    out.append(Entry(path, layer.name, leaves, layer, prefix))
    visited.add(id(layer))
    keys = {id(child): key for key, child in layer._children().items()}
    for attr, child in _keras_children(layer):
        child_path = f"{path}/{attr}" if path else attr
        _walk_value(child, variables, prefix, keys, child_path, visited, out)


def _walk_value(value, variables, prefix, keys, path, visited, out):
    if isinstance(value, Layer):
        key = keys.get(id(value))
        child_prefix = prefix + (key,) if key is not None and prefix is not None else None
        _walk_layer(value, variables, child_prefix, path, visited, out)
    elif isinstance(value, (list, tuple, dict)):
        used = {}
        items = list(value.values()) if isinstance(value, dict) else list(value)
        for item in items:
            if isinstance(item, Layer):
                name = _unique(to_snake_case(type(item).__name__), used)
            elif isinstance(item, (list, tuple, dict)):
                name = _unique("container", used)
            else:
                continue
            _walk_value(item, variables, prefix, keys, f"{path}/{name}", visited, out)


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _keras_children(layer):
    """`(attribute, layer-or-container)` pairs in the order Keras' saver visits them."""
    if isinstance(layer, model_config.model_class("Sequential")) or _is_functional(layer):
        return [("layers", layer.layers)]
    if layer._sublayers:
        items = dict(layer._sublayers)
        if isinstance(layer, model_config.model_class("Model")):
            items["layers"] = layer.layers
        return sorted(items.items(), key=lambda kv: "~" + kv[0] if kv[0].startswith("_")
                      else kv[0])
    names = _KERAS_CHILD_NAMES.get(type(layer).__name__, {})
    items = [(names.get(k, k), child) for k, child in layer._children().items()]
    # Layers Keras saves that hold no variables here (TextVectorization's `_lookup_layer`).
    items += list(getattr(layer, "_keras_saved_children", dict)().items())
    return sorted(items, key=lambda kv: "~" + kv[0] if kv[0].startswith("_") else kv[0])


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _is_functional(layer):
    return type(layer).__name__ == "Functional" or any(
        c.__name__ == "Functional" for c in type(layer).__mro__)
