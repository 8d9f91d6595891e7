"""`kerax.losses`: Keras 3's losses as pure functions plus thin config classes.

CONTRACT (used by the engine):
- `Loss.call(y_true, y_pred) -> per-sample values` (unreduced, pure, jit-able).
- `Loss.__call__(y_true, y_pred, sample_weight=None, mask=None) -> scalar`, reduced as
  Keras 3 does (`reduce_weighted_values`). `mask` marks real rows: for
  "sum_over_batch_size"/"mean" the sum is divided by the number of *valid* entries, so
  padded rows in a short last batch change nothing.
- Shapes of `y_true` and `y_pred` are checked in Python (at trace time); an incompatible
  pair raises a ValueError naming both shapes instead of broadcasting silently.
- `get(identifier)` accepts a Keras name ("mse", "sparse_categorical_crossentropy", ...),
  a `Loss` instance, a config dict, or a callable `fn(y_true, y_pred)`.
"""

import jax
import jax.numpy as jnp

from kerax import errors
from kerax.backend import config as _config
from kerax.utils import naming


def standardize_reduction(reduction):
    allowed = {"sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight"}
    if reduction not in allowed:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {allowed}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis of length 1 when ranks differ by exactly one."""
    r1, r2 = jnp.ndim(x1), jnp.ndim(x2)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = jnp.sum(sample_weight).astype(loss.dtype)
        else:
            divisor = jnp.asarray(values.size, loss.dtype)
        loss = jnp.where(divisor == 0, jnp.zeros_like(loss), loss / jnp.where(divisor == 0, 1, divisor))
    return loss


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean `mask` into `sample_weight` the way Keras 3 does."""
    if mask is None:
        return sample_weight
    mask = jnp.asarray(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(mask.size, dtype)
        valid = jnp.sum(mask.astype(dtype))
        weight = jnp.where(valid == 0, jnp.zeros((), dtype), total / jnp.where(valid == 0, 1, valid))
        float_mask = jnp.where(mask.astype(bool), weight, jnp.zeros((), dtype))
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = jnp.asarray(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weights per-sample `values` and reduces them, exactly as Keras 3 does."""
    reduction = standardize_reduction(reduction)
    values = jnp.asarray(values, dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` returning per-sample losses.

    Example:
    >>> import jax.numpy as jnp
    >>> float(MeanSquaredError()(jnp.zeros((2, 1)), jnp.ones((2, 1))))
    1.0
    """

    _keras_module = "keras.losses"

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        dtype = self.dtype or _config.floatx()
        y_pred = jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype), y_pred)
        y_true = jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype), y_true)
        values = self.call(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """Wraps a function `fn(y_true, y_pred, **kwargs)` into a `Loss`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self._fn_kwargs}


def _check_same_shape(fn_name, y_true, y_pred):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{fn_name}: `y_true` and `y_pred` must have the same shape; received "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}. "
            "Reshape the targets to match the model's output (kerax does not broadcast them)."
        )


def mean_squared_error(y_true, y_pred):
    """Per-sample mean of squared errors over the last axis.

    Example:
    >>> import jax.numpy as jnp
    >>> mean_squared_error(jnp.zeros((1, 2)), jnp.ones((1, 2))).tolist()
    [1.0]
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_same_shape("mean_squared_error", y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy between integer labels and class probabilities (or logits).

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(sparse_categorical_crossentropy(jnp.array([0]), jnp.array([[0.5, 0.5]]))[0]), 4)
    0.6931
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "sparse_categorical_crossentropy: integer labels must have the model output's "
            f"shape without its class axis; received y_true.shape={tuple(y_true.shape)} and "
            f"y_pred.shape={tuple(y_pred.shape)} (expected y_true.shape="
            f"{tuple(y_pred.shape[:-1])} or {tuple(y_pred.shape[:-1]) + (1,)})."
        )
    labels = y_true.astype(jnp.int32)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = jnp.where(valid, labels, 0)
    if from_logits:
        log_prob = jax.nn.log_softmax(y_pred, axis=axis)
    else:
        eps = _config.epsilon()
        out = y_pred / jnp.sum(y_pred, axis, keepdims=True)
        log_prob = jnp.log(jnp.clip(out, eps, 1.0 - eps))
    one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], axis=axis, dtype=log_prob.dtype)
    res = -jnp.sum(one_hot * log_prob, axis=axis)
    if valid is not None:
        res = jnp.where(valid, res, 0.0)
    return res


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors between labels and predictions."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class labels."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)


ALL = {c.__name__: c for c in (Loss, LossFunctionWrapper, MeanSquaredError,
                                 SparseCategoricalCrossentropy)}
FUNCTIONS = {f.__name__: f for f in (mean_squared_error, sparse_categorical_crossentropy)}
ALIASES = {"mse": mean_squared_error, "MSE": mean_squared_error}


def serialize(loss):
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    from kerax.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects={**ALL, **FUNCTIONS, **ALIASES}, custom_objects=custom_objects
    )


def get(identifier):
    """Resolves a loss: a Keras name, a `Loss`, a config dict, or a callable.

    Example:
    >>> get("mse") is mean_squared_error
    True
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        found = FUNCTIONS.get(identifier) or ALIASES.get(identifier)
        if found is None and identifier in ALL:
            found = ALL[identifier]()
        if found is None:
            raise errors.unknown_identifier(
                "loss", identifier, list(FUNCTIONS) + list(ALIASES) + list(ALL)
            )
        return found
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")
