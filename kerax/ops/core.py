"""Core ops, as `keras.ops`: conversion, control flow and indexed updates over `jax.lax`."""

import re

import jax
import jax.numpy as jnp
import numpy as np

from kerax.ops.dtypes import standardize_dtype


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts `x` (array, list, scalar) to a JAX array, optionally of `dtype`.

    Example:
    >>> convert_to_tensor([1, 2]).dtype
    dtype('int32')
    """
    if ragged:
        raise ValueError("`ragged=True` is not supported by kerax (JAX has no ragged arrays).")
    if dtype is not None:
        dtype = standardize_dtype(dtype)
    if isinstance(x, jax.Array) and (dtype is None or x.dtype == dtype):
        return x
    if hasattr(x, "value") and not isinstance(x, (np.ndarray, np.generic)):
        x = x.value  # a variable-like object
    if dtype == "bfloat16":
        return jnp.asarray(x).astype(dtype)
    return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    """Converts `x` to a NumPy array.

    Example:
    >>> convert_to_numpy(jnp.ones(2))
    array([1., 1.], dtype=float32)
    """
    return np.asarray(x)


def is_tensor(x):
    """True when `x` is a JAX array.

    Example:
    >>> is_tensor(jnp.ones(1)), is_tensor([1.0])
    (True, False)
    """
    return isinstance(x, jax.Array)


def shape(x):
    """The shape of `x` as a tuple of ints.

    Example:
    >>> shape(jnp.ones((2, 3)))
    (2, 3)
    """
    return tuple(jnp.shape(x))


def dtype(x):
    """Keras' dtype name of `x`, e.g. `"float32"`.

    Example:
    >>> dtype(jnp.ones(1))
    'float32'
    """
    return standardize_dtype(convert_to_tensor(x).dtype)


def cast(x, dtype):
    """Casts `x` to `dtype`.

    Example:
    >>> cast(jnp.array([1.7]), "int32")
    Array([1], dtype=int32)
    """
    return convert_to_tensor(x).astype(standardize_dtype(dtype))


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping values to the range `dtype` can hold.

    Example:
    >>> saturate_cast(jnp.array([-1.0, 300.0]), "uint8")
    Array([  0, 255], dtype=uint8)
    """
    dtype = standardize_dtype(dtype)
    x = convert_to_tensor(x)
    in_info, out_info = _info(x.dtype), _info(dtype)
    low = max(in_info.min, out_info.min) if in_info else out_info.min
    high = min(in_info.max, out_info.max) if in_info else out_info.max
    return jnp.clip(x, low, high).astype(dtype)


def _info(dtype):
    dtype = jnp.dtype(dtype)
    if dtype == jnp.bool_:
        return None
    return jnp.finfo(dtype) if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype)


def cond(pred, true_fn, false_fn):
    """Calls `true_fn()` if `pred` else `false_fn()` (`jax.lax.cond`).

    Example:
    >>> cond(jnp.array(True), lambda: 1.0, lambda: 2.0)
    Array(1., dtype=float32, weak_type=True)
    """
    return jax.lax.cond(pred, true_fn, false_fn)


def switch(index, branches, *operands):
    """Applies `branches[index](*operands)`; out-of-range indices are clamped.

    Example:
    >>> switch(1, [lambda x: x + 1, lambda x: x * 10], 2)
    Array(20, dtype=int32, weak_type=True)
    """
    return jax.lax.switch(index, branches, *operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`.

    `loop_vars` may be one value or a tuple/list, which `cond` and `body` receive unpacked.

    Example:
    >>> while_loop(lambda i: i < 5, lambda i: i + 1, 0)
    Array(5, dtype=int32, weak_type=True)
    """
    packed = isinstance(loop_vars, (tuple, list))
    carry = tuple(loop_vars) if packed else (loop_vars,)
    limit = maximum_iterations

    def as_tuple(out):
        return tuple(out) if packed else (out,)

    if limit is None:
        out = jax.lax.while_loop(lambda c: cond(*c), lambda c: as_tuple(body(*c)), carry)
    else:
        out = jax.lax.while_loop(
            lambda c: jnp.logical_and(cond(*c[0]), c[1] < limit),
            lambda c: (as_tuple(body(*c[0])), c[1] + 1),
            (carry, 0),
        )[0]
    return out if packed else out[0]


def fori_loop(lower, upper, body_fun, init_val):
    """`for i in range(lower, upper): val = body_fun(i, val)`.

    Example:
    >>> fori_loop(0, 4, lambda i, v: v + i, 0)
    Array(6, dtype=int32, weak_type=True)
    """
    return jax.lax.fori_loop(lower, upper, body_fun, init_val)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loops `carry, y = f(carry, x)` over the leading axis of `xs` (`jax.lax.scan`).

    Example:
    >>> carry, ys = scan(lambda c, x: (c + x, c), 0, jnp.arange(4))
    >>> int(carry), ys.tolist()
    (6, [0, 0, 1, 3])
    """
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(
            f"`unroll` must be a positive int or a bool. Received: unroll={unroll!r}"
        )
    return jax.lax.scan(f, init, xs=xs, length=length, reverse=reverse, unroll=unroll)


def associative_scan(f, elems, reverse=False, axis=0):
    """Parallel prefix scan of `elems` with the associative binary function `f`.

    Example:
    >>> associative_scan(lambda a, b: a + b, jnp.arange(4)).tolist()
    [0, 1, 3, 6]
    """
    return jax.lax.associative_scan(f, elems, reverse=reverse, axis=axis)


def map(f, xs):
    """Applies `f` to each slice of `xs` along its leading axis (`jax.lax.map`).

    Example:
    >>> map(lambda x: x * 2, jnp.arange(3)).tolist()
    [0, 2, 4]
    """
    return jax.lax.map(f, xs)


def vectorized_map(function, elements):
    """Applies `function` to each slice of `elements`, vectorized with `jax.vmap`.

    Example:
    >>> vectorized_map(lambda x: x.sum(), jnp.ones((2, 3))).tolist()
    [3.0, 3.0]
    """
    return jax.vmap(function)(elements)


def stop_gradient(variable):
    """Returns `variable` with its gradient stopped.

    Example:
    >>> jax.grad(lambda x: stop_gradient(x) * x)(3.0)
    Array(3., dtype=float32, weak_type=True)
    """
    return jax.lax.stop_gradient(variable)


def custom_gradient(f):
    """Decorates `f(*args) -> (output, grad_fn)` so that `grad_fn(upstream)` is its gradient.

    Example:
    >>> @custom_gradient
    ... def clipped(x):
    ...     return x, lambda g: jnp.clip(g, -1.0, 1.0)
    >>> jax.grad(lambda x: 5.0 * clipped(x))(2.0)
    Array(1., dtype=float32, weak_type=True)
    """
    return jax.custom_gradient(f)


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of arrays.

    Example:
    >>> [a.tolist() for a in unstack(jnp.array([[1, 2], [3, 4]]))]
    [[1, 2], [3, 4]]
    """
    x = convert_to_tensor(x)
    return [jnp.take(x, i, axis=axis) for i in range(x.shape[axis])]


def slice(inputs, start_indices, shape):
    """The block of `inputs` of size `shape` starting at `start_indices`.

    Example:
    >>> slice(jnp.arange(6), (2,), (3,)).tolist()
    [2, 3, 4]
    """
    return jax.lax.dynamic_slice(convert_to_tensor(inputs), tuple(start_indices), tuple(shape))


def slice_update(inputs, start_indices, updates):
    """`inputs` with the block starting at `start_indices` replaced by `updates`.

    Example:
    >>> slice_update(jnp.zeros(4), (1,), jnp.ones(2)).tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    return jax.lax.dynamic_update_slice(inputs, updates, tuple(start_indices))


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (an `(N, rank)` index array).

    Example:
    >>> scatter([[0], [2], [0]], jnp.array([1.0, 2.0, 3.0]), (3,)).tolist()
    [4.0, 0.0, 2.0]
    """
    indices = convert_to_tensor(indices)
    values = convert_to_tensor(values)
    zeros = jnp.zeros(shape, values.dtype)
    return zeros.at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


_REDUCTIONS = ("add", "max", "min", "mul")


def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written (or combined by `reduction`) at `indices`.

    Example:
    >>> scatter_update(jnp.zeros(3), [[1]], jnp.array([5.0])).tolist()
    [0.0, 5.0, 0.0]
    """
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices)
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    at = inputs.at[tuple(jnp.moveaxis(indices, -1, 0))]
    if reduction is None:
        return at.set(updates)
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Unsupported `reduction`: {reduction!r}. Expected None or one of "
            f"{', '.join(repr(r) for r in _REDUCTIONS)}."
        )
    return getattr(at, {"add": "add", "max": "max", "min": "min", "mul": "multiply"}[reduction])(
        updates
    )



def _groups(side):
    """`"b (h w) c"` -> `[["b"], ["h", "w"], ["c"]]`."""
    return [g.strip("()").split() for g in re.findall(r"\([^)]*\)|\w+", side)]


def rearrange(tensor, pattern, **axes_lengths):
    """Reorders, merges and splits axes with an einops pattern such as `"b h w -> b (h w)"`.

    Sizes of split axes come from `axes_lengths` (one per group may be inferred).

    Example:
    >>> rearrange(jnp.zeros((2, 6)), "b (h w) -> w b h", h=3).shape
    (2, 2, 3)
    """
    tensor = convert_to_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"`pattern` must look like 'a b -> b a'. Received: pattern={pattern!r}")
    source, target = (_groups(side) for side in pattern.split("->"))
    if len(source) != tensor.ndim:
        raise ValueError(
            f"The left side of pattern {pattern!r} names {len(source)} axes, but the tensor "
            f"has {tensor.ndim}. Received: tensor.shape={tensor.shape}"
        )
    sizes = dict(axes_lengths)
    for group, dim in zip(source, tensor.shape):
        unknown = [a for a in group if a not in sizes]
        known = 1
        for a in group:
            known *= sizes.get(a, 1)
        if len(unknown) > 1:
            raise ValueError(
                f"Cannot infer the sizes of {unknown} in pattern {pattern!r}: pass all but "
                "one of them as keyword arguments."
            )
        if unknown:
            sizes[unknown[0]] = dim // known
    flat_source = [a for g in source for a in g]
    flat_target = [a for g in target for a in g]
    if sorted(flat_source) != sorted(flat_target):
        raise ValueError(
            f"The two sides of pattern {pattern!r} must name the same axes. Received: "
            f"{flat_source} -> {flat_target}"
        )
    out = jnp.reshape(tensor, [sizes[a] for a in flat_source])
    out = jnp.transpose(out, [flat_source.index(a) for a in flat_target])
    shape = []
    for group in target:
        size = 1
        for a in group:
            size *= sizes[a]
        shape.append(size)
    return jnp.reshape(out, shape)
