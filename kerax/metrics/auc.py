"""`AUC`: area under the ROC or precision-recall curve, from counts at many thresholds."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import config as _config
from kerax.metrics import metrics_utils as mu
from kerax.metrics.confusion_metrics import _NAMES
from kerax.metrics.metric import Metric, divide_no_nan

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Approximate area under the ROC (or PR) curve, as a Riemann sum over thresholds.

    Args:
        num_thresholds: number of thresholds (> 1), evenly spaced in [0, 1].
        curve: `"ROC"`, `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"`, `"minoring"` or `"majoring"`.
        name: the metric's name.
        dtype: the dtype of the state and result.
        thresholds: explicit thresholds in [0, 1] (overrides `num_thresholds`).
        multi_label: treat each column as its own label (one curve per label, averaged).
        num_labels: the number of labels with `multi_label=True` (else found on update).
        label_weights: per-label weights (a weighted average with `multi_label=True`).
        from_logits: apply a sigmoid to `y_pred` first.

    Example:
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        if str(curve).lower() not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected one of '
                             '"ROC", "PR", "PRGAIN".')
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected one of "interpolation", "majoring", "minoring".')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            thresholds = sorted(mu.parse_init_thresholds(thresholds))
            self.num_thresholds = len(thresholds) + 2
            self._evenly = mu.is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = _config.epsilon()
        self._thresholds = np.array([0.0 - eps] + list(thresholds) + [1.0 + eps])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in
                                                                  label_weights]
        self.from_logits = from_logits
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True. "
                             "Pass multi_label=True or drop num_labels.")
        self._num_labels = num_labels

    @property
    def thresholds(self):
        return list(self._thresholds)

    def init(self):
        if self.multi_label and self._num_labels is None:
            return {}  # shaped on the first update, as Keras builds it (see `init_like`)
        shape = (self.num_thresholds, self._num_labels) if self.multi_label else (
            self.num_thresholds,)
        return {_NAMES[k]: jnp.zeros(shape, self.dtype) for k in ("tp", "fp", "tn", "fn")}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = jnp.asarray(y_pred)
        if self.multi_label and self._num_labels is None:
            if y_pred.ndim != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`; "
                                 f"received y_pred.shape={y_pred.shape}.")
            self._num_labels = y_pred.shape[1]
        if not state:
            state = self.init()
        if self.from_logits:
            y_pred = jax.nn.sigmoid(y_pred)
        label_weights = None if self.multi_label else self.label_weights
        counts = mu.confusion_counts(
            y_true, y_pred, self._thresholds, self._evenly, sample_weight=sample_weight,
            multi_label=self.multi_label, label_weights=label_weights, dtype=self.dtype)
        return {name: state[name] + counts[k] for k, name in _NAMES.items()}

    def _average_labels(self, per_threshold):
        if not self.multi_label:
            return jnp.sum(per_threshold)
        by_label = jnp.sum(per_threshold, axis=0)
        if self.label_weights is None:
            return jnp.mean(by_label)
        w = jnp.asarray(self.label_weights, self.dtype)
        return divide_no_nan(jnp.sum(by_label * w), jnp.sum(w))

    def _interpolate_pr_auc(self, tp, fp, fn):
        """Davis & Goadrich's interpolation of the PR curve between thresholds."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, jnp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = jnp.where(both, divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)), jnp.ones_like(p[1:]))
        increment = divide_no_nan(slope * (dtp + intercept * jnp.log(ratio)),
                                  jnp.maximum(tp[1:] + fn[1:], 0))
        return self._average_labels(increment)

    def compute(self, state):
        if not state:
            return jnp.zeros((), self.dtype)
        tp, fp = state["true_positives"], state["false_positives"]
        tn, fn = state["true_negatives"], state["false_negatives"]
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = jnp.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
            precision_gain = jnp.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
            x, y = jnp.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        return self._average_labels((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": self.label_weights, "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return config
