"""What host layers (string processing, hashing) share: they cannot be traced, so they
refuse traced values with a message that says where to call them, and they give their
symbolic output (`HostSpec`) directly instead of through `jax.eval_shape`."""

import jax
import jax.numpy as jnp
import numpy as np


class HostSpec:
    """The symbolic output of a host layer: a shape (None: unknown) and a dtype name."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype

    def __repr__(self):
        return f"HostSpec({self.shape}, {self.dtype!r})"


def int_dtype():
    """The integer dtype host layers return (int64, or int32 without jax x64)."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(np.int64)).name


def encoded_shape(shape, output_mode, depth):
    """Keras' `compute_output_shape` of an encoded (non-"int") lookup."""
    shape = tuple(shape)
    if output_mode == "one_hot":
        return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
    return shape[:-1] + (depth,)


def refuse_traced(layer, inputs):
    """Host layers cannot see traced values: say where to call them instead."""
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(inputs)):
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}' runs on the host and cannot process "
            "traced values (inside `jit`, `vmap` or `grad`). Call it on concrete arrays or "
            "strings, e.g. in the input pipeline before the jitted step."
        )


def applied_in_pipeline(layer, inputs):
    """Whether the trainer already ran this layer in the input pipeline (`fit` with raw
    strings), or the model's eager call ran it on the host first: its inputs are then its
    own outputs, passed through."""
    if layer.__dict__.get("_prefix_applied", False):
        return True
    return layer.__dict__.get("_in_pipeline", False) and any(
        isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(inputs))
