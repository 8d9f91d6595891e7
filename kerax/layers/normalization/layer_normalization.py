import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer, shapes_of
from kerax.layers.normalization import _common


class LayerNormalization(Layer):
    """Normalizes each example over `axis`: `gamma * (x - mean) / sqrt(var + eps) + beta`.

    Args:
        axis: int or list of ints, the axes to normalize over (default: the last).
        epsilon: added to the variance.
        center, scale: whether to use `beta` / `gamma`.
        rms_scaling: Keras' deprecated flag: scale by `1/sqrt(var + eps)` without
            centering and without `beta` (use `RMSNormalization` for true RMS norm).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
            beta_constraint, gamma_constraint: as in Keras.

    Input shape: any; output shape: same as input.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> ln = LayerNormalization()
    >>> x = jnp.array([[1.0, 3.0]])
    >>> y, _ = ln.apply(ln.init(jax.random.PRNGKey(0), x), x)
    >>> [round(float(a), 3) for a in y[0]]
    [-1.0, 1.0]
    """

    _variables_not_autocast = ("gamma", "beta")  # Keras: `autocast=False`

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        self.autocast = False  # as Keras: the input keeps its dtype
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int):
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', "
                f"but received: {axis!r}"
            )
        self.axis = axis
        self.epsilon = epsilon
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        _common.set_affine(self, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True

    def _axes(self, shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return _common.check_axes(self, axes, shape)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        axes = self._axes(input_shape)
        shape = tuple(input_shape[a] for a in axes)
        self.input_spec = _common.axes_spec(self, axes, input_shape)
        params = {}
        if self.scale or self.rms_scaling:
            params["gamma"] = self.gamma_initializer(shape, self.dtype)
        if self.center and not self.rms_scaling:
            params["beta"] = self.beta_initializer(shape, self.dtype)
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        x = x.astype(jnp.result_type(x.dtype, jnp.float32))
        axes = self._axes(x.shape)
        bshape = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]
        gamma = params.get("gamma")
        beta = params.get("beta")
        var = jnp.var(x, axis=tuple(axes), keepdims=True)
        inv = jax.lax.rsqrt(var + self.epsilon)
        if self.rms_scaling:
            y = x * inv
            if gamma is not None:
                y = y * jnp.reshape(gamma, bshape).astype(x.dtype)
        else:
            mean = jnp.mean(x, axis=tuple(axes), keepdims=True)
            if gamma is not None:
                inv = inv * jnp.reshape(gamma, bshape).astype(x.dtype)
            res = -mean * inv
            if beta is not None:
                res = res + jnp.reshape(beta, bshape).astype(x.dtype)
            y = x * inv + res
        return y.astype(self.compute_dtype), state

    def compute_mask(self, inputs, previous_mask=None):
        """Passes the mask through unchanged."""
        return previous_mask

    def param_rules(self):
        return _common.affine_rules(self)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                **_common.affine_config(self)}
