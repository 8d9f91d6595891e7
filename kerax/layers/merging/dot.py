"""`Dot`: the per-sample dot product of two inputs along given axes (Keras' `batch_dot`)."""

import jax.numpy as jnp
from jax import lax

from kerax.layers.merging.base_merge import Merge


def _l2_normalize(x, axis):
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    return x * lax.rsqrt(jnp.maximum(square_sum, 1e-12))


class Dot(Merge):
    """Dot product of two samples-batched tensors `[a, b]` along `axes`.

    For `a` of shape `(batch, n)` and `b` of shape `(batch, n)` the output has shape
    `(batch, 1)`; for `(batch, n, d)` and `(batch, m, d)` with `axes=2`, `(batch, n, m)`.

    Args:
        axes: an int, or a pair of ints (one axis per input); the batch axis cannot be used.
        normalize: L2-normalize both inputs along `axes` first (cosine similarity).

    Example:
    >>> import numpy as np
    >>> Dot(axes=1)([np.ones((2, 3)), np.full((2, 3), 2.0)]).tolist()
    [[6.0], [6.0]]
    """

    min_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2 or not all(
                    isinstance(a, int) for a in axes):
                raise ValueError(
                    "Invalid format for argument `axes`: expected an int or a list/tuple of 2 "
                    f"ints. Received: axes={axes!r}"
                )
            axes = list(axes)
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = False

    def _check(self, shapes):
        if len(shapes) != 2:
            raise ValueError(
                f"Dot '{self.name}' should be called on exactly 2 inputs. Received "
                f"{len(shapes)} input(s)."
            )

    def _axes(self, r0, r1):
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        return [axes[0] % r0, axes[1] % r1]

    def check_shapes(self, shapes):
        a0, a1 = self._axes(len(shapes[0]), len(shapes[1]))
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if a0 == 0 or a1 == 0 or (d0 is not None and d1 is not None and d0 != d1):
            raise ValueError(
                f"Dot '{self.name}': incompatible input shapes {shapes[0]} and {shapes[1]} "
                f"for axes {[a0, a1]} (the dimensions must be equal and not the batch axis)."
            )

    def merge(self, xs):
        x, y = xs
        a0, a1 = self._axes(x.ndim, y.ndim)
        self.check_shapes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        out = lax.dot_general(x, y, (((a0,), (a1,)), ((0,), (0,))))
        return out[:, None] if out.ndim == 1 else out

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of `Dot`: `Dot(axes, normalize, **kwargs)(inputs)`.

    Example:
    >>> import numpy as np
    >>> dot([np.ones((2, 3)), np.ones((2, 3))], axes=1).shape
    (2, 1)
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
