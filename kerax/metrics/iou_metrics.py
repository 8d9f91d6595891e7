"""Intersection-over-union metrics (Keras' `iou_metrics`), from a running confusion matrix."""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.metrics.metric import Metric


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="int32"):
    """The `(num_classes, num_classes)` confusion matrix: rows are labels, columns predictions.

    Example:
    >>> confusion_matrix([1, 2, 1], [2, 2, 1], 3).tolist()
    [[0, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    labels = jnp.asarray(labels).astype(jnp.int32).reshape(-1)
    predictions = jnp.asarray(predictions).astype(jnp.int32).reshape(-1)
    values = jnp.ones(labels.shape, dtype) if weights is None else jnp.asarray(weights).astype(dtype)
    return jnp.zeros((num_classes, num_classes), dtype).at[labels, predictions].add(values)


class _IoUBase(Metric):
    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis

    def init(self):
        return {"total_confusion_matrix": jnp.zeros((self.num_classes,) * 2, self.dtype)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = jnp.argmax(jnp.asarray(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(jnp.asarray(y_pred), axis=self.axis)
        # As Keras: values are cast to the metric's dtype (int32 by default, so float
        # weights are truncated).
        y_true = jnp.asarray(y_true).astype(self.dtype)
        weight = jnp.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if 0 < weight.ndim < y_true.ndim:  # per-row weights (kerax: also for dense labels)
            weight = weight.reshape(weight.shape + (1,) * (y_true.ndim - weight.ndim))
            weight = jnp.broadcast_to(weight, y_true.shape)
        y_true = y_true.reshape(-1)
        y_pred = jnp.asarray(y_pred).astype(self.dtype).reshape(-1)
        weight = jnp.broadcast_to(weight.reshape(-1) if weight.ndim > 1 else weight, y_true.shape)
        valid = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (
            y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        y_true, y_pred = jnp.where(valid, y_true, 0), jnp.where(valid, y_pred, 0)
        weight = jnp.where(valid, weight, 0)
        cm = confusion_matrix(y_true, y_pred, self.num_classes, weight, self.dtype)
        return {"total_confusion_matrix": state["total_confusion_matrix"] + cm}


class IoU(_IoUBase):
    """Mean intersection-over-union `tp / (tp + fp + fn)` over `target_class_ids`.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: the metric's name.
        dtype: the dtype of the confusion matrix (`int32` by default, as in Keras).
        ignore_class: a label value to skip.
        sparse_y_true: whether labels are class ids (else one-hot, argmax'ed on `axis`).
        sparse_y_pred: whether predictions are class ids (else scores, argmax'ed on `axis`).
        axis: the class axis for the argmax.

    Example:
    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}). Pass ids below num_classes={num_classes}.")
        self.target_class_ids = list(target_class_ids)

    def compute(self, state):
        cm = state["total_confusion_matrix"].astype("float32")
        tp = jnp.diag(cm)
        denominator = jnp.sum(cm, axis=0) + jnp.sum(cm, axis=1) - tp
        ids = jnp.asarray(self.target_class_ids, jnp.int32)
        tp, denominator = tp[ids], denominator[ids]
        valid = denominator > 1e-9
        eps = _config.epsilon()
        iou = jnp.where(valid, tp / (denominator + eps), 0.0)
        return jnp.sum(iou, axis=self.axis) / (jnp.sum(valid.astype("float32")) + eps)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU for binary labels, with predictions thresholded at `threshold`.

    Example:
    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = (jnp.asarray(y_pred, "float32") >= self.threshold).astype(self.dtype)
        return super().update(state, y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes.

    Example:
    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU for one-hot labels and score predictions (both argmax'ed on `axis`).

    Example:
    >>> m = OneHotIoU(num_classes=2, target_class_ids=[1])
    >>> m.update_state([[1, 0], [0, 1]], [[0.8, 0.2], [0.4, 0.6]])
    >>> float(m.result()) > 0.99
    True
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """Mean IoU over all classes, for one-hot labels and score predictions.

    Example:
    >>> m = OneHotMeanIoU(num_classes=2)
    >>> m.update_state([[1, 0], [0, 1]], [[0.8, 0.2], [0.4, 0.6]])
    >>> float(m.result()) > 0.99
    True
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
