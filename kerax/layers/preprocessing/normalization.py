"""`Normalization`: `(x - mean) / sqrt(variance)` per feature, with `adapt(data)`."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers.layer import Layer, shapes_of

_EPSILON = 1e-7  # Keras' backend.epsilon()


class Normalization(Layer):
    """Shifts and scales inputs by a mean and variance (given, or learned by `adapt`).

    Computes `(x - mean) / max(sqrt(variance), 1e-7)`, or the inverse
    `mean + x * max(sqrt(variance), 1e-7)` with `invert=True`. Without `mean`/`variance`
    the statistics live in the `state` pytree (`mean`, `variance`, `count`, Keras'
    non-trainable weights) and `adapt(data)` sets them.

    Args:
        axis: the axis or axes that keep separate statistics (default -1); None for one
            mean and variance over everything.
        mean, variance: optional fixed statistics (broadcast to the kept axes).
        invert: apply the inverse transformation.

    Example:
    >>> import numpy as np
    >>> layer = Normalization()
    >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> layer(np.array([[1.0, 20.0]])).tolist()
    [[0.0, 0.0]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        self.axis = tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        self.input_mean, self.input_variance = mean, variance
        self.invert = invert
        self.supports_masking = True

    def _kept(self, ndim):
        kept = tuple(a % ndim for a in self.axis)
        if any(a == 0 for a in kept) and ndim > 1:
            raise ValueError(
                f"Normalization '{self.name}': `axis` may not contain the batch axis 0. "
                f"Received: axis={self.axis}"
            )
        return kept

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        kept = self._kept(len(input_shape))
        shape = tuple(input_shape[a] for a in kept)
        if self.input_mean is not None:
            return {}, {}
        return {}, {"mean": jnp.zeros(shape, self.dtype),
                    "variance": jnp.ones(shape, self.dtype),
                    "count": jnp.zeros((), "int32")}

    # Keras' attributes: `adapt_mean`/`adapt_variance`/`count` are the variables;
    # `mean`/`variance` the statistics reshaped to broadcast against the inputs.
    @property
    def adapt_mean(self):
        return self._built_view("state", "mean")

    @property
    def adapt_variance(self):
        return self._built_view("state", "variance")

    @property
    def mean(self):
        return self._statistic(self.input_mean, "mean")

    @property
    def variance(self):
        return self._statistic(self.input_variance, "variance")

    def _statistic(self, given, name):
        if not self.built:
            raise AttributeError(
                f"Normalization '{self.name}' has no `{name}` before it is built: call "
                "`adapt(data)` or call it on an input first."
            )
        value = given if given is not None else self._built_view("state", name).value
        return self._broadcast(value, len(self._build_shapes[0]))

    def _broadcast(self, value, ndim):
        kept = self._kept(ndim)
        value = jnp.asarray(value, self.dtype)
        if value.ndim != len(kept) or not kept:
            return value
        shape = [1] * ndim
        for i, a in enumerate(kept):
            shape[a] = value.shape[i]
        return jnp.reshape(value, shape)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs, self.compute_dtype)
        if self.input_mean is not None:
            mean, var = self.input_mean, self.input_variance
        else:
            mean, var = state["mean"], state["variance"]
        mean, var = self._broadcast(mean, x.ndim), self._broadcast(var, x.ndim)
        mean, var = jnp.asarray(mean, x.dtype), jnp.asarray(var, x.dtype)  # as Keras (autocast)
        scale = jnp.maximum(jnp.sqrt(var), _EPSILON)
        if self.invert:
            return mean + x * scale, state
        return (x - mean) / scale, state

    def adapt(self, data):
        """Sets `mean` and `variance` from `data` (an array, or an iterable of batches).

        Statistics are computed over every axis except `axis`, in float64 and merged
        batch by batch, then stored in the layer's state (`count` stays 0, as in Keras).
        """
        batches = [data] if hasattr(data, "shape") else list(data)
        if not batches:
            raise ValueError("adapt() received an empty iterable (no batches). Pass a "
                             "non-empty array or list of arrays, e.g. layer.adapt(x).")
        first = np.asarray(batches[0])
        if self._variables is None:
            self.build_eagerly(jax.ShapeDtypeStruct(first.shape, self.dtype))
        kept = self._kept(first.ndim)
        reduce = tuple(a for a in range(first.ndim) if a not in kept)
        total, mean, m2 = 0, 0.0, 0.0
        for batch in batches:
            b = np.asarray(batch, np.float64)
            n = int(np.prod([b.shape[a] for a in reduce])) if reduce else 1
            b_mean, b_var = b.mean(axis=reduce), b.var(axis=reduce)
            delta = b_mean - mean
            new_total = total + n
            mean = mean + delta * n / new_total
            m2 = m2 + b_var * n + delta ** 2 * total * n / new_total
            total = new_total
        state = dict(self._variables["state"])
        state["mean"] = jnp.asarray(mean, self.dtype).reshape(state["mean"].shape)
        state["variance"] = jnp.asarray(m2 / total, self.dtype).reshape(state["mean"].shape)
        self._variables = {"params": self._variables["params"], "state": state}

    def get_config(self):
        to_list = lambda v: np.asarray(v).tolist() if v is not None and not isinstance(  # noqa: E731
            v, (int, float)) else v
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": to_list(self.input_mean), "variance": to_list(self.input_variance)}
