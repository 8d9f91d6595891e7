"""The `Loss` base class and the one place where per-sample losses are weighted and reduced."""

import jax
import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.backend import naming

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    """Checks a `reduction` argument and returns it unchanged.

    Example:
    >>> standardize_reduction("sum")
    'sum'
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Reconciles ranks that differ by one through a trailing axis of length 1, as Keras does.

    A rank-1 array is expanded (`(32,)` with `(32, 1)` gives two `(32, 1)` arrays) unless
    `expand_rank_1=False`, in which case the other one is squeezed.

    Example:
    >>> a, b = squeeze_or_expand_to_same_rank(jnp.zeros((4,)), jnp.zeros((4, 1)))
    >>> a.shape, b.shape
    ((4, 1), (4, 1))
    """
    r1, r2 = jnp.ndim(x1), jnp.ndim(x2)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            return x1, jnp.expand_dims(x2, -1)
        return jnp.squeeze(x1, -1), x2
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            return jnp.expand_dims(x1, -1), x2
        return x1, jnp.squeeze(x2, -1)
    return x1, x2


def check_same_shape(fn_name, y_true, y_pred):
    """Raises a ValueError naming both shapes unless they are equal (kerax never broadcasts)."""
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{fn_name}: `y_true` and `y_pred` must have the same shape; received "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}. "
            "Reshape the targets to match the model's output (kerax does not broadcast them)."
        )


def divide_no_nan(x, y):
    """`x / y`, and 0 where `y == 0` (with a finite gradient)."""
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x), x / safe)


def _align(name, weights, values):
    """Fits `weights` (sample weights or a mask) to per-sample `values` without enlarging them.

    Accepted: a scalar; the values' shape; a shape Keras' `squeeze_or_expand_to_same_rank`
    reconciles; a leading part of the values' shape (row weights for sequence losses); or a
    same-rank shape that broadcasts onto the values.
    """
    if weights.ndim == 0 or values.ndim == 0:
        return weights, values
    weights, values = squeeze_or_expand_to_same_rank(weights, values)
    if weights.ndim < values.ndim and weights.shape == values.shape[: weights.ndim]:
        weights = jnp.reshape(weights, weights.shape + (1,) * (values.ndim - weights.ndim))
    try:
        fits = jnp.broadcast_shapes(weights.shape, values.shape) == values.shape
    except ValueError:
        fits = False
    if not fits or weights.ndim != values.ndim:
        raise ValueError(
            f"`{name}` of shape {tuple(weights.shape)} does not fit the per-sample losses of "
            f"shape {tuple(values.shape)}. Pass one weight per sample (shape "
            f"{tuple(values.shape[:1])}) or one per loss value (shape {tuple(values.shape)})."
        )
    return weights, values


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean `mask` (already shaped like the values) into `sample_weight`, as Keras 3.

    For "sum_over_batch_size" and "mean", valid entries get weight `total / valid`, so the
    final division by `total` becomes a division by the number of valid entries.
    """
    if mask is None:
        return sample_weight
    mask = mask.astype(bool)
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(mask.size, dtype)
        valid = jnp.sum(mask.astype(dtype))
        float_mask = jnp.where(mask, divide_no_nan(total, valid), jnp.zeros((), dtype))
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Sums weighted `values`, divided as `reduction` says (Keras 3's `reduce_values`)."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = jnp.sum(sample_weight).astype(loss.dtype)
        else:
            divisor = jnp.asarray(values.size, loss.dtype)
        loss = divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weights per-sample `values` and reduces them, as Keras 3's `reduce_weighted_values`.

    `mask` marks valid entries (usually one flag per row): masked entries count for nothing,
    and "sum_over_batch_size"/"mean" divide by the number of valid entries. Weights and masks
    never broadcast the values to a larger shape; a shape that would raises a ValueError.

    Example:
    >>> float(reduce_weighted_values(jnp.array([1.0, 2.0, 9.0]), mask=jnp.array([1, 1, 0])))
    1.5
    """
    reduction = standardize_reduction(reduction)
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight, values = _align("sample_weight", jnp.asarray(sample_weight, values.dtype),
                                       values)
    if mask is not None and values.ndim == 0 and sample_weight is None:
        mask = None  # one value for the whole batch, computed from the real rows already
    if mask is not None:
        mask, values = _align("mask", jnp.asarray(mask).astype(bool), values)
        if values.ndim:  # a single value for the whole batch keeps the mask as it is (Keras)
            mask = jnp.broadcast_to(mask, values.shape)
        if sample_weight is not None:
            sample_weight, _ = _align("sample_weight", sample_weight, values)
    weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if weight is not None:
        weighted = values * weight
        if mask is not None:  # padded rows count for nothing, even when their loss is nan
            weighted = jnp.where(mask, weighted, jnp.zeros((), values.dtype))
        values = weighted
    return reduce_values(values, weight, reduction)


def _resolve_dtype(dtype):
    if dtype is None:
        return _config.floatx()
    return getattr(dtype, "compute_dtype", None) or str(jnp.dtype(dtype))


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` returning per-sample losses.

    Args:
        name: Name of the loss (snake case of the class name by default).
        reduction: One of "sum_over_batch_size" (default), "sum", "mean",
            "mean_with_sample_weight", "none" or None.
        dtype: The dtype of the computation; defaults to `kerax.config.floatx()`.

    Calling a loss: `loss(y_true, y_pred, sample_weight=None, mask=None)` converts both to
    `dtype`, computes `call`, and reduces with `reduce_weighted_values`. Subclasses may
    override `output_mask(y_true, y_pred, values)` to mark values that do not count
    (`ignore_class`), and `masked_call(y_true, y_pred, mask)` when their values mix rows
    (Dice over the whole batch, Circle), so that padded rows change nothing.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.losses import MeanSquaredError
    >>> float(MeanSquaredError()(jnp.zeros((2, 1)), jnp.ones((2, 1))))
    1.0
    """

    _keras_module = "keras.losses"

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = _resolve_dtype(dtype)

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        y_pred = jax.tree_util.tree_map(lambda v: jnp.asarray(v, self.dtype), y_pred)
        y_true = jax.tree_util.tree_map(lambda v: jnp.asarray(v, self.dtype), y_true)
        if mask is None:
            values = self.call(y_true, y_pred)
        else:
            mask = jnp.asarray(mask).astype(bool)
            values = self.masked_call(y_true, y_pred, mask)
        values = jnp.asarray(values, self.dtype)
        out_mask = self.output_mask(y_true, y_pred, values)
        if out_mask is not None:
            if mask is not None:
                mask, _ = _align("mask", mask, values)
                out_mask = jnp.logical_and(jnp.broadcast_to(mask, values.shape), out_mask)
            mask = out_mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.dtype)

    def call(self, y_true, y_pred):
        """Per-sample losses, unreduced; pure and jit-able."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `call(self, y_true, y_pred)` returning "
            "per-sample losses."
        )

    def output_mask(self, y_true, y_pred, values):
        """Boolean array (shape of `values`) of values that count, or None for all."""
        return None

    def masked_call(self, y_true, y_pred, mask):
        """Per-sample losses when only rows where `mask` is True are real (padding elsewhere)."""
        return self.call(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
