"""Calling a layer on symbolic tensors (`kerax.Input`): builds the layer, records a
functional `Node`, and returns `KerasTensor`s with Keras' shapes and masks.

Masks follow Keras' `Layer.__call__`: the `_keras_mask` of the inputs is passed to a
layer whose `call`/`forward` takes `mask` (or `<arg>_mask`), and the outputs carry the
layer's output mask as `_keras_mask` (see `kerax.layers.core.masking` for the rules).
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend.keras_tensor import UNKNOWN_SIZE, KerasTensor
from kerax.layers import keras_mask as masking
from kerax.layers.input_spec import assert_input_compatibility, relax_input_spec

_PREVIOUS_MASK = "__kerax_previous_mask__"
_is_kt = lambda v: isinstance(v, KerasTensor)  # noqa: E731


def _to_spec(x):
    return x.spec() if isinstance(x, KerasTensor) else x


def call_symbolic(layer, args, kwargs):
    """Builds `layer` for symbolic inputs and returns symbolic outputs with history."""
    is_kt = _is_kt
    kw = {k: v for k, v in kwargs.items() if k not in ("training", "rng")}
    in_masks = _input_masks(layer, args, kw)
    previous = kw.get("mask")
    if in_masks:
        kw = {**kw, **masking.mask_kwargs(layer, in_masks, given=kw)}
        previous = kw.get("mask", next(iter(in_masks.values())))
    if previous is not None:
        kw[_PREVIOUS_MASK] = previous
    specs = jax.tree_util.tree_map(_to_spec, args, is_leaf=is_kt)
    kw_specs = jax.tree_util.tree_map(_to_spec, kw, is_leaf=is_kt)
    # Check the input spec on the symbolic shape first, so errors show `None` batch axes.
    first_arg = args[0] if args and is_kt(args[0]) else None
    assert_input_compatibility(layer, layer.input_spec, first_arg)
    if layer._variables is None:
        layer.build_eagerly(*specs)
        assert_input_compatibility(layer, layer.input_spec, first_arg)
    relax_input_spec(layer, first_arg)
    def shapes(a, k):
        # Only array-like keyword arguments are traced; flags such as `reverse=True` or
        # `use_causal_mask=True` reach the layer as the Python values they are.
        k = dict(k)
        prev = k.pop(_PREVIOUS_MASK, None)
        static = {n: val for n, val in k.items() if not _has_arrays(val)}
        dynamic = {n: val for n, val in k.items() if n not in static}

        def run(v, a, d, prev):
            out = layer.apply(v, *a, **d, **static)[0]
            return out, masking.output_mask(layer, a[0] if a else None, prev)

        return jax.eval_shape(run, layer._variables, a, dynamic, prev)

    # Unknown sizes are traced at two real sizes first: a placeholder size of 1 is not a
    # valid input to every layer (Cropping1D(1) on a sequence of unknown length).
    host_spec = getattr(layer, "host_output_spec", None)  # host layers cannot be traced
    out = (host_spec(*args), None) if host_spec is not None else \
        _unknown_inner_dims(shapes, args, kw, is_kt)
    if out is None:
        out = shapes(specs, kw_specs)
    out, out_mask = out
    first = jax.tree_util.tree_leaves(args, is_leaf=is_kt)
    batch_unknown = bool(first) and is_kt(first[0]) and first[0].shape[:1] == (None,)
    node = Node(layer, args, kwargs)
    counter = iter(range(10**9))

    def to_kt(o):
        shape = tuple(o.shape)
        if batch_unknown and shape:
            shape = (None,) + shape[1:]
        return KerasTensor(shape, o.dtype, history=(layer, node.index, next(counter)))

    node.outputs = jax.tree_util.tree_map(to_kt, out)
    _attach_masks(node.outputs, out_mask, batch_unknown)
    return node.outputs


def _input_masks(layer, args, kwargs):
    """`{argument_name: mask}` for the symbolic arguments that carry a `_keras_mask`."""
    names = [n for n in masking.call_parameters(layer) if n not in ("self", "params", "state")]

    def mask_of(value):
        if not any(_is_kt(t) for t in jax.tree_util.tree_leaves(value, is_leaf=_is_kt)):
            return None
        found = jax.tree_util.tree_map(lambda t: getattr(t, "_keras_mask", None) if _is_kt(t)
                                       else None, value, is_leaf=_is_kt)
        return found if jax.tree_util.tree_leaves(found, is_leaf=_is_kt) else None

    masks = {}
    for j, arg in enumerate(args):
        m = mask_of(arg)
        if m is not None:
            masks[names[j] if j < len(names) else f"arg{j}"] = m
    for k, v in kwargs.items():
        m = mask_of(v) if not k.endswith("mask") else None
        if m is not None:
            masks[k] = m
    return masks


def _attach_masks(outputs, out_mask, batch_unknown):
    """Sets Keras' `_keras_mask` on the symbolic outputs: one mask per output, or one
    mask for all of them."""
    masks = jax.tree_util.tree_leaves(out_mask)
    outs = [t for t in jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt) if _is_kt(t)]
    if not masks or len(masks) not in (1, len(outs)):
        return
    for t, m in zip(outs, masks * len(outs) if len(masks) == 1 else masks):
        shape = tuple(m.shape)
        if batch_unknown and shape:
            shape = (None,) + shape[1:]
        t._keras_mask = KerasTensor(shape, m.dtype)


def _has_arrays(value):
    """Whether a (nested) argument holds a tensor, an array or an abstract array."""
    return any(isinstance(leaf, (KerasTensor, jax.Array, jax.ShapeDtypeStruct, np.ndarray))
               for leaf in jax.tree_util.tree_leaves(
                   value, is_leaf=lambda v: isinstance(v, KerasTensor)))


def _unknown_inner_dims(shapes, args, kw, is_kt):
    """The output shapes, with `None` for the output dimensions that follow an unknown
    non-batch input dimension (a sequence length, an image size): the layer is traced with
    those input dimensions at 64 and at 96 (sizes that stay apart through strides up to
    32), and the output dimensions that differ are unknown. None when no input has an
    unknown non-batch dimension, or when the layer does not trace at those sizes."""
    kts = [v for v in jax.tree_util.tree_leaves((args, kw), is_leaf=is_kt) if is_kt(v)]
    if not any(None in v.shape[1:] for v in kts):
        return None

    def spec(x, inner):
        if not is_kt(x):
            return x
        dims = tuple(1 if d is None and i == 0 else inner if d is None else d
                     for i, d in enumerate(x.shape))
        return jax.ShapeDtypeStruct(dims, jnp.dtype(x.dtype))

    try:
        two, three = (shapes(jax.tree_util.tree_map(lambda x: spec(x, n), args, is_leaf=is_kt),
                             jax.tree_util.tree_map(lambda x: spec(x, n), kw, is_leaf=is_kt))
                      for n in (UNKNOWN_SIZE, UNKNOWN_SIZE * 3 // 2))
    except Exception:  # a layer that only traces at the built sizes keeps those shapes
        return None
    if jax.tree_util.tree_structure(two) != jax.tree_util.tree_structure(three):
        return None

    def merge(a, b):
        dims = tuple(None if x != y else x for x, y in zip(a.shape, b.shape))
        return _Shaped(dims, a.dtype)

    return jax.tree_util.tree_map(merge, two, three)


class _Shaped:
    """An output shape that may hold `None` (what `to_kt` reads: `shape`, `dtype`)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


class Node:
    """One call of a layer on symbolic inputs (the edges of a functional graph)."""

    def __init__(self, layer, args, kwargs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = None
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        self.index = len(nodes)
        nodes.append(self)
