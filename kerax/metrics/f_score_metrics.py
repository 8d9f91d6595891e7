"""F-scores (Keras' `f_score_metrics`): `FBetaScore` and `F1Score` over one-hot/multi-label data."""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.metrics.metric import Metric


class FBetaScore(Metric):
    """The F-beta score `(1 + b²) * P * R / (b² * P + R)` per class, optionally averaged.

    The per-class state is shaped on the first `update` (see `Metric.init_like`).

    Args:
        average: `None` (one score per class), `"micro"`, `"macro"` or `"weighted"`.
        beta: a Python float > 0, the weight of recall.
        threshold: a float in (0, 1]; predictions above it count as positive. With `None`,
            the largest prediction of each row is positive.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(float(v), 4) for v in m.result()]
    [0.3846, 0.9091, 0.8333]
    """

    _KEYS = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value: expected one of None, 'micro', "
                             f"'macro', 'weighted'. Received: average={average!r}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value: it should be a Python float. "
                             f"Received: beta={beta!r} of type {type(beta).__name__}")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value: it should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value: it should be a Python "
                                 f"float. Received: threshold={threshold!r} of type "
                                 f"{type(threshold).__name__}")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value: it should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self.num_classes = None

    def init(self):
        if self.num_classes is None and self.average != "micro":
            return {}
        shape = () if self.average == "micro" else (self.num_classes,)
        return {k: jnp.zeros(shape, self.dtype) for k in self._KEYS}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs of shape (batch_size, output_dim); "
                f"received y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}."
            )
        if not state:
            self.num_classes = y_pred.shape[-1]
            state = self.init()
        if self.threshold is None:
            top = jnp.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (jnp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)

        def weighted_sum(values):
            if sample_weight is not None:
                values = values * jnp.asarray(sample_weight, self.dtype)[:, None]
            return jnp.sum(values, axis=self.axis)

        increments = (weighted_sum(y_pred * y_true), weighted_sum(y_pred * (1 - y_true)),
                      weighted_sum((1 - y_pred) * y_true), weighted_sum(y_true))
        return {k: state[k] + inc for k, inc in zip(self._KEYS, increments)}

    def compute(self, state):
        if not state:
            return jnp.zeros((), self.dtype)
        eps = _config.epsilon()
        tp = state["true_positives"]
        precision = tp / (tp + state["false_positives"] + eps)
        recall = tp / (tp + state["false_negatives"] + eps)
        b2 = self.beta**2
        score = (1 + b2) * (precision * recall) / (b2 * precision + recall + eps)
        if self.average == "weighted":
            w = state["intermediate_weights"]
            score = jnp.sum(score * w / (jnp.sum(w) + eps))
        elif self.average is not None:
            score = jnp.mean(score)
        return score

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "average": self.average,
                "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score `2 * P * R / (P + R)` (`FBetaScore` with `beta=1.0`).

    Example:
    >>> m = F1Score(threshold=0.5, average="micro")
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]])
    >>> round(float(m.result()), 4)
    0.8
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
