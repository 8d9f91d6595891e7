"""`Model.quantize`: quantizes every layer of a built model that supports it (Keras 3).

Each leaf layer with a `quantize` method (Dense, EinsumDense, Embedding) is quantized in
place (see `kerax.layers.core.quantization`); a layer that cannot be quantized in the
requested mode is skipped with a warning, as in Keras. `filters` (a regex on layer names,
a list of them, or a predicate) limits which layers are quantized.
"""

import re
import warnings

from kerax.quantizers import quantization_config as config_lib
from kerax.trainer.trainer import Trainer


def should_quantize_layer(layer, filters):
    """Whether `filters` selects `layer` (Keras' `should_quantize_layer`).

    Example:
    >>> from kerax.layers import Dense
    >>> should_quantize_layer(Dense(2, name="head"), "^he"), should_quantize_layer(
    ...     Dense(2, name="body"), ["^he", "tail"])
    (True, False)
    """
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return bool(filters(layer))


def quantize_model(model, mode=None, config=None, filters=None, **kwargs):
    """Quantizes `model`'s layers in place (see `Model.quantize`)."""
    type_check = kwargs.pop("type_check", True)
    if kwargs:
        raise ValueError(
            f"Unrecognized keyword arguments passed to {type(model).__name__}: {kwargs}")
    if filters is not None and not isinstance(filters, (str, list, tuple)) \
            and not callable(filters):
        raise ValueError(
            "The `filters` argument must be a regex string, a list of regex strings, or a "
            f"callable. Received: {type(filters)}")
    config = config_lib.validate_and_resolve_config(mode, config)
    if not model.built or model._variables is None:
        raise ValueError(
            "Cannot quantize a layer that isn't yet built. Layer "
            f"'{model.name}' (of type '{type(model).__name__}') is not built yet. Build it "
            "(call it on data, `build(input_shape)`, or start it with an `Input`) first.")
    for layer in list(_leaf_layers(model)):
        if not should_quantize_layer(layer, filters):
            continue
        quantize = getattr(type(layer), "quantize", None)
        if quantize is None:
            warnings.warn(
                f"Layer {type(layer).__name__} does not have a `quantize` method "
                "implemented.", stacklevel=3)
            continue
        try:
            layer.quantize(config.mode, type_check=type_check, config=config)
        except NotImplementedError as error:
            warnings.warn(str(error), stacklevel=3)


def _leaf_layers(layer):
    """The leaf layers below `layer`, through models and user-written layers (which call
    their sub-layers, so a quantized sub-layer runs quantized). kerax's own composite
    layers (MultiHeadAttention, wrappers, RNNs) run their sub-layers' pure functions
    directly: those are left in float, with a warning."""
    children = layer._children()
    if not children:
        yield layer
        return
    if not isinstance(layer, Trainer) and type(layer).__module__.startswith("kerax."):
        warnings.warn(
            f"kerax does not quantize the sub-layers of {type(layer).__name__} "
            f"'{layer.name}' (Keras 3 quantizes its Dense/EinsumDense sub-layers); they "
            "stay in float.", stacklevel=4)
        return
    for child in children.values():
        yield from _leaf_layers(child)
