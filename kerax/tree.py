"""`kerax.tree`: Keras 3's nested-structure helpers, over `jax.tree_util`.

As in Keras, `None` is a leaf (JAX treats it as an empty subtree), dict keys are sorted,
and a JAX array is a leaf.

Example:
>>> flatten({"b": [1, None], "a": 2})
[2, 1, None]
"""

import jax


class MAP_TO_NONE:
    """Return this from a `traverse` function to replace a subtree with `None`."""


def _is_none(x):
    return x is None


def _flatten(structure, is_leaf=_is_none):
    return jax.tree_util.tree_flatten(structure, is_leaf=is_leaf)


def is_nested(structure):
    """True when `structure` is a container (list, tuple, dict, ...) rather than a leaf.

    Example:
    >>> is_nested([1]), is_nested(None), is_nested(1)
    (True, False, False)
    """
    if structure is None:
        return False
    leaves, treedef = _flatten(structure)
    return not (treedef.num_nodes == 1 and treedef.num_leaves == 1)


def _children(structure):
    """The direct children of `structure` and how to rebuild it, or None for a leaf."""
    if not is_nested(structure):
        return None
    children, treedef = jax.tree_util.tree_flatten(
        structure, is_leaf=lambda x: x is not structure
    )
    return children, treedef


def traverse(func, structure, top_down=True):
    """Applies `func` to every node (containers included) of `structure`.

    Top-down, a node where `func` returns something other than None is replaced by it and
    not visited further; bottom-up, `func` sees the already traversed children. Return
    `MAP_TO_NONE` to put `None` in the result.

    Example:
    >>> traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2, 3)])
    [10, (20, 30)]
    """

    def visit_children(node):
        found = _children(node)
        if found is None:
            return node
        children, treedef = found
        out = jax.tree_util.tree_unflatten(
            treedef, [traverse(func, c, top_down=top_down) for c in children]
        )
        return _keep_key_order(node, out)

    if top_down:
        out = func(structure)
        if out is None:
            return visit_children(structure)
    else:
        structure = visit_children(structure)
        out = func(structure)
        if out is None:
            return structure
    return None if out is MAP_TO_NONE else out


def flatten(structure):
    """The leaves of `structure`, in Keras' order (dict keys sorted), `None` included.

    Example:
    >>> flatten([1, (2, {"y": 3, "x": 4})])
    [1, 2, 4, 3]
    """
    return _flatten(structure)[0]


def flatten_with_path(structure):
    """`(path, leaf)` pairs, where a path is a tuple of dict keys and sequence indices.

    Example:
    >>> flatten_with_path({"a": [5, 6]})
    [(('a', 0), 5), (('a', 1), 6)]
    """
    found = _children(structure)
    if found is None:
        return [((), structure)]
    keyed, _ = jax.tree_util.tree_flatten_with_path(
        structure, is_leaf=lambda x: x is not structure
    )
    pairs = []
    for position, ((key,), child) in enumerate(keyed):
        entry = key.key if hasattr(key, "key") else position
        pairs += [((entry,) + path, leaf) for path, leaf in flatten_with_path(child)]
    return pairs


def _keep_key_order(template, out):
    """JAX rebuilds dicts with sorted keys; Keras keeps the template's key order."""
    if type(template) is dict and type(out) is dict and template.keys() == out.keys():
        return {k: _keep_key_order(template[k], out[k]) for k in template}
    if isinstance(template, (list, tuple)) and isinstance(out, (list, tuple)) and len(
        template
    ) == len(out):
        items = [_keep_key_order(t, o) for t, o in zip(template, out)]
        return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)
    return out


def _check_same(*structures):
    first = jax.tree_util.tree_structure(structures[0], is_leaf=_is_none)
    for other in structures[1:]:
        if jax.tree_util.tree_structure(other, is_leaf=_is_none) != first:
            raise ValueError(
                "Structures don't have the same nested structure. "
                f"First structure: {structures[0]!r}, other structure: {other!r}"
            )


def map_structure(func, *structures, none_is_leaf=True):
    """Applies `func` leaf-wise to structures of the same shape.

    Example:
    >>> map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)])
    [11, (22,)]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    _check_same(*structures)
    is_leaf = _is_none if none_is_leaf else None
    out = jax.tree_util.tree_map(func, *structures, is_leaf=is_leaf)
    return _keep_key_order(structures[0], out)


def map_structure_up_to(shallow_structure, func, *structures):
    """Applies `func` to the subtrees of `structures` at the leaves of `shallow_structure`.

    Example:
    >>> map_structure_up_to([None, None], len, [[1, 2], (3,)])
    [2, 1]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    leaves, treedef = _flatten(shallow_structure)
    subtrees = [treedef.flatten_up_to(s) for s in structures]
    out = jax.tree_util.tree_unflatten(treedef, [func(*args) for args in zip(*subtrees)])
    return _keep_key_order(shallow_structure, out)


def assert_same_structure(a, b, check_types=None):
    """Raises `ValueError` when `a` and `b` are not nested the same way.

    Example:
    >>> assert_same_structure([1, (2,)], [3, (4,)])
    """
    _check_same(a, b)


def assert_same_paths(a, b):
    """Raises `ValueError` when `a` and `b` do not have the same set of leaf paths.

    Example:
    >>> assert_same_paths({"a": 1}, {"a": [2][0]})
    """
    a_paths = {p for p, _ in flatten_with_path(a)}
    b_paths = {p for p, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        raise ValueError(
            "`a` and `b` don't have the same paths. "
            f"Paths in `a` missing in `b`: {sorted(a_paths - b_paths, key=str)}. "
            f"Paths in `b` missing in `a`: {sorted(b_paths - a_paths, key=str)}."
        )


def pack_sequence_as(structure, flat_sequence):
    """Packs the leaves `flat_sequence` into the nesting of `structure`.

    Example:
    >>> pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])
    {'b': 3, 'a': [1, 2]}
    """
    leaves, treedef = _flatten(structure)
    flat_sequence = list(flat_sequence)
    if len(flat_sequence) != len(leaves):
        raise ValueError(
            f"The structure has {len(leaves)} leaves but `flat_sequence` has "
            f"{len(flat_sequence)} elements. Structure: {structure!r}"
        )
    return _keep_key_order(structure, jax.tree_util.tree_unflatten(treedef, flat_sequence))


def lists_to_tuples(structure):
    """`structure` with every list turned into a tuple.

    Example:
    >>> lists_to_tuples([1, [2, {"a": [3]}]])
    (1, (2, {'a': (3,)}))
    """
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure,
                    top_down=False)


def _is_shape(x):
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_structure(func, structure):
    """Like `map_structure`, but a tuple/list of ints and Nones (a shape) is one leaf.

    Example:
    >>> map_shape_structure(lambda s: s[0], {"x": (2, 3), "y": [(4,)]})
    {'x': 2, 'y': [4]}
    """
    out = jax.tree_util.tree_map(func, structure, is_leaf=lambda x: x is None or _is_shape(x))
    return _keep_key_order(structure, out)

# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
    "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure",
    "map_structure_up_to", "pack_sequence_as", "traverse",
]
