import jax
import jax.numpy as jnp

from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.layers.normalization import _common


class GroupNormalization(Layer):
    """Splits the channels into `groups` and normalizes each group of each example.

    Args:
        groups: number of groups (`-1`: one group per channel, instance normalization).
            Must divide the number of channels.
        axis: the channels axis.
        epsilon, center, scale and the gamma/beta initializers, regularizers and
            constraints: as in `LayerNormalization`.

    Input shape: any with a defined channels axis; output shape: same as input.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> gn = GroupNormalization(groups=2)
    >>> x = jnp.arange(8.0).reshape(1, 2, 4)
    >>> y, _ = gn.apply(gn.init(jax.random.PRNGKey(0), x), x)
    >>> y.shape
    (1, 2, 4)
    """

    _variables_not_autocast = ("gamma", "beta")  # Keras: `autocast=False`

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive "
                f"integer (or `-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.autocast = False  # as Keras: the input keeps its dtype
        self.groups, self.axis, self.epsilon = groups, axis, epsilon
        self.center, self.scale = center, scale
        _common.set_affine(self, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        ndim = len(input_shape)
        dim = input_shape[_common.check_axes(self, [self.axis], input_shape)[0]]
        groups = self._groups_for(dim)
        if dim % groups != 0 or dim < groups:
            raise ValueError(
                f"GroupNormalization '{self.name}': the number of channels ({dim}) must be "
                f"a multiple of `groups` ({groups}). Choose `groups` that divides {dim}."
            )
        params = {}
        if self.scale:
            params["gamma"] = self.gamma_initializer((dim,), self.dtype)
        if self.center:
            params["beta"] = self.beta_initializer((dim,), self.dtype)
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: dim})
        return params, {}

    def _groups_for(self, dim):
        """The number of groups for `dim` channels (`groups=-1`: one per channel)."""
        return dim if self.groups == -1 else self.groups

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        x = x.astype(jnp.result_type(x.dtype, jnp.float32))
        axis = self.axis % x.ndim
        dim = x.shape[axis]
        groups = self._groups_for(dim)
        gshape = list(x.shape)
        gshape[axis:axis + 1] = [groups, dim // groups]
        xg = jnp.reshape(x, gshape)
        # Reduce over every axis but the batch and the group axis.
        axes = tuple(i for i in range(1, xg.ndim) if i != axis)
        mean = jnp.mean(xg, axes, keepdims=True)
        var = jnp.var(xg, axes, keepdims=True)
        bshape = [1] * xg.ndim
        bshape[axis:axis + 2] = [groups, dim // groups]
        inv = jax.lax.rsqrt(var + self.epsilon)
        if self.scale:
            inv = inv * jnp.reshape(params["gamma"], bshape).astype(x.dtype)
        res = -mean * inv
        if self.center:
            res = res + jnp.reshape(params["beta"], bshape).astype(x.dtype)
        y = jnp.reshape(xg * inv + res, x.shape)
        return y.astype(self.compute_dtype), state

    def compute_mask(self, inputs, previous_mask=None):
        """Passes the mask through unchanged."""
        return previous_mask

    def param_rules(self):
        return _common.affine_rules(self)

    def get_config(self):
        groups = self.groups
        if self._build_shapes is not None:  # Keras reports the resolved `groups=-1`
            shape = self._build_shapes[0]
            groups = self._groups_for(shape[self.axis % len(shape)])
        return {**super().get_config(), "groups": groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **_common.affine_config(self)}
