import jax
import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers.layer import Layer


def _large_negative(dtype):
    return -3e4 if jnp.dtype(dtype) == jnp.float16 else -1e9


class Softmax(Layer):
    """Softmax over `axis` (an int or a tuple of ints), with an optional mask.

    Call arguments:
        inputs: the logits.
        mask: optional array broadcastable to `inputs`; positions where it is False (or
            <= 0.5) get probability 0 and the others share all the mass.

    Example:
    >>> import numpy as np
    >>> Softmax()(np.zeros((1, 4)), mask=np.array([[1, 1, 0, 0]])).tolist()
    [[0.5, 0.5, 0.0, 0.0]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, mask=None, **kwargs):
        x = jnp.asarray(inputs)
        if mask is not None:
            mask = jnp.asarray(mask)
            if not _broadcastable(mask.shape, x.shape):
                raise LayerShapeError(
                    f"Softmax '{self.name}': expected a mask broadcastable to the input, "
                    f"received input of shape {tuple(x.shape)} and mask of shape "
                    f"{tuple(mask.shape)}."
                )
            if mask.dtype != jnp.bool_:
                mask = mask > 0.5
            x = jnp.where(mask, x, jnp.asarray(_large_negative(x.dtype), x.dtype))
        axis = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        y = jax.nn.softmax(x, axis=axis)
        if mask is not None:
            y = jnp.where(mask, y, jnp.zeros((), y.dtype))
        return y, state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _broadcastable(mask_shape, shape):
    if len(mask_shape) > len(shape):
        return False
    return all(m in (1, s) for m, s in zip(mask_shape[::-1], shape[::-1]))
