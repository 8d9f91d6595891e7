"""The metric contract: pure `init`/`update`/`result` over a state dict, with Keras' shell.

CONTRACT (used by the engine):
- `metric.init() -> state` (a dict of arrays, in Keras' variable order),
- `metric.update(state, y_true, y_pred, sample_weight=None) -> state` (pure, jit-able),
- `metric.result(state) -> value`.
The engine passes a `sample_weight` of zeros for padded rows, so every metric must give
zero-weighted rows no influence. Keras' stateful methods (`update_state`, `result()`,
`reset_state`, `variables`) and JAX-backend stateless ones (`stateless_update_state`,
`stateless_result`, `stateless_reset_state`) are thin wrappers over the pure three.
"""

import jax
import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.utils import naming


class Metric:
    """Base class of metrics.

    Example:
    >>> from kerax.metrics import Mean
    >>> m = Mean()
    >>> m.update_state([1.0, 3.0])
    >>> float(m.result())
    2.0
    """

    _keras_module = "keras.metrics"

    def __init__(self, dtype=None, name=None):
        self.name = name or naming.auto_name(type(self).__name__)
        self.dtype = dtype or _config.floatx()
        self._state = None

    # --- the pure contract ---------------------------------------------------------
    def init(self):
        """Returns a fresh state: a dict of arrays."""
        raise NotImplementedError

    def update(self, state, y_true, y_pred=None, sample_weight=None):
        """Returns the state after accumulating one batch."""
        raise NotImplementedError

    def result(self, state=None):
        """The metric's value for `state` (or, called with no argument, for its own state)."""
        if state is None:
            state = self.state
        return self.compute(state)

    def compute(self, state):
        raise NotImplementedError

    # --- Keras' stateful shell ---------------------------------------------------------
    @property
    def state(self):
        if self._state is None:
            self._state = self.init()
        return self._state

    @state.setter
    def state(self, value):
        self._state = value

    def update_state(self, *args, **kwargs):
        self._state = self.update(self.state, *args, **kwargs)

    def reset_state(self):
        self._state = self.init()

    @property
    def variables(self):
        return list(self.state.values())

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        state = dict(zip(self.init().keys(), metric_variables))
        return list(self.update(state, *args, **kwargs).values())

    def stateless_result(self, metric_variables):
        return self.compute(dict(zip(self.init().keys(), metric_variables)))

    def stateless_reset_state(self):
        return list(self.init().values())

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _zeros(dtype, shape=()):
    return jnp.zeros(shape, dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' rule: reduce `values` to one value per weight, then weight them."""
    from kerax.losses import squeeze_or_expand_to_same_rank

    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the given values.

    Example:
    >>> m = Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        return {"total": _zeros(self.dtype), "count": _zeros(self.dtype)}

    def update(self, state, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, jnp.mean, self.dtype
        )
        if sample_weight is None:
            count = jnp.asarray(values.size if values.ndim else 1, self.dtype)
        else:
            count = jnp.sum(sample_weight)
        return {"total": state["total"] + jnp.sum(values), "count": state["count"] + count}

    def compute(self, state):
        c = state["count"]
        return jnp.where(c == 0, jnp.zeros_like(c), state["total"] / jnp.where(c == 0, 1, c))


class MeanMetricWrapper(Mean):
    """Wraps `fn(y_true, y_pred, **kwargs) -> per-sample values` into a weighted mean.

    Example:
    >>> import jax.numpy as jnp
    >>> m = MeanMetricWrapper(lambda t, p: jnp.abs(t - p), name="mae")
    >>> m.update_state(jnp.zeros((2,)), jnp.ones((2,)))
    >>> float(m.result())
    1.0
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update(self, state, y_true, y_pred, sample_weight=None):
        from kerax.losses import squeeze_or_expand_to_same_rank

        y_pred = jnp.asarray(y_pred)
        y_true = jnp.asarray(y_true)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update(state, values, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}


def tree_zeros_like(state):
    return jax.tree_util.tree_map(jnp.zeros_like, state)
