"""Confusion-matrix metrics (Keras' `confusion_metrics`): counts, precision, recall, AUC, ...

Each state holds weighted counts per threshold; `compute` turns them into the metric.
"""

import jax.numpy as jnp

from kerax.metrics import metrics_utils as mu
from kerax.metrics.metric import Metric, divide_no_nan

_NAMES = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
          "fn": "false_negatives"}


class _ThresholdMetric(Metric):
    """Shared by metrics whose state is confusion counts at fixed thresholds."""

    _keys = ()  # which of tp/fp/tn/fn, in Keras' variable order
    top_k = None
    class_id = None

    def _state_shape(self):
        return (len(self.thresholds),)

    def init(self):
        return {_NAMES[k]: jnp.zeros(self._state_shape(), self.dtype) for k in self._keys}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = mu.confusion_counts(
            y_true, y_pred, self.thresholds, self._evenly, top_k=self.top_k,
            class_id=self.class_id, sample_weight=sample_weight, dtype=self.dtype)
        return {_NAMES[k]: state[_NAMES[k]] + counts[k] for k in self._keys}

    def _squeeze(self, value):
        return value[0] if len(self.thresholds) == 1 else value


class _ConfusionMatrixConditionCount(_ThresholdMetric):
    def __init__(self, key, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._key = key
        self.init_thresholds = thresholds
        self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._evenly = mu.is_evenly_distributed_thresholds(self.thresholds)

    def init(self):
        return {"accumulator": jnp.zeros(self._state_shape(), self.dtype)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = mu.confusion_counts(y_true, y_pred, self.thresholds, self._evenly,
                                     sample_weight=sample_weight, dtype=self.dtype)
        return {"accumulator": state["accumulator"] + counts[self._key]}

    def compute(self, state):
        return self._squeeze(state["accumulator"])

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted number of true positives (`y_pred > threshold` and label 1).

    Example:
    >>> m = TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())
    2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("tp", thresholds=thresholds, name=name, dtype=dtype)


class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted number of false positives (`y_pred > threshold` and label 0).

    Example:
    >>> m = FalsePositives()
    >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1])
    >>> float(m.result())
    2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("fp", thresholds=thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of true negatives (`y_pred <= threshold` and label 0).

    Example:
    >>> m = TrueNegatives()
    >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("tn", thresholds=thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of false negatives (`y_pred <= threshold` and label 1).

    Example:
    >>> m = FalseNegatives()
    >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("fn", thresholds=thresholds, name=name, dtype=dtype)


class _PrecisionRecallBase(_ThresholdMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else mu.NEG_INF
        self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=default)
        self._evenly = mu.is_evenly_distributed_thresholds(self.thresholds)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecallBase):
    """Precision `tp / (tp + fp)` at `thresholds`, optionally for the `top_k` or `class_id`.

    Example:
    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _keys = ("tp", "fp")

    def compute(self, state):
        tp = state["true_positives"]
        return self._squeeze(divide_no_nan(tp, tp + state["false_positives"]))


class Recall(_PrecisionRecallBase):
    """Recall `tp / (tp + fn)` at `thresholds`, optionally for the `top_k` or `class_id`.

    Example:
    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _keys = ("tp", "fn")

    def compute(self, state):
        tp = state["true_positives"]
        return self._squeeze(divide_no_nan(tp, tp + state["false_negatives"]))


def _rates(state):
    tp, fp = state["true_positives"], state["false_positives"]
    tn, fn = state["true_negatives"], state["false_negatives"]
    return {"sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp)}


class SensitivitySpecificityBase(_ThresholdMetric):
    """Base of the "best X where Y >= value" metrics, over `num_thresholds` thresholds."""

    _keys = ("tp", "fp", "tn", "fn")
    _constrained = _dependent = _value_arg = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if self._value_arg and not 0 <= value <= 1:
            raise ValueError(f"Argument `{self._value_arg}` must be in the range [0, 1]. "
                             f"Received: {self._value_arg}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True

    def compute(self, state):
        rates = _rates(state)
        feasible = rates[self._constrained] >= self.value
        return jnp.max(jnp.where(feasible, rates[self._dependent], 0.0), initial=0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._value_arg: self.value}


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds where specificity >= `specificity`.

    Example:
    >>> m = SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _constrained, _dependent, _value_arg = "specificity", "sensitivity", "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.specificity = specificity
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity among thresholds where sensitivity >= `sensitivity`.

    Example:
    >>> m = SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _constrained, _dependent, _value_arg = "sensitivity", "specificity", "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.sensitivity = sensitivity
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision among thresholds where recall >= `recall`.

    Example:
    >>> m = PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _constrained, _dependent, _value_arg = "sensitivity", "precision", "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.recall = recall
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall among thresholds where precision >= `precision`.

    Example:
    >>> m = RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.5
    """

    _constrained, _dependent, _value_arg = "precision", "sensitivity", "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.precision = precision
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)
