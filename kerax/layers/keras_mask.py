"""Keras' masks on tensors: which mask a layer receives and which it produces.

A mask is a bool array over the leading axes of a tensor (True = a real step). Keras
carries it on the tensor as `_keras_mask`; kerax does the same on eager outputs and on
symbolic tensors, and containers pass it alongside their values inside `apply` (see
`kerax.layers.core.masking` for the rules). This module needs nothing but the layer
object, so `Layer` itself can use it.
"""

import inspect

import jax


def call_parameters(layer):
    """The parameters of the function that runs `layer`: its explicit-style `forward`,
    or its Keras-style `call`."""
    owner = next(k for k in type(layer).__mro__ if "forward" in vars(k))
    default = owner.__name__ == "KerasStyle" and owner.__module__ == "kerax.layers.keras_style"
    return inspect.signature(layer.call if default else layer.forward).parameters


def output_mask(layer, inputs, previous_mask):
    """The mask of `layer`'s output: `compute_mask(inputs, previous_mask)` when the layer
    supports masking and defines it, `previous_mask` when it only supports masking, else
    None.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.layers import Embedding
    >>> output_mask(Embedding(5, 2, mask_zero=True), jnp.array([[1, 0]]), None).tolist()
    [[True, False]]
    """
    if not getattr(layer, "supports_masking", False):
        return None
    compute = getattr(layer, "compute_mask", None)
    if compute is None:
        return previous_mask
    return compute(inputs, previous_mask)


def mask_kwargs(layer, masks, given=None):
    """Keyword arguments that hand input masks to `layer`: `mask=` for one masked input,
    `<arg>_mask=` for each named argument the layer takes; never overwrites `given`.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.layers import BatchNormalization
    >>> sorted(mask_kwargs(BatchNormalization(), {"inputs": jnp.ones((2, 3), bool)}))
    ['mask']
    """
    given = given or {}
    params = call_parameters(layer)
    masks = {k: m for k, m in masks.items() if m is not None}
    if len(masks) == 1 and "mask" in params and "mask" not in given:
        return {"mask": next(iter(masks.values()))}
    out = {}
    for name, mask in masks.items():
        arg = f"{name}_mask"
        if arg in params and given.get(arg) is None:
            out[arg] = mask
    return out


def eager_input_mask(layer, args, kwargs):
    """`kwargs` with the first input's `_keras_mask` passed on as Keras' `Layer.__call__`
    does; and that mask (the previous mask for `set_output_mask`)."""
    mask = getattr(args[0], "_keras_mask", None) if args else None
    if mask is None:
        return kwargs, kwargs.get("mask")
    kwargs = {**kwargs, **mask_kwargs(layer, {"inputs": mask}, given=kwargs)}
    return kwargs, kwargs.get("mask", mask)


def set_output_mask(layer, args, outputs, previous_mask, recorded=None):
    """Sets Keras' `_keras_mask` on eager outputs (one mask per output, or one for all):
    `recorded` is the mask a container computed for its outputs in this call."""
    mask = recorded
    if mask is None:
        mask = output_mask(layer, args[0] if args else None, previous_mask)
    masks = jax.tree_util.tree_leaves(mask)
    outs = jax.tree_util.tree_leaves(outputs)
    if not masks or len(masks) not in (1, len(outs)):
        return
    for out, m in zip(outs, masks * len(outs) if len(masks) == 1 else masks):
        try:
            out._keras_mask = m
        except AttributeError:  # a NumPy scalar or another type that takes no attributes
            pass
