"""Where a layer's variables live: one tree per model, each layer a link into it.

A layer's variables are stored once, in the `LiveTree` of the outermost layer they were
last set through, and every layer below holds a link `(tree, path)` to its part of it.
So replacing a model's whole tree — what `fit` does after every compiled execution — is
one assignment (`store`), and `layer.kernel`, `layer.weights`, `get_weights()` and
`model.variables` read the new numbers through their links, lazily (DESIGN.md, "Keras'
object model is a view of the pytree"). Setting one layer's variables (an eager call,
`set_weights`, `assign`) writes its part of the tree, copying only the dicts on its path,
so a layer shared by two models, or taken out of one, reads and writes the same numbers
wherever it is used: the tree it was last set through.

Example:
>>> import numpy as np, kerax
>>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1, name="d")])
>>> store(model, {"params": {"d": {"kernel": np.ones((2, 1)), "bias": np.zeros(1)}},
...               "state": {}})
>>> model.layers[0].kernel.numpy().tolist()
[[1.0], [1.0]]
"""

import weakref

import jax


class LiveTree:
    """The `{"params": ..., "state": ...}` of one outermost layer (`root`, held weakly),
    read by every layer linked to it."""

    __slots__ = ("_variables", "writes", "root")

    def __init__(self, root):
        self._variables, self.writes, self.root = None, 0, weakref.ref(root)

    @property
    def variables(self):
        return self._variables

    @variables.setter
    def variables(self, value):
        self._variables = value
        self.writes += 1


_relinks = [0]  # counts link changes: a `store` checked before one re-links its model


def _link(layer, tree, path):
    link = layer.__dict__.get("_live")
    if link is None or link[0] is not tree or link[1] != path:
        layer.__dict__["_live"] = (tree, path)
        _relinks[0] += 1


def unlink(layer):
    """Forgets `layer`'s own variables (it reads as not built; sub-layers keep theirs)."""
    if layer.__dict__.pop("_live", None) is not None:
        _relinks[0] += 1


def read(layer, collection):
    """`layer`'s `collection` dict (its sub-layers' entries included) as stored now, or
    None when it has no variables."""
    link = layer.__dict__.get("_live")
    if link is None:
        return None
    tree, path = link
    node = tree.variables[collection]
    for name in path:
        node = node.get(name)
        if node is None:
            return {}
    return node


def read_all(layer):
    """`layer`'s `{"params": ..., "state": ...}` (its sub-layers' entries included) as
    stored now, or None when it has no variables."""
    link = layer.__dict__.get("_live")
    if link is None:
        return None
    tree, path = link
    if not path:
        return tree.variables
    params, state = tree.variables["params"], tree.variables["state"]
    for name in path:
        params, state = params.get(name, {}), state.get(name, {})
    return {"params": params, "state": state}


def claim(layer, variables):
    """Sets `layer`'s variables and its sub-layers': a layer inside another's tree writes
    its part of that tree; otherwise they make a new tree. Every sub-layer is linked to
    its part.

    A walk over the layers (what a layer's `_variables = ...` does); `store` is the O(1)
    form for a model whose links were checked. A layer no longer in the model (popped)
    keeps reading the tree it was linked to.
    """
    link = layer.__dict__.get("_live")
    if link is None or not link[1] or link[0].root() is None:
        link = (LiveTree(layer), ())  # a layer whose model is gone frees that model's tree
    tree, path = link
    seeds = []
    value = _claim(layer, variables, tree, path, (), seeds)
    tree.variables = value if not path else _replace(tree.variables, path, value)
    layer.__dict__["_live_checked"] = (tree, path, _relinks[0], seeds)


def _claim(layer, variables, tree, path, rel, seeds):
    params, state = variables.get("params", {}), variables.get("state", {})
    for name, generator in layer.__dict__.get("_seed_generators", {}).items():
        seeds.append((generator, rel, name))
        if name in state and not isinstance(state[name], jax.core.Tracer):
            generator._state = state[name]  # eager calls and `fit` advance the seed
    _link(layer, tree, path)
    children = layer._children()
    own_params = {k: v for k, v in params.items() if k not in children}
    own_state = {k: v for k, v in state.items() if k not in children}
    for name, child in children.items():
        sub = _claim(child, {"params": params.get(name, {}), "state": state.get(name, {})},
                     tree, path + (name,), rel + (name,), seeds)
        if sub["params"]:  # as `model.variables` lists them: no empty sub-layer dicts
            own_params[name] = sub["params"]
        if sub["state"]:
            own_state[name] = sub["state"]
    return {"params": own_params, "state": own_state}


def check(layer):
    """Verifies (or re-makes) the links of `layer`'s sub-layers to its tree, once per
    `fit` epoch, so that the `store`s after its executions are single assignments."""
    link = layer.__dict__.get("_live")
    if link is None:
        return
    seeds = []
    alive = not link[1] or link[0].root() is not None  # else its model is gone: claim
    if alive and _linked(layer, link[0], link[1], (), seeds):
        layer.__dict__["_live_checked"] = (link[0], link[1], _relinks[0], seeds)
        return
    variables = layer._variables  # a sub-layer added, or set through another model
    if variables is not None:
        claim(layer, variables)


def _linked(layer, tree, path, rel, seeds):
    link = layer.__dict__.get("_live")
    if link is None or link[0] is not tree or link[1] != path:
        return False
    seeds.extend((g, rel, n) for n, g in layer.__dict__.get("_seed_generators", {}).items())
    return all(_linked(child, tree, path + (name,), rel + (name,), seeds)
               for name, child in layer._children().items())


def store(layer, variables):
    """Makes `variables` the current variables of `layer` and all its sub-layers.

    After `check(layer)` (and while no layer was re-linked since) this replaces one
    reference, whatever the number of layers (plus the states of `SeedGenerator`s the
    layers own); otherwise it is `claim`.
    """
    checked = layer.__dict__.get("_live_checked")
    link = layer.__dict__.get("_live")
    if (checked is None or link is None or checked[2] != _relinks[0]
            or checked[0] is not link[0] or checked[1] != link[1]):
        claim(layer, variables)
        return
    tree, path, _, seeds = checked
    tree.variables = variables if not path else _replace(tree.variables, path, variables)
    state = variables["state"]
    for generator, rel, name in seeds:
        node = state
        for p in rel:
            node = node.get(p, {})
        if name in node:
            generator._state = node[name]


def read_checked(layer):
    """The variables of a model whose links `check`/`claim` verified (as `store` needs),
    read from its tree in O(1); None when they must be gathered from its layers."""
    checked = layer.__dict__.get("_live_checked")
    link = layer.__dict__.get("_live")
    if (checked is None or link is None or link[1] or checked[2] != _relinks[0]
            or checked[0] is not link[0] or checked[1]):
        return None
    return link[0].variables


def write(layer, collection, name, value):
    """Sets `layer`'s own variable `name` in `collection` (a view's eager `assign`)."""
    tree, path = layer.__dict__["_live"]
    tree.variables = {**tree.variables, collection: _put(tree.variables[collection],
                                                         path + (name,), value)}


def version(layer):
    """A token of `layer`'s variables now (see `changed_since`); it holds no arrays."""
    link = layer.__dict__.get("_live")
    return None if link is None else (id(link[0]), link[0].writes, _relinks[0])


def changed_since(layer, token):
    """Whether `layer`'s tree was written, or any layer re-linked, since `version` gave
    `token` (a callback's `assign` or `set_weights` between two executions of `fit`).
    A new tree is always made with a new link, so the same link count means the same
    tree."""
    return token is None or version(layer) != token


def _replace(variables, path, value):
    return {c: _put(variables[c], path, value[c]) for c in ("params", "state")}


def _put(node, path, value):
    """`node` with `value` at `path`, copying the dicts on the path; an empty sub-layer
    dict is left out, as `model.variables` leaves it out."""
    name, rest = path[0], path[1:]
    inner = _put(node.get(name, {}), rest, value) if rest else value
    out = dict(node)
    if isinstance(inner, dict) and not inner:
        out.pop(name, None)
    else:
        out[name] = inner
    return out


__all__ = ["LiveTree", "claim", "check", "store", "read", "read_all", "write", "unlink",
           "version", "changed_since"]
