"""`kerax.activations`: Keras 3's activation functions over `jax.numpy`.

CONTRACT (used by layers): `get(identifier)` accepts None (-> `linear`), a Keras name
string, a callable, or a serialized dict, and returns a callable `fn(x) -> y`.
`serialize(fn)` returns the Keras name string for built-ins.
"""

import jax
import jax.numpy as jnp

from kerax import errors


def linear(x):
    """Identity: `linear(x) == x`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(linear(jnp.float32(2.0)))
    2.0
    """
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras' `negative_slope`, `max_value`, `threshold`.

    Example:
    >>> import jax.numpy as jnp
    >>> relu(jnp.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    x = jnp.asarray(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return jax.nn.relu(x)
    clipped = jnp.where(x > threshold, x, 0.0)
    if max_value is not None:
        clipped = jnp.minimum(clipped, max_value)
    if negative_slope != 0.0:
        clipped = jnp.where(x > threshold, clipped, negative_slope * (x - threshold))
    return clipped.astype(x.dtype)


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(sigmoid(jnp.float32(0.0)))
    0.5
    """
    return jax.nn.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent.

    Example:
    >>> import jax.numpy as jnp
    >>> float(tanh(jnp.float32(0.0)))
    0.0
    """
    return jnp.tanh(x)


def softmax(x, axis=-1):
    """Softmax over `axis` (default the last).

    Example:
    >>> import jax.numpy as jnp
    >>> softmax(jnp.zeros((1, 2))).tolist()
    [[0.5, 0.5]]
    """
    return jax.nn.softmax(x, axis=axis)


ALL = {fn.__name__: fn for fn in (linear, relu, sigmoid, tanh, softmax)}


def serialize(activation):
    """Returns the Keras name of a built-in activation, or its config for other callables."""
    if activation is None:
        return "linear"
    name = getattr(activation, "__name__", None)
    if name in ALL and ALL[name] is activation:
        return name
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(activation)


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`."""
    from kerax.saving import serialization_lib

    if isinstance(config, str):
        return get(config)
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL, custom_objects=custom_objects
    )


def get(identifier):
    """Resolves an activation: None, a Keras name, a callable or a config dict.

    Example:
    >>> get("relu") is relu
    True
    >>> get(None) is linear
    True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in ALL:
            return ALL[identifier]
        raise errors.unknown_identifier("activation", identifier, ALL)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret activation identifier: {identifier!r}. Pass a string such as "
        "'relu', a callable, or None."
    )
