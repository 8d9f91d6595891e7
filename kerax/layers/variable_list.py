"""`layer.variables`: Keras' list of variables that also reads as kerax's variables tree.

Keras 3's `layer.variables` is a flat list of `Variable`s (weights, then `SeedGenerator`
states, sub-layers' after the layer's own); kerax's pure API passes the
`{"params": ..., "state": ...}` tree that `init` returns and `apply` takes. A
`VariableList` is both: a `list` of the layer's variable views in Keras' order
(`len`, indexing, iteration, `v.assign`, `v.path`), which also answers
`["params"]` / `["state"]` / `keys()` / `items()` with the tree's dicts, and is a pytree
node that flattens to that tree — so `jax.jit(model.apply)(model.variables, x)` and
`jax.tree.map(f, model.variables)` work, and both give plain dicts back.

`dict(model.variables)` is the tree as a plain dict: use it where a plain dict is needed,
e.g. `jax.tree.map(f, dict(model.variables), other_tree)` with a tree that came from
elsewhere (JAX compares node types, and a `VariableList` is not a `dict`). A pickle or a
`copy.deepcopy` of the list is that plain dict too (a snapshot of the numbers).

Example:
>>> import jax, numpy as np, kerax
>>> layer = kerax.layers.Dense(2, name="d")
>>> _ = layer(np.ones((1, 3)))
>>> [v.path for v in layer.variables]                    # Keras' list
['d/kernel', 'd/bias']
>>> layer.variables["params"]["kernel"].shape            # kerax's tree
(3, 2)
>>> y, _ = jax.jit(layer.apply)(layer.variables, np.ones((1, 3)))
>>> sorted(jax.tree.map(np.shape, layer.variables)["params"].items())
[('bias', (2,)), ('kernel', (3, 2))]
"""

import jax


class VariableList(list):
    """Keras' `layer.variables` (a list of variable views) over kerax's variables tree
    (`tree`: `{"params": ..., "state": ...}` as stored when the list was made, or None
    for a layer that is not built)."""

    __slots__ = ("_tree", "_owner")

    def __init__(self, views, tree, owner):
        super().__init__(views)
        self._tree = tree
        self._owner = owner  # the layer's name, for the error of an unbuilt layer

    @property
    def tree(self):
        """The `{"params": ..., "state": ...}` dict (what `init` returns, `apply` takes)."""
        if self._tree is None:
            raise ValueError(
                f"Layer '{self._owner}' is not built yet, so its `variables` is an empty list "
                "with no `{\"params\": ..., \"state\": ...}` tree to read. Call it on an input "
                "(or `build(input_shape)`), or make the tree with `layer.init(key, x)`."
            )
        return self._tree

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.tree[key]
        return super().__getitem__(key)

    def __contains__(self, item):
        if isinstance(item, str):
            return self._tree is not None and item in self._tree
        return super().__contains__(item)

    def keys(self):
        return self.tree.keys()

    def values(self):
        return self.tree.values()

    def items(self):
        return self.tree.items()

    def get(self, key, default=None):
        return default if self._tree is None else self._tree.get(key, default)

    def __copy__(self):
        return VariableList(self, self._tree, self._owner)

    def __reduce__(self):
        # The views are handles on a live layer; the numbers are in the tree. So a pickle
        # (or a `copy.deepcopy`, a snapshot) is the tree as a plain dict, as it was before
        # `variables` became a list: `layer.variables = snapshot` restores it.
        return (list, ()) if self._tree is None else (dict, (self._tree,))


def as_tree(variables):
    """`variables` as the plain `{"params": ..., "state": ...}` tree: a `VariableList`'s
    tree (None for an unbuilt layer's); any other value as it is."""
    if isinstance(variables, VariableList):
        return variables._tree
    return variables


def _flatten_with_keys(v):
    tree = v._tree or {}
    keys = tuple(sorted(tree))  # as JAX flattens the dict itself
    return [(jax.tree_util.DictKey(k), tree[k]) for k in keys], (v._tree is None, keys)


def _flatten(v):
    children, aux = _flatten_with_keys(v)
    return [c for _, c in children], aux


def _unflatten(aux, children):
    unbuilt, keys = aux
    return None if unbuilt else dict(zip(keys, children))


jax.tree_util.register_pytree_with_keys(VariableList, _flatten_with_keys, _unflatten,
                                        _flatten)


__all__ = ["VariableList", "as_tree"]
