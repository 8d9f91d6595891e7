"""How EinsumDense quantizes: the axes its kernel and inputs are reduced over, and the
layout of their scales against the output (Keras' `_analyze_quantization_info`)."""

import re
import string
from typing import NamedTuple

import jax.numpy as jnp


class EinsumQuantInfo(NamedTuple):
    """Reduced axes and scale layouts of an EinsumDense equation (Keras' names)."""

    input_reduced_axes: tuple
    kernel_reduced_axes: tuple
    input_transpose_axes: tuple
    kernel_transpose_axes: tuple
    input_expand_axes: tuple
    kernel_expand_axes: tuple
    input_squeeze_axes: tuple
    kernel_squeeze_axes: tuple
    custom_gradient_equation: str


def _specs(equation, ndim):
    plain = equation.replace("...", "0")
    for pattern, side in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right")):
        match = re.match(pattern, plain)
        if match is None:
            continue
        in_spec, w_spec, out_spec = match.groups()
        if side is not None:
            free = sorted(set(string.ascii_letters) - set(in_spec + w_spec + out_spec))
            for i in range(ndim - len(in_spec)):
                if side == "left":
                    in_spec, out_spec = free[i] + in_spec, free[i] + out_spec
                else:
                    in_spec, out_spec = in_spec + free[i], out_spec + free[i]
        return in_spec, w_spec, out_spec
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def _layout(spec, out_spec, index):
    """Keras' bookkeeping, kept exactly: a reduced axis takes the next output axis the
    tensor lacks, else is squeezed and reuses the previous position (`index`, which Keras
    carries over from its earlier loops)."""
    reduced = [i for i, label in enumerate(spec) if label not in out_spec]
    expand = [i for i, label in enumerate(out_spec) if label not in spec]
    transpose = [spec.find(label) for label in out_spec if label in spec]
    squeeze = []
    for axis in reduced:
        if expand:
            index = expand.pop(0)
        else:
            squeeze.append(axis)
        transpose.insert(index, axis)
    return (tuple(reduced), tuple(transpose), tuple(expand), tuple(squeeze)), index


def analyze(equation, ndim):
    """The `EinsumQuantInfo` of `equation` for inputs of rank `ndim`.

    Example:
    >>> info = analyze("ab,bc->ac", 2)
    >>> info.input_reduced_axes, info.kernel_reduced_axes, info.custom_gradient_equation
    ((1,), (0,), 'ac,bc->ab')
    """
    in_spec, w_spec, out_spec = _specs(equation, ndim)
    index = out_spec.find(w_spec[-1])
    (i_red, i_tr, i_exp, i_sq), index = _layout(in_spec, out_spec, index)
    (k_red, k_tr, k_exp, k_sq), _ = _layout(w_spec, out_spec, index)
    return EinsumQuantInfo(i_red, k_red, i_tr, k_tr, i_exp, k_exp, i_sq, k_sq,
                           f"{out_spec},{w_spec}->{in_spec}")


def scale_for_output(scale, transpose, expand, squeeze):
    """A scale reduced over some axes, laid out to broadcast against the einsum's output
    (Keras' `_adjust_scale_for_quant`)."""
    if transpose:
        scale = jnp.transpose(scale, transpose)
    if expand:
        scale = jnp.expand_dims(scale, expand)
    if squeeze:
        scale = jnp.squeeze(scale, squeeze)
    return scale


def kernel_scale_for_kernel(scale, info):
    """The stored kernel scale laid out like the kernel (Keras' `_adjust_scale_for_dequant`)."""
    if info.kernel_squeeze_axes:
        scale = jnp.expand_dims(scale, info.kernel_squeeze_axes)
    if info.kernel_expand_axes:
        scale = jnp.squeeze(scale, info.kernel_expand_axes)
    if info.kernel_transpose_axes:
        reverse = sorted(range(len(info.kernel_transpose_axes)),
                         key=info.kernel_transpose_axes.__getitem__)
        scale = jnp.transpose(scale, reverse)
    return scale


__all__ = ["EinsumQuantInfo", "analyze", "scale_for_output", "kernel_scale_for_kernel"]
