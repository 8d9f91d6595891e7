"""Regression metrics (Keras' `regression_metrics`): errors averaged over samples, and R²."""

import warnings

import jax
import jax.numpy as jnp

from kerax.losses import squeeze_or_expand_to_same_rank
from kerax import losses as lf
from kerax.metrics.metric import Mean, MeanMetricWrapper, Metric, weighted


class _NameDtypeConfig:
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig, MeanMetricWrapper):
    """Mean of squared errors.

    Example:
    >>> m = MeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(lf.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(_NameDtypeConfig, MeanMetricWrapper):
    """Mean of absolute errors.

    Example:
    >>> m = MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.25
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(lf.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_NameDtypeConfig, MeanMetricWrapper):
    """Mean of `100 * |y_true - y_pred| / |y_true|`.

    Example:
    >>> m = MeanAbsolutePercentageError()
    >>> m.update_state([[2.0]], [[1.0]])
    >>> float(m.result())
    50.0
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(lf.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_NameDtypeConfig, MeanMetricWrapper):
    """Mean of `(log(y_true + 1) - log(y_pred + 1)) ** 2`.

    Example:
    >>> m = MeanSquaredLogarithmicError()
    >>> m.update_state([[0.0]], [[0.0]])
    >>> float(m.result())
    0.0
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(lf.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(_NameDtypeConfig, MeanMetricWrapper):
    """Mean of `log(cosh(y_pred - y_true))`.

    Example:
    >>> m = LogCoshError()
    >>> m.update_state([[1.0]], [[1.0]])
    >>> float(m.result())
    0.0
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(lf.log_cosh, name=name, dtype=dtype)


def _l2_normalize(x, axis):
    eps = 1e-7  # Keras' epsilon, as `ops.normalize` uses it
    inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, 1.0 / eps)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine of the angle between `y_true` and `y_pred` along `axis`.

    Example:
    >>> round(float(cosine_similarity([[0.0, 1.0]], [[1.0, 1.0]])[0]), 4)
    0.7071
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions.

    Example:
    >>> m = CosineSimilarity(axis=1)
    >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean of squared errors.

    Example:
    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update(state, jnp.square(y_pred - y_true), sample_weight)

    def compute(self, state):
        return jnp.sqrt(super().compute(state))


class R2Score(Metric):
    """The coefficient of determination, per output and aggregated.

    The state's per-output arrays are shaped on the first `update`, as Keras builds them;
    call `init(num_outputs)` for the pure form.

    Args:
        class_aggregation: `"uniform_average"` (default), `"variance_weighted_average"`
            or `None` (one score per output).
        num_regressors: number of independent regressors, for the adjusted R² (0: plain).
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> m = R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    >>> round(float(m.result()), 4)
    0.5714
    """

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0,
                 name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`: expected one of "
                f"{self._AGGREGATIONS}, received class_aggregation={class_aggregation!r}."
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`: expected a value >= 0, "
                f"received num_regressors={num_regressors}."
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_outputs = None

    def init(self, num_outputs=None):
        num_outputs = num_outputs or self.num_outputs
        state = {"num_samples": jnp.zeros((), self.dtype)}
        if num_outputs is not None:
            for key in ("squared_sum", "sum", "residual", "count"):
                state[key] = jnp.zeros((num_outputs,), self.dtype)
        return state

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects 2D inputs of shape (batch_size, output_dim); received "
                f"y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}. Reshape them, "
                "e.g. `y[:, None]` for a single output."
            )
        if "sum" not in state:
            self.num_outputs = y_pred.shape[-1]
            state = {**state, **{k: v for k, v in self.init().items() if k != "num_samples"}}
        sw = jnp.asarray(1.0 if sample_weight is None else sample_weight, self.dtype)
        if sw.ndim == 1:
            sw = sw[:, None]
        sw = jnp.broadcast_to(sw, y_true.shape)
        weighted_true = weighted(y_true, sw)
        return {
            # Keras counts every entry; entries of weight 0 (padding) are not counted here.
            "num_samples": state["num_samples"] + jnp.sum(sw != 0).astype(self.dtype),
            "squared_sum": state["squared_sum"] + jnp.sum(y_true * weighted_true, axis=0),
            "sum": state["sum"] + jnp.sum(weighted_true, axis=0),
            "residual": state["residual"] + jnp.sum(weighted((y_true - y_pred) ** 2, sw), axis=0),
            "count": state["count"] + jnp.sum(sw, axis=0),
        }

    def compute(self, state):
        if "sum" not in state:
            return jnp.asarray(jnp.nan, self.dtype)
        mean = state["sum"] / state["count"]
        total = state["squared_sum"] - state["sum"] * mean
        raw = 1 - state["residual"] / total
        raw = jnp.where(jnp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = jnp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = jnp.sum(total * raw) / jnp.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = state["num_samples"], self.num_regressors
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
            if not _concrete(n):  # under jit: no warning, same fallback
                return jnp.where(p >= n - 1, score, adjusted)
            if p >= float(n) - 1:
                warnings.warn(
                    "Adjusted R2 score needs more datapoints than `num_regressors` + 1 "
                    f"(received num_regressors={p}, num_samples={int(n)}); falling back to "
                    "the standard R2 score.", stacklevel=2)
                return score
            return adjusted
        return score

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def _concrete(x):
    try:
        float(x)
        return True
    except Exception:  # a tracer under jit
        return False
