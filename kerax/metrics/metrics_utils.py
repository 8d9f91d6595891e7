"""Weighted confusion-matrix counts at thresholds, as pure functions (Keras' `metrics_utils`)."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import config as _config
from kerax.losses import squeeze_or_expand_to_same_rank

NEG_INF = -1e10
KEYS = ("tp", "fp", "tn", "fn")


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """A list of thresholds, each checked to lie in [0, 1]."""
    if thresholds is None:
        return [default_threshold]
    thresholds = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [
        thresholds]
    invalid = [t for t in thresholds if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(
            f"Threshold values must be in [0, 1]. Received: {invalid} "
            f"(thresholds={thresholds})."
        )
    return thresholds


def is_evenly_distributed_thresholds(thresholds):
    """True for `[0, 1/(n-1), ..., 1]` with n >= 3 (allows the bucketed fast path)."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_config.epsilon()))


def filter_top_k(x, k):
    """Keeps the `k` largest values on the last axis; the rest become `NEG_INF`."""
    _, idx = jax.lax.top_k(x, k)
    mask = jnp.sum(jax.nn.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * mask + NEG_INF * (1 - mask)


def _reverse_cumsum(x, axis):
    return jnp.flip(jnp.cumsum(jnp.flip(x, axis), axis=axis), axis)


def _bucketed_counts(y_true, y_pred, thresholds, multi_label, weights, with_epsilon, dtype):
    """O(T + N) counts for evenly spaced thresholds: bucket each prediction, then cumsum."""
    num_thresholds = thresholds.shape[0]
    y_pred = jnp.clip(y_pred, 0.0, 1.0)
    y_true = (y_true != 0).astype(dtype)
    weights = jnp.broadcast_to(jnp.asarray(weights, dtype), y_pred.shape)
    if not multi_label:
        y_true, y_pred, weights = y_true.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
    true_w, false_w = y_true * weights, (1.0 - y_true) * weights
    buckets = jnp.ceil(y_pred * (num_thresholds - 1)) - 1
    if with_epsilon:
        buckets = jnp.maximum(buckets, 0)
    buckets = buckets.astype(jnp.int32)

    def per_label(w, b):  # out-of-range buckets (-1) are dropped, as p <= 0 is never > t
        return _reverse_cumsum(jax.ops.segment_sum(w, b, num_segments=num_thresholds), 0)

    if multi_label:  # one column per label: (N, L) -> (T, L)
        tp = jax.vmap(per_label, in_axes=1, out_axes=1)(true_w, buckets)
        fp = jax.vmap(per_label, in_axes=1, out_axes=1)(false_w, buckets)
    else:
        tp, fp = per_label(true_w, buckets), per_label(false_w, buckets)
    total_true, total_false = jnp.sum(true_w, axis=0), jnp.sum(false_w, axis=0)
    return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}


def _thresholded_counts(y_true, y_pred, thresholds, multi_label, weights, dtype):
    """Counts for arbitrary thresholds: compare every prediction with every threshold."""
    label_pos = y_true.astype(bool)
    weights = jnp.broadcast_to(jnp.asarray(weights, dtype), y_pred.shape)
    if not multi_label:
        label_pos, y_pred, weights = label_pos.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
    thr = thresholds.reshape((-1,) + (1,) * y_pred.ndim)
    pred_pos = y_pred[None] > thr

    def count(label, pred):
        return jnp.sum(jnp.where(label & pred, weights, 0.0), axis=1)

    return {"tp": count(label_pos, pred_pos), "fp": count(~label_pos, pred_pos),
            "tn": count(~label_pos, ~pred_pos), "fn": count(label_pos, ~pred_pos)}


def confusion_counts(y_true, y_pred, thresholds, thresholds_distributed_evenly=False,
                     top_k=None, class_id=None, sample_weight=None, multi_label=False,
                     label_weights=None, dtype=None):
    """Weighted TP/FP/TN/FN counts per threshold (`y_pred > t`), as Keras counts them.

    Returns a dict with keys `"tp"`, `"fp"`, `"tn"`, `"fn"` of shape `(T,)`, or `(T, L)`
    with `multi_label=True`. Rows of weight 0 contribute nothing.

    Example:
    >>> c = confusion_counts([0, 1, 1], [0.2, 0.7, 0.4], [0.5])
    >>> [float(c[k][0]) for k in ("tp", "fp", "tn", "fn")]
    [1.0, 0.0, 1.0, 1.0]
    """
    dtype = dtype or _config.floatx()
    y_true = jnp.asarray(y_true, dtype)
    y_pred = jnp.asarray(y_pred, dtype)
    with_epsilon = bool(thresholds_distributed_evenly and (
        thresholds[0] < 0.0 or thresholds[-1] > 1.0))
    thresholds = jnp.asarray(np.asarray(thresholds), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When `class_id` is given, `y_pred` must have shape (num_samples, "
                f"num_classes); received y_pred.shape={y_pred.shape}."
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = jnp.ones((), dtype) if sample_weight is None else sample_weight
    if label_weights is not None and not multi_label:
        weights = weights * jnp.broadcast_to(jnp.asarray(label_weights, dtype)[None], y_pred.shape)
    if thresholds_distributed_evenly:
        return _bucketed_counts(y_true, y_pred, thresholds, multi_label, weights, with_epsilon,
                                dtype)
    return _thresholded_counts(y_true, y_pred, thresholds, multi_label, weights, dtype)
