"""Accuracy metrics (core set; the full catalogue extends this module)."""

import jax.numpy as jnp

from kerax.metrics.metric import MeanMetricWrapper


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_pred)` equals the integer label, else 0.0.

    Example:
    >>> import jax.numpy as jnp
    >>> sparse_categorical_accuracy(jnp.array([1]), jnp.array([[0.1, 0.9]])).tolist()
    [1.0]
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    pred = jnp.argmax(y_pred, axis=-1)
    return (pred.astype(y_true.dtype) == y_true).astype("float32")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions equals the integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        values = sparse_categorical_accuracy(y_true, y_pred)
        return super(MeanMetricWrapper, self).update(state, values, sample_weight)
