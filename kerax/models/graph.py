"""The graph of layer calls between symbolic inputs and outputs, ordered as Keras orders it.

Calling a layer on a `KerasTensor` records a `Node` (see `kerax.backend.keras_tensor`);
`map_graph` walks those nodes back from the outputs. Used by `Functional` (and
`Sequential`'s graph views).
"""

import jax

from kerax.backend.keras_tensor import KerasTensor
from kerax.layers.core.input_layer import InputLayer

_is_kt = lambda x: isinstance(x, KerasTensor)  # noqa: E731


def flat_tensors(tree):
    """The `KerasTensor` leaves of `tree`, in order."""
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
    nodes, layers, _ = map_graph_by_depth(inputs, outputs)
    return nodes, layers


def map_graph_by_depth(inputs, outputs):
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
            layer, parents = graph_node.layer, flat_tensors((graph_node.args, graph_node.kwargs))
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
            flat_tensors((graph_node.args, graph_node.kwargs)))
        arity_by_depth.setdefault(depth[key], []).append(arity)
    names = [l.name for l in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All '
                "layer names should be unique: pass distinct `name=` arguments."
            )
    return nodes, layers, arity_by_depth


def flat_or_raise(inputs, what):
    flat = jax.tree_util.tree_leaves(inputs, is_leaf=_is_kt)
    bad = [x for x in flat if not _is_kt(x)]
    if bad or not flat:
        raise ValueError(
            f"All `{what}` of a functional model must be symbolic tensors from "
            f"`kerax.Input(...)` (or layer calls on them). Received: {bad or inputs!r}"
        )
    return flat


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
