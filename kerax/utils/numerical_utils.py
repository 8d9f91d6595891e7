"""`to_categorical` and `normalize`, as in Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend.config import epsilon


def to_categorical(x, num_classes=None):
    """Converts integer class labels to one-hot rows (the class axis last).

    A trailing axis of size 1 is dropped first, so labels of shape `(N, 1)` give
    `(N, num_classes)`. NumPy or list input gives a `float64` NumPy array (as Keras);
    a JAX array gives a `float32` JAX array.

    Args:
        x: integer labels in `[0, num_classes)`.
        num_classes: the number of classes; `max(x) + 1` when `None`.

    Returns:
        The one-hot encoding, of shape `x.shape + (num_classes,)`.

    Example:
    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if isinstance(x, jax.Array):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        if num_classes is None:
            num_classes = int(jnp.max(x)) + 1
        return jax.nn.one_hot(x, num_classes)
    x = np.asarray(x, dtype="int64")
    shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], num_classes))
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divides `x` by its `order`-norm along `axis` (zero vectors stay zero).

    NumPy input gives NumPy output; a JAX array gives a JAX array (computed as Keras'
    `ops.normalize`, with the norm bounded below by `epsilon()`).

    Args:
        x: the array to normalize.
        axis: the axis along which to normalize.
        order: the norm's order (2: Euclidean).

    Returns:
        The normalized array.

    Example:
    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        # Keras 3 writes `axis or -1`, which breaks `axis=0`; keep the axis asked for.
        return x / np.expand_dims(norm, -1 if axis is None else axis)
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"`order` must be an integer >= 1 for array inputs. Received: order={order!r}.")
    x = jnp.asarray(x)
    if x.ndim == 0:
        x = x[None]
    if order == 2:
        inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / epsilon())
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon())
