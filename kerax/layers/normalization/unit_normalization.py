import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer, shapes_of
from kerax.layers.normalization import _common


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis` (no weights).

    Args:
        axis: int or list of ints, the axes whose L2 norm becomes 1.

    Example:
    >>> import jax.numpy as jnp
    >>> layer = UnitNormalization()
    >>> y, _ = layer.apply({}, jnp.array([[3.0, 4.0]]))
    >>> [round(float(a), 3) for a in y[0]]
    [0.6, 0.8]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int):
            raise TypeError(
                "Invalid value for `axis` argument: expected an int or a list/tuple of "
                f"ints. Received: axis={axis}"
            )
        self.axis = axis
        self.supports_masking = True

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _common.check_axes(self, axes, input_shape)
        return {}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        axes = tuple(self.axis) if isinstance(self.axis, list) else (self.axis,)
        _common.check_axes(self, axes, x.shape)
        inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axes, keepdims=True))
        return x * jnp.minimum(inv, 1e12), state

    def compute_mask(self, inputs, previous_mask=None):
        """Passes the mask through unchanged."""
        return previous_mask

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
