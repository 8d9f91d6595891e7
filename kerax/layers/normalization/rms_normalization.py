import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer, shapes_of
from kerax.layers.normalization import _common


class RMSNormalization(Layer):
    """Root-mean-square normalization: `x * rsqrt(mean(x**2) + epsilon) * scale`.

    Args:
        axis: int or list of ints, the axes to normalize over.
        epsilon: added to the mean square.

    Input shape: any; output shape: same as input. The weight is named `scale`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = RMSNormalization()
    >>> x = jnp.array([[3.0, 4.0]])
    >>> y, _ = layer.apply(layer.init(jax.random.PRNGKey(0), x), x)
    >>> [round(float(a), 3) for a in y[0]]
    [0.849, 1.131]
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, epsilon

    def _axes(self, shape):
        axes = list(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        return _common.check_axes(self, axes, shape)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        axes = self._axes(input_shape)
        shape = tuple(input_shape[a] for a in axes)
        self.input_spec = _common.axes_spec(self, axes, input_shape)
        return {"scale": jnp.ones(shape, self.dtype)}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        x = x.astype(jnp.result_type(x.dtype, jnp.float32))
        axes = self._axes(x.shape)
        rrms = jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=tuple(axes), keepdims=True)
                             + self.epsilon)
        scale = params["scale"].astype(x.dtype)
        if axes != [x.ndim - 1]:
            scale = jnp.reshape(scale, [x.shape[d] if d in axes else 1 for d in range(x.ndim)])
        return (x * rrms * scale).astype(self.compute_dtype), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
