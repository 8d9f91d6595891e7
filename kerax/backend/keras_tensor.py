"""Symbolic tensors for the functional API: a shape, a dtype, and where they came from."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import config as _config


# The size that stands for an unknown non-batch dimension while layers are built and
# traced; `_unknown_inner_dims` traces at this size and at `UNKNOWN_SIZE * 3 // 2`.
UNKNOWN_SIZE = 64


class KerasTensor:
    """A symbolic tensor: what `kerax.Input` returns and layers return on symbolic inputs.

    Example:
    >>> import kerax
    >>> x = kerax.Input(shape=(4,))
    >>> x.shape
    (None, 4)
    """

    def __init__(self, shape, dtype=None, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = jnp.dtype(dtype or _config.floatx()).name
        self.name = name
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def spec(self, batch_size=1):
        """A `jax.ShapeDtypeStruct` with unknown dimensions set to `batch_size`."""
        return jax.ShapeDtypeStruct(
            tuple(batch_size if d is None else d for d in self.shape), jnp.dtype(self.dtype)
        )

    def build_spec(self):
        """A `jax.ShapeDtypeStruct` to build layers with: an unknown batch axis is 1 and
        other unknown dimensions are `UNKNOWN_SIZE`, a size every layer accepts (a length
        of 1 is too short for `Cropping1D(1)` or a valid 3-wide convolution)."""
        return jax.ShapeDtypeStruct(
            tuple((1 if i == 0 else UNKNOWN_SIZE) if d is None else d
                  for i, d in enumerate(self.shape)), jnp.dtype(self.dtype))

    def __iter__(self):
        raise NotImplementedError(
            "Iterating over a symbolic tensor is not supported: its values are only known "
            "when the model runs. Index it (`x[:, 0]`) or use `kerax.ops.unstack(x)`."
        )

    def __bool__(self):
        raise TypeError(
            "A symbolic tensor cannot be used as a Python bool (e.g. in `if x:`): its value "
            "is only known when the model runs. Use `kerax.ops.where` or `kerax.ops.cond`."
        )

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def _op(name, reflected=False):
    """A Python operator of `KerasTensor` that calls the `kerax.ops` function `name`."""

    def operator(self, *other):
        from kerax import ops

        args = (other[0], self) if reflected else (self, *other)
        return getattr(ops, name)(*args)

    operator.__name__ = name
    return operator


# Keras 3's operators on symbolic tensors (`__eq__` is left alone: tensors stay hashable).
for _dunder, _name in [
    ("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("matmul", "matmul"),
    ("div", "true_divide"), ("truediv", "true_divide"), ("floordiv", "floor_divide"),
    ("mod", "mod"), ("pow", "power"), ("and", "logical_and"), ("or", "logical_or"),
    ("xor", "logical_xor"),
]:
    setattr(KerasTensor, f"__{_dunder}__", _op(_name))
    setattr(KerasTensor, f"__r{_dunder}__", _op(_name, reflected=True))
for _dunder, _name in [
    ("neg", "negative"), ("abs", "absolute"), ("invert", "logical_not"), ("lt", "less"),
    ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"), ("ne", "not_equal"),
    ("getitem", "get_item"), ("round", "round"),
]:
    setattr(KerasTensor, f"__{_dunder}__", _op(_name))


def _to_spec(x):
    return x.spec() if isinstance(x, KerasTensor) else x


def call_symbolic(layer, args, kwargs):
    """Builds `layer` for symbolic inputs and returns symbolic outputs with history."""
    is_kt = lambda v: isinstance(v, KerasTensor)  # noqa: E731
    specs = jax.tree_util.tree_map(_to_spec, args, is_leaf=is_kt)
    kw = {k: v for k, v in kwargs.items() if k not in ("training", "rng")}
    kw_specs = jax.tree_util.tree_map(_to_spec, kw, is_leaf=is_kt)
    # Check the input spec on the symbolic shape first, so errors show `None` batch axes.
    from kerax.layers.input_spec import assert_input_compatibility, relax_input_spec

    first_arg = args[0] if args and is_kt(args[0]) else None
    assert_input_compatibility(layer, layer.input_spec, first_arg)
    if layer.variables is None:
        layer.build_eagerly(*specs)
        assert_input_compatibility(layer, layer.input_spec, first_arg)
    relax_input_spec(layer, first_arg)
    def shapes(a, k):
        # Only array-like keyword arguments are traced; flags such as `reverse=True` or
        # `use_causal_mask=True` reach the layer as the Python values they are.
        static = {n: val for n, val in k.items() if not _has_arrays(val)}
        dynamic = {n: val for n, val in k.items() if n not in static}
        return jax.eval_shape(lambda v, a, d: layer.apply(v, *a, **d, **static)[0],
                              layer.variables, a, dynamic)

    # Unknown sizes are traced at two real sizes first: a placeholder size of 1 is not a
    # valid input to every layer (Cropping1D(1) on a sequence of unknown length).
    out = _unknown_inner_dims(shapes, args, kw, is_kt)
    if out is None:
        out = shapes(specs, kw_specs)
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
    return node.outputs


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
