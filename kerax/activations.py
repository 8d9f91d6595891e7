"""`kerax.activations`: Keras 3's activation functions over `jax.numpy`.

CONTRACT (used by layers): `get(identifier)` accepts None (-> `linear`), a Keras name
string, a callable, or a serialized dict, and returns a callable `fn(x) -> y`.
`serialize(fn)` returns the Keras name string for built-ins.

Every function has Keras 3's name, arguments and defaults, and computes what Keras'
JAX backend computes (mostly the matching `jax.nn` function).
"""

import warnings

import jax
import jax.numpy as jnp

from kerax.serialization import registry


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

    Values below `threshold` become `negative_slope * (x - threshold)`; outputs are
    capped at `max_value` when it is given.

    Example:
    >>> import jax.numpy as jnp
    >>> relu(jnp.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> relu(jnp.array([-10.0, 10.0]), negative_slope=0.5, max_value=5.0).tolist()
    [-5.0, 5.0]
    """
    x = jnp.asarray(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return jax.nn.leaky_relu(x, negative_slope=negative_slope)
    below = None
    if negative_slope != 0.0:
        below = jax.nn.relu(threshold - x) if threshold != 0 else jax.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        y = jnp.where(x > jnp.asarray(threshold, x.dtype), x, 0)
    elif max_value == 6:
        y, clip_max = jax.nn.relu6(x), False
    else:
        y = jax.nn.relu(x)
    if clip_max:
        y = jnp.clip(y, jnp.asarray(0.0, y.dtype), jnp.asarray(max_value, y.dtype))
    if below is not None:
        y = y - negative_slope * below
    return y


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Example:
    >>> import jax.numpy as jnp
    >>> leaky_relu(jnp.array([-1.0, 2.0])).tolist()
    [-0.20000000298023224, 2.0]
    """
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def relu6(x):
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Example:
    >>> import jax.numpy as jnp
    >>> relu6(jnp.array([-1.0, 7.0])).tolist()
    [0.0, 6.0]
    """
    return jax.nn.relu6(jnp.asarray(x))


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Example:
    >>> import jax.numpy as jnp
    >>> elu(jnp.array([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def selu(x):
    """Scaled ELU with Keras' constants (`alpha=1.67326324`, `scale=1.05070098`).

    Example:
    >>> import jax.numpy as jnp
    >>> float(selu(jnp.float32(0.0)))
    0.0
    """
    return jax.nn.selu(jnp.asarray(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `alpha * (exp(x / alpha) - 1)` for `x < 0`.

    Example:
    >>> import jax.numpy as jnp
    >>> celu(jnp.array([0.0, 3.0])).tolist()
    [0.0, 3.0]
    """
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def softplus(x):
    """Softplus: `log(exp(x) + 1)`.

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(softplus(jnp.float32(0.0))), 4)
    0.6931
    """
    return jax.nn.softplus(jnp.asarray(x))


def softsign(x):
    """Softsign: `x / (abs(x) + 1)`.

    Example:
    >>> import jax.numpy as jnp
    >>> softsign(jnp.array([-1.0, 3.0])).tolist()
    [-0.5, 0.75]
    """
    return jax.nn.soft_sign(jnp.asarray(x))


def squareplus(x, b=4):
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(squareplus(jnp.float32(0.0)))
    1.0
    """
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def soft_shrink(x, threshold=0.5):
    """Soft shrink: `x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0.

    Example:
    >>> import jax.numpy as jnp
    >>> soft_shrink(jnp.array([-2.0, 0.2, 2.0])).tolist()
    [-1.5, 0.0, 1.5]
    """
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x, threshold=0.5):
    """Hard shrink: `x` where `abs(x) > threshold`, else 0.

    Example:
    >>> import jax.numpy as jnp
    >>> hard_shrink(jnp.array([-2.0, 0.2, 2.0])).tolist()
    [-2.0, 0.0, 2.0]
    """
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def sparse_plus(x):
    """SparsePlus: 0 for `x <= -1`, `(x + 1)**2 / 4` for `-1 < x < 1`, `x` for `x >= 1`.

    Example:
    >>> import jax.numpy as jnp
    >>> sparse_plus(jnp.array([-2.0, 0.0, 2.0])).tolist()
    [0.0, 0.25, 2.0]
    """
    return jax.nn.sparse_plus(jnp.asarray(x))


def silu(x):
    """SiLU, also called swish: `x * sigmoid(x)`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(silu(jnp.float32(0.0)))
    0.0
    """
    return jax.nn.silu(jnp.asarray(x))


swish = silu


def gelu(x, approximate=False):
    """Gaussian error linear unit `x * P(X <= x)`; `approximate=True` uses the tanh form.

    Example:
    >>> import jax.numpy as jnp
    >>> float(gelu(jnp.float32(0.0)))
    0.0
    """
    return jax.nn.gelu(jnp.asarray(x), approximate)


def glu(x, axis=-1):
    """Gated linear unit: splits `x` in halves `a, b` along `axis`, returns `a * sigmoid(b)`.

    Example:
    >>> import jax.numpy as jnp
    >>> glu(jnp.array([2.0, 0.0])).tolist()
    [1.0]
    """
    return jax.nn.glu(jnp.asarray(x), axis=axis)


def tanh(x):
    """Hyperbolic tangent.

    Example:
    >>> import jax.numpy as jnp
    >>> float(tanh(jnp.float32(0.0)))
    0.0
    """
    return jnp.tanh(jnp.asarray(x))


def tanh_shrink(x):
    """Tanh shrink: `x - tanh(x)`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(tanh_shrink(jnp.float32(0.0)))
    0.0
    """
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def hard_tanh(x):
    """Hard tanh: `x` clipped to `[-1, 1]`.

    Example:
    >>> import jax.numpy as jnp
    >>> hard_tanh(jnp.array([-3.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    return jax.nn.hard_tanh(jnp.asarray(x))


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`.

    Example:
    >>> import jax.numpy as jnp
    >>> threshold(jnp.array([-1.0, 2.0]), 0.0, -5.0).tolist()
    [-5.0, 2.0]
    """
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, default_value)


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(sigmoid(jnp.float32(0.0)))
    0.5
    """
    return jax.nn.sigmoid(jnp.asarray(x))


def sparse_sigmoid(x):
    """Sparse sigmoid: 0 for `x <= -1`, `(x + 1) / 2` for `-1 < x < 1`, 1 for `x >= 1`.

    Example:
    >>> import jax.numpy as jnp
    >>> sparse_sigmoid(jnp.array([-2.0, 0.0, 2.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return jax.nn.sparse_sigmoid(jnp.asarray(x))


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably.

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(log_sigmoid(jnp.float32(0.0))), 4)
    -0.6931
    """
    return jax.nn.log_sigmoid(jnp.asarray(x))


def exponential(x):
    """`exp(x)`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(exponential(jnp.float32(0.0)))
    1.0
    """
    return jnp.exp(jnp.asarray(x))


def hard_sigmoid(x):
    """Hard sigmoid: 0 for `x <= -3`, 1 for `x >= 3`, `x / 6 + 0.5` in between.

    Example:
    >>> import jax.numpy as jnp
    >>> hard_sigmoid(jnp.array([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return jax.nn.hard_sigmoid(jnp.asarray(x))


def hard_silu(x):
    """Hard SiLU, also called hard swish: `x * hard_sigmoid(x)`.

    Example:
    >>> import jax.numpy as jnp
    >>> hard_silu(jnp.array([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """
    return jax.nn.hard_silu(jnp.asarray(x))


hard_swish = hard_silu


def mish(x):
    """Mish: `x * tanh(softplus(x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(mish(jnp.float32(0.0)))
    0.0
    """
    x = jnp.asarray(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def _warn_if_size_one(x, axis):
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. "
            "This axis has size 1, so the softmax always returns 1. Did you mean to use "
            "a sigmoid instead?",
            stacklevel=3,
        )


def softmax(x, axis=-1):
    """Softmax over `axis` (an int or a tuple of ints; default the last axis).

    Example:
    >>> import jax.numpy as jnp
    >>> softmax(jnp.zeros((1, 2))).tolist()
    [[0.5, 0.5]]
    """
    x = jnp.asarray(x)
    _warn_if_size_one(x, axis)
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Logarithm of the softmax over `axis`, computed stably.

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(log_softmax(jnp.zeros((2,)))[0]), 4)
    -0.6931
    """
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex along `axis`.

    Example:
    >>> import jax.numpy as jnp
    >>> sparsemax(jnp.array([1.0, 2.0, 0.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    x = jnp.asarray(x)
    z = -jnp.sort(-x, axis=axis)  # descending
    cumsum = jnp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.arange(1, x.shape[axis] + 1).reshape(shape)
    support = z - (cumsum - 1) / k > 0
    size = jnp.sum(support, axis=axis, keepdims=True)
    tau = (jnp.sum(jnp.where(support, cumsum, 0.0), axis=axis, keepdims=True) - 1) / size
    return jnp.maximum(x - tau, 0.0)


_FUNCTIONS = (
    linear, relu, leaky_relu, relu6, elu, selu, celu, softplus, softsign, squareplus,
    soft_shrink, hard_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, hard_tanh,
    threshold, sigmoid, sparse_sigmoid, log_sigmoid, exponential, hard_sigmoid, hard_silu,
    mish, softmax, log_softmax, sparsemax,
)
ALL = {fn.__name__: fn for fn in _FUNCTIONS}
ALL["swish"] = silu
ALL["hard_swish"] = hard_silu


_REGISTRY = registry.ObjectRegistry(
    "activation", ALL, default=linear, instantiate=False, by_name=True,
    expected="a name such as 'relu', a callable, a config dict, or None",
)


def serialize(activation):
    """Returns the Keras name of a built-in activation, or its config for other callables.

    Aliases serialize under their canonical name, as in Keras (`swish` -> `"silu"`).

    Example:
    >>> serialize(relu)
    'relu'
    >>> serialize(swish)
    'silu'
    """
    return _REGISTRY.serialize(activation)


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`: a name or a config dict back to the function.

    Example:
    >>> deserialize("gelu") is gelu
    True
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """Resolves an activation: None, a Keras name, a callable or a config dict.

    Raises:
        UnknownIdentifierError: for a string that names no activation (a `ValueError`).
        ValueError: for anything else that is not callable (as in Keras).

    Example:
    >>> get("relu") is relu
    True
    >>> get(None) is linear
    True
    >>> get("swish") is silu
    True
    """
    return _REGISTRY.get(identifier)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALL", "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
    "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
]
