"""The metric contract: pure `init`/`update`/`result` over a state dict, with Keras' shell.

CONTRACT (used by the engine):
- `metric.init() -> state` (a dict of arrays, keys in Keras' variable order),
- `metric.update(state, y_true, y_pred, sample_weight=None) -> state` (pure, jit-able),
- `metric.result(state) -> value` (`metric.compute(state)` is the same, always pure).
The engine passes a `sample_weight` of zeros for padded rows, so every metric must give
zero-weighted rows no influence. Keras' stateful methods (`update_state`, `result()`,
`reset_state`, `variables`) and JAX-backend stateless ones (`stateless_update_state`,
`stateless_result`, `stateless_reset_state`) are thin wrappers over the pure three.

`Mean`, `Sum` and `MeanMetricWrapper` (Keras' `reduction_metrics`) live here too, since
almost every metric is built on them.
"""

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax import metrics as metrics_lib  # the namespace (its `deserialize`)
from kerax.backend import config as _config
from kerax.layers.variable_view import VariableView
from kerax.backend import naming
from kerax.losses.loss import squeeze_or_expand_to_same_rank
from kerax.serialization import serialization_lib


class Metric:
    """Base class of metrics: subclasses implement `init`, `update` and `compute`.

    Example:
    >>> from kerax.metrics import Mean
    >>> m = Mean()
    >>> m.update_state([1.0, 3.0])
    >>> float(m.result())
    2.0
    >>> state = m.update(m.init(), [4.0])  # the pure form
    >>> float(m.result(state))
    4.0
    """

    _keras_module = "keras.metrics"

    def __init__(self, dtype=None, name=None):
        self.name = name or naming.auto_name(type(self).__name__)
        self._path_name = self.name  # variables' paths keep the name they were made under
        self.dtype = dtype or _config.floatx()
        self._state = None
        self._variable_specs = {}
        self._bound = None

    # --- the pure contract ---------------------------------------------------------
    def init(self):
        """Returns a fresh state: a dict of arrays."""
        if self._variable_specs:  # a Keras-style subclass (`add_variable`)
            return {n: init(shape, dtype) for n, (shape, dtype, init)
                    in self._variable_specs.items()}
        raise NotImplementedError

    def update(self, state, y_true, y_pred=None, sample_weight=None):
        """Returns the state after accumulating one batch."""
        if self._keras_style():
            kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
            args = (y_true,) if y_pred is None else (y_true, y_pred)
            return self._run_bound(state, self.update_state, *args, **kwargs)[0]
        raise NotImplementedError

    # --- Keras-style subclasses: `add_variable` + `update_state` + `result()` -------------
    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Declares a state variable, Keras style; returns a handle with `assign_add` etc.

        >>> class Total(Metric):
        ...     def __init__(self, name="total"):
        ...         super().__init__(name=name)
        ...         self.total = self.add_variable((), "zeros", name="total")
        ...     def update_state(self, values, sample_weight=None):
        ...         self.total.assign_add(jnp.sum(jnp.asarray(values, "float32")))
        ...     def result(self):
        ...         return self.total.value
        >>> m = Total()
        >>> m.update_state([1.0, 2.0])
        >>> float(m.result()), float(m.compute(m.update(m.init(), [5.0])))
        (3.0, 5.0)
        """
        name = name or f"variable_{len(self._variable_specs)}"
        init = initializers.get(initializer)
        self._variable_specs[name] = (tuple(shape), dtype or self.dtype, init)
        self._state = None
        return _MetricVariable(self, name)

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    def _keras_style(self):
        return type(self).update_state is not Metric.update_state

    def _run_bound(self, state, fn, *args, **kwargs):
        """Runs a Keras-style method with the variables reading/writing `state` (pure)."""
        previous, self._bound = self._bound, dict(state)
        try:
            out = fn(*args, **kwargs)
            return self._bound, out
        finally:
            self._bound = previous

    def result(self, state=None):
        """The metric's value for `state` (or, called with no argument, for its own state)."""
        if state is None:
            state = self.state
        return self.compute(state)

    def compute(self, state):
        """The metric's value for `state` (pure)."""
        if self._keras_style() and type(self).result is not Metric.result:
            return self._run_bound(state, self.result)[1]
        raise NotImplementedError

    def init_like(self, *update_args, **update_kwargs):
        """A fresh state shaped for these `update` arguments (arrays or ShapeDtypeStructs).

        A few metrics (`R2Score`, `F1Score`) size their state from the first batch, as
        Keras builds them; this gives the full state up front, e.g. for a `lax.scan` carry.
        Every metric's state starts at zeros, as in Keras.
        """
        shapes = jax.eval_shape(self.update, self.init(), *update_args, **update_kwargs)
        return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

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
        """The metric's state as live, named variables (Keras' `metric.variables`).

        Each reads the metric's current state and `assign` writes it; they can be passed
        to `jax.jit` as they are (as arrays), as in Keras' JAX training loops.

        Example:
        >>> from kerax.metrics import Mean
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0])
        >>> [(v.name, float(v)) for v in m.variables]
        [('total', 4.0), ('count', 2.0)]
        """
        views = self.__dict__.setdefault("_variable_views", {})
        out = []
        for key in self.state:
            if key not in views:
                views[key] = _MetricVariable(self, key)
            out.append(views[key])
        return out

    def _as_state(self, metric_variables):
        keys = list(self.init().keys())
        if len(metric_variables) != len(keys):
            raise ValueError(
                f"Metric '{self.name}' expects {len(keys)} metric variables ({keys}), "
                f"received {len(metric_variables)}. Pass `metric.variables` or "
                "`metric.stateless_reset_state()`."
            )
        values = [v.value if isinstance(v, VariableView) else v for v in metric_variables]
        return dict(zip(keys, values))

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        return list(self.update(self._as_state(metric_variables), *args, **kwargs).values())

    def stateless_result(self, metric_variables):
        return self.compute(self._as_state(metric_variables))

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


class _MetricVariable(VariableView):
    """What `Metric.add_variable` returns: a view on one entry of the metric's state."""

    def __init__(self, metric, name):
        self._metric = metric
        self._path = (name,)

    @property
    def path(self):
        m = self._metric
        return f"{m.__dict__.get('_path_name', m.name)}/{self._path[0]}"

    trainable = False

    def _tree(self):
        m = self._metric
        return m._bound if m._bound is not None else m.state

    @property
    def value(self):
        return self._tree()[self._path[0]]

    def assign(self, value):
        if isinstance(value, VariableView):
            value = value.value
        value = jnp.broadcast_to(jnp.asarray(value, self.value.dtype), self.shape)
        tree = self._tree()
        if tree is self._metric._bound:
            tree[self._path[0]] = value
        else:
            self._metric._state = {**tree, self._path[0]: value}
        return self


    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)


def _flatten_metric_variable(v):
    return (v.value,), None


def _unflatten_metric_variable(_, children):
    return children[0]


# As Keras' JAX variables, `metric.variables` can be passed to `jax.jit` as they are.
jax.tree_util.register_pytree_node(
    _MetricVariable, _flatten_metric_variable, _unflatten_metric_variable)


def divide_no_nan(x, y):
    """`x / y`, with 0 where `y == 0`."""
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x / safe), x / safe)


def weighted(values, sample_weight):
    """`values * sample_weight`, exactly 0 where the weight is 0 (even if a value is nan)."""
    return jnp.where(sample_weight == 0, jnp.zeros_like(values), values * sample_weight)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' rule: reduce `values` to the weights' rank, weight them, then one per row."""
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        if values.ndim == 0 and sample_weight.ndim > 0:
            # One value for the whole batch (a metric function returning
            # `ops.mean(y_pred)`): one sample, as Keras counts it, if the batch has a row
            # of nonzero weight (fit's padding mask: a batch of real rows).
            sample_weight = jnp.any(sample_weight != 0).astype(dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = weighted(values, sample_weight)
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the given values.

    Example:
    >>> m = Sum()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        return {"total": jnp.zeros((), self.dtype)}

    def update(self, state, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, jnp.sum, self.dtype)
        return {"total": state["total"] + jnp.sum(values)}

    def compute(self, state):
        return state["total"].astype(self.dtype)


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
        return {"total": jnp.zeros((), self.dtype), "count": jnp.zeros((), self.dtype)}

    def update(self, state, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, jnp.mean, self.dtype
        )
        if sample_weight is not None:
            count = jnp.sum(sample_weight)
        else:
            count = jnp.asarray(values.shape[0] if values.ndim else 1, self.dtype)
        return {"total": state["total"] + jnp.sum(values), "count": state["count"] + count}

    def compute(self, state):
        return divide_no_nan(state["total"], state["count"])


class MeanMetricWrapper(Mean):
    """Wraps `fn(y_true, y_pred, **kwargs) -> per-sample values` into a weighted mean.

    Args:
        fn: the metric function, `fn(y_true, y_pred, **kwargs)`.
        name: the metric's name.
        dtype: the dtype of the state and result.
        **kwargs: passed on to `fn`.

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
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update(state, values, sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        if type(self) is MeanMetricWrapper:
            config["fn"] = serialization_lib.serialize_keras_object(self._fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            config["fn"] = metrics_lib.deserialize(config["fn"])
        return cls(**config)


def metric_from_function(fn, name=None, **kwargs):
    """Wraps a plain function metric `fn(y_true, y_pred)` as a `MeanMetricWrapper`.

    The metric is named after the function (as Keras' `compile` names it).

    Example:
    >>> import jax.numpy as jnp
    >>> def my_mae(y_true, y_pred):
    ...     return jnp.abs(y_true - y_pred)
    >>> metric_from_function(my_mae).name
    'my_mae'
    """
    if not callable(fn):
        raise TypeError(
            f"metric_from_function expects a function `fn(y_true, y_pred)`, received {fn!r}."
        )
    if name is None:
        name = getattr(fn, "__name__", None) or naming.to_snake_case(type(fn).__name__)
    return MeanMetricWrapper(fn, name=name, **kwargs)


def tree_zeros_like(state):
    return jax.tree_util.tree_map(jnp.zeros_like, state)
