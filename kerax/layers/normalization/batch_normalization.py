import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.layers import batch_mask
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.layers.normalization import _common


class BatchNormalization(Layer):
    """Normalizes over the batch: `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    In training (`training=True` and the layer trainable) the batch's mean and variance
    are used and the moving statistics in the *state* are updated as Keras does:
    `moving = moving * momentum + batch * (1 - momentum)`. Otherwise the moving
    statistics are used. `trainable=False` therefore means inference mode, as in Keras.

    Padded batches: only the real rows marked by `kerax.layers.batch_mask.use(...)`
    (set by the training engine) contribute to the batch statistics. A `mask=` call
    argument of rank `ndim - 1` (a sequence mask) is honoured as in Keras.

    Args:
        axis: the features axis (the one that is not reduced).
        momentum: momentum of the moving averages.
        epsilon: added to the variance before the square root.
        center, scale: whether to use `beta` / `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: initializers.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: optional.
        synchronized: accepted for compatibility; on JAX statistics are those of the
            batch the step sees (use a data-parallel sharding for global statistics).
        renorm, renorm_clipping, renorm_momentum: batch renormalization is not supported
            (`renorm=True` raises).

    Input shape: any; output shape: same as input.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> bn = BatchNormalization()
    >>> x = jnp.array([[1.0, 2.0], [3.0, 6.0]])
    >>> v = bn.init(jax.random.PRNGKey(0), x)
    >>> y, state = bn.apply(v, x, training=True)
    >>> [round(float(a), 4) for a in y[:, 0]]
    [-0.9995, 0.9995]
    >>> [round(float(a), 4) for a in state["moving_mean"]]
    [0.02, 0.04]
    """

    _variables_not_autocast = ("gamma", "beta")  # Keras: `autocast=False`

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError(
                f"BatchNormalization '{self.name}': `renorm=True` (batch renormalization) "
                "is not supported by kerax. Use renorm=False."
            )
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = center, scale
        _common.set_affine(self, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.renorm, self.renorm_clipping, self.renorm_momentum = (
            renorm, renorm_clipping, renorm_momentum)
        self.synchronized = synchronized
        self.supports_masking = True

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        ndim = len(input_shape)
        axis = _common.check_axes(self, [self.axis], input_shape)[0]
        shape = (input_shape[axis],)
        params = {}
        if self.scale:
            params["gamma"] = self.gamma_initializer(shape, self.dtype)
        if self.center:
            params["beta"] = self.beta_initializer(shape, self.dtype)
        state = {"moving_mean": self.moving_mean_initializer(shape, self.dtype),
                 "moving_variance": self.moving_variance_initializer(shape, self.dtype)}
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: input_shape[axis]})
        return params, state

    def _moments(self, x, axes, mask):
        rows = batch_mask.current()
        if mask is None and rows is None:
            return jnp.mean(x, axes), jnp.var(x, axes)
        weights = jnp.ones(x.shape, x.dtype)
        eps = 0.0
        if mask is not None:
            if mask.ndim != x.ndim - 1:
                raise ValueError(
                    f"BatchNormalization '{self.name}': the mask should have one dimension "
                    f"less than the inputs. Received: mask.shape={tuple(mask.shape)}, "
                    f"inputs.shape={tuple(x.shape)}"
                )
            weights = weights * jnp.expand_dims(mask, -1).astype(x.dtype)
            eps = 1e-7  # Keras' backend.epsilon() in its masked moments
        if rows is not None:
            rows = jnp.reshape(rows, (-1,) + (1,) * (x.ndim - 1)).astype(x.dtype)
            weights = weights * rows
        total = jnp.sum(weights, axes, keepdims=True) + eps
        mean = jnp.sum(weights * x, axes, keepdims=True) / total
        var = jnp.sum(jnp.where(weights > 0, jnp.square(x - mean), 0) * weights, axes,
                      keepdims=True) / total
        return jnp.squeeze(mean, axes), jnp.squeeze(var, axes)

    def forward(self, params, state, inputs, training=False, rng=None, mask=None, **kwargs):
        x = jnp.asarray(inputs)
        x = x.astype(jnp.result_type(x.dtype, jnp.float32))
        axis = self.axis % x.ndim
        axes = tuple(i for i in range(x.ndim) if i != axis)
        moving_mean = state["moving_mean"].astype(x.dtype)
        moving_var = state["moving_variance"].astype(x.dtype)
        if training and self.trainable:
            mean, var = self._moments(x, axes, mask)
            m = self.momentum
            state = {**state,
                     "moving_mean": (moving_mean * m + mean * (1.0 - m)).astype(
                         state["moving_mean"].dtype),
                     "moving_variance": (moving_var * m + var * (1.0 - m)).astype(
                         state["moving_variance"].dtype)}
        else:
            mean, var = moving_mean, moving_var
        bshape = [1] * x.ndim
        bshape[axis] = x.shape[axis]
        inv = jax.lax.rsqrt(var + self.epsilon)
        if self.scale:
            inv = inv * params["gamma"].astype(x.dtype)
        offset = -mean * inv
        if self.center:
            offset = offset + params["beta"].astype(x.dtype)
        y = x * jnp.reshape(inv, bshape) + jnp.reshape(offset, bshape)
        return y.astype(self.compute_dtype), state

    def compute_mask(self, inputs, previous_mask=None):
        """Passes the mask through unchanged."""
        return previous_mask

    def param_rules(self):
        return _common.affine_rules(self)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            **_common.affine_config(self),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "synchronized": self.synchronized, "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping, "renorm_momentum": self.renorm_momentum,
        }
