"""Questions about symbolic tensors: `is_keras_tensor`, `get_source_inputs`."""

import jax

from kerax.backend.keras_tensor import KerasTensor, is_keras_tensor  # noqa: F401


def get_source_inputs(tensor):
    """The `Input` tensors that a symbolic tensor is computed from, as a list.

    The graph recorded by calling layers on symbolic tensors is walked back to its
    inputs; each input is listed once, in the order first reached (as Keras 3 does).
    A value that is not a symbolic tensor is returned as it is, as in Keras.

    Args:
        tensor: a `KerasTensor`, e.g. the output of a layer called on `kerax.Input`.

    Returns:
        A list of `KerasTensor`s (the `Input`s, or `[tensor]` for a tensor with no
        recorded history).

    Example:
    >>> import kerax
    >>> a, b = kerax.Input((2,), name="a"), kerax.Input((2,), name="b")
    >>> y = kerax.layers.Dense(1)(kerax.layers.Add()([a, b]))
    >>> [t.name for t in kerax.utils.get_source_inputs(y)]
    ['a', 'b']
    """
    if not hasattr(tensor, "_keras_history"):
        return tensor
    sources, seen, todo = [], set(), [tensor]
    # Depth-first, left to right, as Keras' recursion visits the node inputs.
    while todo:
        t = todo.pop()
        history = t._keras_history
        nodes = getattr(history[0], "_inbound_nodes", None) if history else None
        if not nodes:  # an `Input` (its layer records no call nodes) or a bare tensor
            if id(t) not in seen:
                seen.add(id(t))
                sources.append(t)
            continue
        node = nodes[history[1]]
        parents = [p for p in jax.tree_util.tree_leaves(
            (node.args, node.kwargs), is_leaf=lambda v: isinstance(v, KerasTensor))
            if isinstance(p, KerasTensor)]
        todo.extend(reversed(parents))
    return sources
