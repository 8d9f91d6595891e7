"""Helpers shared by the normalization layers: optional regularizers/constraints, axes."""

from kerax import constraints, initializers, regularizers
from kerax.errors import LayerShapeError
from kerax.layers.input_spec import InputSpec
from kerax.serialization import serialization_lib

serialize = serialization_lib.serialize_keras_object


def affine_config(layer):
    """The gamma/beta config keys the normalization layers share with Keras."""
    return {
        "beta_initializer": initializers.serialize(layer.beta_initializer),
        "gamma_initializer": initializers.serialize(layer.gamma_initializer),
        "beta_regularizer": serialize(layer.beta_regularizer),
        "gamma_regularizer": serialize(layer.gamma_regularizer),
        "beta_constraint": serialize(layer.beta_constraint),
        "gamma_constraint": serialize(layer.gamma_constraint),
    }


def set_affine(layer, beta_initializer, gamma_initializer, beta_regularizer,
               gamma_regularizer, beta_constraint, gamma_constraint):
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def affine_rules(layer):
    """The normalization layer's `param_rules()`: `gamma`'s and `beta`'s
    `(regularizer, constraint)`, from the constructor arguments."""
    return {"gamma": (layer.gamma_regularizer, layer.gamma_constraint),
            "beta": (layer.beta_regularizer, layer.beta_constraint)}


def check_axes(layer, axes, shape):
    """Normalizes `axes` to sorted non-negative ints, with a clear error when out of range."""
    ndim = len(shape)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise LayerShapeError(
                f"{type(layer).__name__} '{layer.name}': expected an input with an axis {a}, "
                f"received input of shape {tuple(shape)}. Pass an axis in "
                f"[{-ndim}, {ndim - 1}] or an input of higher rank."
            )
        out.append(a % ndim)
    return sorted(out)


def axes_spec(layer, axes, shape):
    """An `InputSpec` pinning the sizes of the normalized axes (set at init)."""
    ndim = len(shape)
    return InputSpec(min_ndim=max(ndim - a for a in axes),
                     axes={a - ndim: shape[a] for a in axes})
