"""Rewrites the primitives jax2onnx cannot convert into ones it can, for ONNX export only.

jax2onnx 0.17 lowers `reduce_window_max` to one ONNX `MaxPool` over *every* axis of the
operand (batch and channels included), which onnxruntime refuses beyond 3 axes
("Unsupported pooling size"): so MaxPooling2D/3D fail. It converts `conv_general_dilated`
with 1 or 2 spatial axes only ("Unsupported conv layouts"): so Conv3D, Conv3DTranspose and
ConvLSTM3D fail. `onnx_compatible(f)` returns `f` with those primitives replaced, in `f`,
in the jit / custom-derivative calls it makes (inlined) and in its loop and branch bodies
(scan, while, cond), by equivalent ones jax2onnx supports:

- a max over windows becomes the elementwise max of the window's strided slices (exact;
  "same" padding is concatenated, as jax2onnx cannot lower `pad` with a symbolic batch);
- a 3-D convolution becomes the sum, over the depth taps of the kernel, of 2-D
  convolutions of the matching depth slices (the batch and output depths folded together).

`predict` never goes through this: only `export(format="onnx")` does.

Example:
>>> import jax, jax.numpy as jnp
>>> pool = lambda x: jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1),
...                                        (1, 2, 2, 1), "VALID")
>>> x = jnp.arange(32.0).reshape(1, 4, 4, 2)
>>> bool((onnx_compatible(pool)(x) == pool(x)).all())
True
>>> "reduce_window_max" in str(jax.make_jaxpr(onnx_compatible(pool))(x))
False
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore


def onnx_compatible(fn):
    """`fn` with the primitives jax2onnx cannot convert replaced by equivalent ones."""
    def rewritten(*args):
        closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        outs = _eval(closed.jaxpr, closed.consts, *jax.tree_util.tree_leaves(args))
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out_shape), outs)
    return rewritten


def _needs_rewrite(eqn):
    name = eqn.primitive.name
    if name == "reduce_window_max":
        aval = eqn.invars[0].aval
        return (len(eqn.params["window_dimensions"]) > 3
                or not jnp.issubdtype(aval.dtype, jnp.floating))
    if name == "conv_general_dilated":
        return eqn.invars[0].aval.ndim > 4
    return False


def _contains_rewrite(jaxpr):
    for eqn in jaxpr.eqns:
        if _needs_rewrite(eqn) or any(
                _contains_rewrite(sub.jaxpr if hasattr(sub, "jaxpr") else sub)
                for sub in jcore.jaxprs_in_params(eqn.params)):
            return True
    return False


# call-like primitives whose single closed jaxpr can be inlined (inference only, so a
# custom derivative rule is not needed in the exported graph)
_INLINE = {"jit": "jaxpr", "pjit": "jaxpr", "closed_call": "call_jaxpr",
           "custom_jvp_call": "call_jaxpr", "custom_vjp_call": "call_jaxpr",
           "checkpoint": "jaxpr", "remat": "jaxpr"}


def _eval(jaxpr, consts, *args):
    env = {}

    def read(v):
        return v.val if isinstance(v, jcore.Literal) else env[v]

    env.update(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        invals = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name == "reduce_window_max" and _needs_rewrite(eqn):
            out = [_max_over_slices(invals[0], **eqn.params)]
        elif name == "conv_general_dilated" and _needs_rewrite(eqn):
            out = [_conv3d_as_2d(*invals, **eqn.params)]
        elif name in _INLINE and _contains_rewrite(_open(eqn.params[_INLINE[name]])):
            sub = eqn.params[_INLINE[name]]
            out = _eval(_open(sub), getattr(sub, "consts", ()), *invals)
        else:
            params = {k: _rewrite_param(v) for k, v in eqn.params.items()}
            out = eqn.primitive.bind(*invals, **eqn.primitive.get_bind_params(params))
            if not eqn.primitive.multiple_results:
                out = [out]
        env.update(zip(eqn.outvars, out))
    return [read(v) for v in jaxpr.outvars]


def _rewrite_param(value):
    """A loop's or branch's closed jaxpr(s), rewritten where they need it."""
    if type(value) is tuple and value and isinstance(value[0], jcore.ClosedJaxpr):
        return tuple(_rewrite_param(v) for v in value)
    if not isinstance(value, jcore.ClosedJaxpr) or not _contains_rewrite(value.jaxpr):
        return value
    new = jax.make_jaxpr(lambda *a: _eval(value.jaxpr, value.consts, *a))(*value.in_avals)
    return jcore.ClosedJaxpr(new.jaxpr, new.consts)


def _open(closed_or_open):
    return getattr(closed_or_open, "jaxpr", closed_or_open)


def _lowest(dtype):
    if jnp.issubdtype(dtype, jnp.floating):
        return np.array(-np.inf, dtype)
    if dtype == jnp.bool_:
        return np.array(False)
    return np.array(np.iinfo(dtype).min, dtype)


def _pad_axis(x, axis, lo, hi, fill):
    """`x` padded with `fill` (cropped where negative) along `axis`.

    Concatenates instead of `lax.pad`, which jax2onnx cannot lower with a symbolic batch.
    """
    x = jax.lax.slice_in_dim(x, max(-lo, 0), x.shape[axis] - max(-hi, 0), axis=axis)
    parts = []
    for size in (max(lo, 0), max(hi, 0)):
        shape = list(x.shape)
        shape[axis] = size
        parts.append([jax.lax.broadcast_in_dim(fill, shape, ())] if size else [])
    return jnp.concatenate(parts[0] + [x] + parts[1], axis) if parts[0] or parts[1] else x


def _max_over_slices(x, *, window_dimensions, window_strides, padding, base_dilation,
                     window_dilation):
    """`reduce_window_max` as the elementwise max of every window offset's strided slice."""
    if any(d != 1 for d in base_dilation):
        raise NotImplementedError(
            "export(format=\"onnx\"): a max pooling with base dilation "
            f"{tuple(base_dilation)} cannot be rewritten for jax2onnx; only 1s are supported.")
    for axis, (lo, hi) in enumerate(padding):
        x = _pad_axis(x, axis, lo, hi, _lowest(x.dtype))
    axes = [a for a, (w, s) in enumerate(zip(window_dimensions, window_strides))
            if w != 1 or s != 1]
    out = None
    for offsets in itertools.product(*(range(window_dimensions[a]) for a in axes)):
        piece = x
        for a, k in zip(axes, offsets):
            size, w = x.shape[a], window_dimensions[a]
            d, s = window_dilation[a], window_strides[a]
            count = (size - d * (w - 1) - 1) // s + 1
            piece = jax.lax.slice_in_dim(piece, k * d, k * d + s * (count - 1) + 1, s, a)
        out = piece if out is None else jnp.maximum(out, piece)
    return out


def _conv3d_as_2d(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                  dimension_numbers, feature_group_count, batch_group_count, precision,
                  preferred_element_type, **unused):
    """A 3-D `conv_general_dilated` as the sum over depth taps of 2-D convolutions."""
    if batch_group_count != 1:
        raise NotImplementedError(
            "export(format=\"onnx\"): a 3-D convolution with batch_group_count="
            f"{batch_group_count} cannot be rewritten for jax2onnx; only 1 is supported.")
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    x = jnp.transpose(lhs, lhs_spec)  # N C D H W
    w = jnp.transpose(rhs, rhs_spec)  # O I D H W
    # the depth axis: dilate the input (transposed convolutions), then pad or crop it
    if lhs_dilation[0] > 1:
        n, c, depth, h, wd = x.shape
        zeros = jnp.zeros_like(x)[:, :, :, None]
        x = jnp.concatenate([x[:, :, :, None]] + [zeros] * (lhs_dilation[0] - 1), axis=3)
        x = x.reshape((n, c, depth * lhs_dilation[0], h, wd))
        x = x[:, :, :(depth - 1) * lhs_dilation[0] + 1]
    x = _pad_axis(x, 2, *padding[0], np.array(0, x.dtype))
    taps, step, dil = w.shape[2], window_strides[0], rhs_dilation[0]
    n, c, depth, h, wd = x.shape
    out_depth = (depth - dil * (taps - 1) - 1) // step + 1
    total = None
    for t in range(taps):
        piece = jax.lax.slice_in_dim(x, t * dil, t * dil + step * (out_depth - 1) + 1, step, 2)
        piece = jnp.transpose(piece, (0, 2, 1, 3, 4)).reshape((n * out_depth, c, h, wd))
        y = jax.lax.conv_general_dilated(
            piece, w[:, :, t], window_strides[1:], padding[1:], lhs_dilation=lhs_dilation[1:],
            rhs_dilation=rhs_dilation[1:], dimension_numbers=("NCHW", "OIHW", "NCHW"),
            feature_group_count=feature_group_count, precision=precision,
            preferred_element_type=preferred_element_type)
        total = y if total is None else total + y
    total = total.reshape((n, out_depth) + total.shape[1:])  # N D O H W
    total = jnp.transpose(total, (0, 2, 1, 3, 4))  # N O D H W
    return jnp.transpose(total, np.argsort(out_spec))
