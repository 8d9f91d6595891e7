"""Keras 3's loss functions (per-sample, pure) and the `Loss` classes that wrap them.

Every function takes `(y_true, y_pred, ...)` with Keras' argument names and defaults and
returns per-sample losses. Shapes are checked in Python: where Keras would silently
broadcast `y_true` against `y_pred`, kerax raises a ValueError naming both shapes.
"""

import warnings

import jax
import jax.numpy as jnp
import optax

from kerax import losses as losses_lib  # the namespace (its `deserialize`)
from kerax.backend import config as _config
from kerax.losses.loss import Loss
from kerax.losses.loss import check_same_shape
from kerax.losses.loss import squeeze_or_expand_to_same_rank
from kerax.serialization import serialization_lib


def _prepare(fn_name, y_true, y_pred, reconcile=True):
    """Casts `y_true` to `y_pred`'s dtype, reconciles ranks, and checks the shapes agree."""
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(_config.floatx())
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    if reconcile:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    check_same_shape(fn_name, y_true, y_pred)
    return y_true, y_pred


def _check_axis(fn_name, axis):
    if isinstance(axis, bool):
        raise ValueError(
            f"{fn_name}: `axis` must be of type `int`. Received: axis={axis} of type "
            f"{type(axis)}"
        )


def _warn_single_class(fn_name, y_pred):
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth(y_true, label_smoothing, num_classes):
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def _clipped_log_probs(y_pred, from_logits, axis):
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    eps = _config.epsilon()
    out = y_pred / jnp.sum(y_pred, axis, keepdims=True)
    return jnp.log(jnp.clip(out, eps, 1.0 - eps))


def _elementwise_bce(y_true, y_pred, from_logits):
    if from_logits:
        return -y_true * jax.nn.log_sigmoid(y_pred) - (1.0 - y_true) * jax.nn.log_sigmoid(-y_pred)
    eps = _config.epsilon()
    out = jnp.clip(y_pred, eps, 1.0 - eps)
    return -(y_true * jnp.log(out) + (1.0 - y_true) * jnp.log(1.0 - out))


# Regression -------------------------------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis.

    Example:
    >>> mean_squared_error(jnp.zeros((1, 2)), jnp.ones((1, 2))).tolist()
    [1.0]
    """
    y_true, y_pred = _prepare("mean_squared_error", y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis.

    Example:
    >>> mean_absolute_error(jnp.zeros((1, 2)), jnp.array([[1.0, -3.0]])).tolist()
    [2.0]
    """
    y_true, y_pred = _prepare("mean_absolute_error", y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(|(y_true - y_pred) / y_true|)` over the last axis (denominator >= epsilon).

    Example:
    >>> mean_absolute_percentage_error(jnp.array([[2.0, 4.0]]), jnp.array([[1.0, 4.0]])).tolist()
    [25.0]
    """
    y_true, y_pred = _prepare("mean_absolute_percentage_error", y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), _config.epsilon()))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of `(log(y_pred + 1) - log(y_true + 1))**2` over the last axis.

    Example:
    >>> round(mean_squared_logarithmic_error(jnp.zeros((1, 1)), jnp.full((1, 1), jnp.e - 1)).item(), 4)
    1.0
    """
    y_true, y_pred = _prepare("mean_squared_logarithmic_error", y_true, y_pred)
    eps = _config.epsilon()
    first = jnp.log(jnp.maximum(y_pred, eps) + 1.0)
    second = jnp.log(jnp.maximum(y_true, eps) + 1.0)
    return jnp.mean(jnp.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, 1.0 / _config.epsilon())


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along `axis` (-1 means the vectors point the same way).

    Example:
    >>> cosine_similarity(jnp.array([[1.0, 0.0]]), jnp.array([[2.0, 0.0]])).tolist()
    [-1.0]
    """
    y_true, y_pred = _prepare("cosine_similarity", y_true, y_pred)
    return -jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for errors up to `delta`, linear beyond; mean over the last axis.

    Example:
    >>> huber(jnp.zeros((1, 2)), jnp.array([[0.5, 3.0]])).tolist()
    [1.3125]
    """
    y_true, y_pred = _prepare("huber", y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    quadratic = 0.5 * jnp.square(error)
    linear = delta * abs_error - 0.5 * jnp.square(delta)
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """Mean of `log(cosh(y_pred - y_true))` over the last axis (computed stably).

    Example:
    >>> log_cosh(jnp.zeros((1, 2)), jnp.zeros((1, 2))).tolist()
    [0.0]
    """
    y_true, y_pred = _prepare("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - jnp.log(2.0).astype(x.dtype), axis=-1)


# Hinge -----------------------------------------------------------------------------------


def _binary_to_signed(y_true):
    """Labels in {0, 1} become {-1, 1}; other labels are used as they are (as Keras does)."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """Mean of `max(1 - y_true * y_pred, 0)`; 0/1 labels are mapped to -1/1.

    Example:
    >>> hinge(jnp.array([[1.0, 0.0]]), jnp.array([[0.5, -2.0]])).tolist()
    [0.25]
    """
    y_true, y_pred = _prepare("hinge", y_true, y_pred, reconcile=False)
    return jnp.mean(jnp.maximum(1.0 - _binary_to_signed(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """Mean of `max(1 - y_true * y_pred, 0) ** 2`; 0/1 labels are mapped to -1/1.

    Example:
    >>> squared_hinge(jnp.array([[1.0, 0.0]]), jnp.array([[0.5, -2.0]])).tolist()
    [0.125]
    """
    y_true, y_pred = _prepare("squared_hinge", y_true, y_pred, reconcile=False)
    margin = jnp.maximum(1.0 - _binary_to_signed(y_true) * y_pred, 0.0)
    return jnp.mean(jnp.square(margin), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`max(max_neg - pos + 1, 0)` for one-hot `y_true`.

    Example:
    >>> categorical_hinge(jnp.array([[0.0, 1.0]]), jnp.array([[0.3, 0.8]])).tolist()
    [0.5]
    """
    y_true, y_pred = _prepare("categorical_hinge", y_true, y_pred, reconcile=False)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, 0.0)


# Probabilistic ---------------------------------------------------------------------------


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))` over the last axis.

    Example:
    >>> kl_divergence(jnp.array([[0.5, 0.5]]), jnp.array([[0.5, 0.5]])).tolist()
    [0.0]
    """
    y_true, y_pred = _prepare("kl_divergence", y_true, y_pred, reconcile=False)
    eps = _config.epsilon()
    y_true = jnp.clip(y_true, eps, 1)
    y_pred = jnp.clip(y_pred, eps, 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Mean of `y_pred - y_true * log(y_pred + epsilon)` over the last axis.

    Example:
    >>> poisson(jnp.zeros((1, 2)), jnp.ones((1, 2))).tolist()
    [1.0]
    """
    y_true, y_pred = _prepare("poisson", y_true, y_pred, reconcile=False)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + _config.epsilon()), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over `axis`.

    Example:
    >>> round(binary_crossentropy(jnp.array([[1.0]]), jnp.array([[0.5]])).item(), 4)
    0.6931
    """
    y_true, y_pred = _prepare("binary_crossentropy", y_true, y_pred, reconcile=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by `(1 - p_t) ** gamma`, which down-weights easy examples.

    Example:
    >>> round(binary_focal_crossentropy(jnp.array([[1.0]]), jnp.array([[0.5]])).item(), 4)
    0.1733
    """
    y_true, y_pred = _prepare("binary_focal_crossentropy", y_true, y_pred, reconcile=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and class probabilities or logits.

    Example:
    >>> round(categorical_crossentropy(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.5]])).item(), 4)
    0.6931
    """
    _check_axis("categorical_crossentropy", axis)
    y_true, y_pred = _prepare("categorical_crossentropy", y_true, y_pred, reconcile=False)
    _warn_single_class("categorical_crossentropy", y_pred)
    y_true = _smooth(y_true, label_smoothing, y_true.shape[-1])
    return -jnp.sum(y_true * _clipped_log_probs(y_pred, from_logits, axis), axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy scaled by `alpha * (1 - p) ** gamma`.

    Example:
    >>> round(categorical_focal_crossentropy(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.5]])).item(), 4)
    0.0433
    """
    _check_axis("categorical_focal_crossentropy", axis)
    y_true, y_pred = _prepare("categorical_focal_crossentropy", y_true, y_pred, reconcile=False)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    y_true = _smooth(y_true, label_smoothing, y_true.shape[-1])
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    eps = _config.epsilon()
    out = jnp.clip(y_pred / jnp.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    focal = alpha * jnp.power(1.0 - out, gamma) * (-y_true * jnp.log(out))
    return jnp.sum(focal, axis=axis)


def _sparse_labels(fn_name, y_true, y_pred, axis=-1):
    """Integer labels of shape `y_pred.shape` without the class `axis` (a trailing 1 is fine)."""
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(_config.floatx())
    y_true = jnp.asarray(y_true)
    if y_pred.ndim < 1:
        raise ValueError(f"{fn_name}: `y_pred` must be at least rank 1; received shape "
                         f"{tuple(y_pred.shape)}.")
    class_axis = axis % y_pred.ndim
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if y_true.ndim == y_pred.ndim and y_true.shape[class_axis] == 1:
        y_true = jnp.squeeze(y_true, class_axis)
    if tuple(y_true.shape) != expected:
        with_one = list(y_pred.shape)
        with_one[class_axis] = 1
        raise ValueError(
            f"{fn_name}: integer labels must have the model output's shape without its class "
            f"axis; received y_true.shape={tuple(y_true.shape)} and y_pred.shape="
            f"{tuple(y_pred.shape)} (expected y_true.shape={expected} or {tuple(with_one)})."
        )
    return y_true, y_pred


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy between integer labels and class probabilities (or logits).

    Labels equal to `ignore_class` get loss 0 (and `SparseCategoricalCrossentropy` leaves them
    out of the average).

    Example:
    >>> round(sparse_categorical_crossentropy(jnp.array([0]), jnp.array([[0.5, 0.5]]))[0].item(), 4)
    0.6931
    """
    y_true, y_pred = _sparse_labels("sparse_categorical_crossentropy", y_true, y_pred, axis)
    labels = y_true.astype(jnp.int32)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = jnp.where(valid, labels, 0)
        y_pred = jnp.where(jnp.expand_dims(valid, axis), y_pred, 0.0)
    log_prob = _clipped_log_probs(y_pred, from_logits, axis)
    one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], axis=axis, dtype=log_prob.dtype)
    res = -jnp.sum(one_hot * log_prob, axis=axis)
    if valid is not None:
        res = jnp.where(valid, res, 0.0)
    return res


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross-entropy `(1 - p_true ** q) / q` for integer labels, robust to noise.

    Example:
    >>> categorical_generalized_cross_entropy(jnp.array([1]), jnp.array([[0.75, 0.25]]), q=0.5).tolist()
    [1.0]
    """
    y_true, y_pred = _sparse_labels("categorical_generalized_cross_entropy", y_true, y_pred)
    one_hot = jax.nn.one_hot(y_true.astype(jnp.int32), y_pred.shape[-1], dtype=y_pred.dtype)
    p = jnp.sum(y_pred * one_hot, axis=-1)
    return (1 - jnp.power(p, q)) / q


# Sequence --------------------------------------------------------------------------------


def ctc(y_true, y_pred):
    """Connectionist Temporal Classification loss, one value per sequence.

    `y_true` holds integer labels of shape `(batch_size, max_label_length)`, padded with 0
    (the blank class); `y_pred` holds logits of shape `(batch_size, max_time, num_classes)`.

    Example:
    >>> ctc(jnp.array([[1, 0]]), jnp.zeros((1, 3, 2))).shape
    (1,)
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim != 2:
        raise ValueError(
            "ctc: targets `y_true` must have shape (batch_size, max_length) with integer "
            f"labels; received y_true.shape={tuple(y_true.shape)}."
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "ctc: logits `y_pred` must have shape (batch_size, max_length, num_classes); "
            f"received y_pred.shape={tuple(y_pred.shape)}."
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"ctc: `y_true` and `y_pred` must have the same batch size; received "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
        )
    dtype = jnp.result_type(y_pred.dtype, jnp.float32)
    return _ctc_per_sequence(y_true.astype(jnp.int32), y_pred.astype(dtype))


@jax.jit  # compiled once per shape: an eager `lax.scan` would recompile on every call
def _ctc_per_sequence(labels, logits):
    label_length = jnp.sum(labels != 0, axis=-1)
    positions = jnp.arange(labels.shape[1])[None, :]
    label_paddings = (positions >= label_length[:, None]).astype(logits.dtype)
    logit_paddings = jnp.zeros(logits.shape[:2], logits.dtype)
    return optax.ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id=0)


# Image segmentation ----------------------------------------------------------------------


def dice(y_true, y_pred, axis=None):
    """Dice loss `1 - 2 |y_true * y_pred| / (|y_true| + |y_pred|)`, summed over `axis`.

    With `axis=None` (the default) the sums run over the whole batch and one value results.

    Example:
    >>> dice(jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 0.0]])).item() < 1e-6
    True
    """
    y_true, y_pred = _prepare("dice", y_true, y_pred, reconcile=False)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    total = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + _config.epsilon()
    return 1 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss: Dice with separate weights `alpha`, `beta` for the two kinds of error.

    Example:
    >>> tversky(jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 0.0]])).item() < 1e-6
    True
    """
    y_true, y_pred = _prepare("tversky", y_true, y_pred, reconcile=False)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum((1 - y_pred) * y_true, axis=axis)
    fn = jnp.sum(y_pred * (1 - y_true), axis=axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + _config.epsilon())


# Similarity ------------------------------------------------------------------------------


def _circle(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin,
            ref_valid=None):
    y_pred = jnp.asarray(y_pred)
    labels = jnp.asarray(y_true).astype(jnp.int32).reshape(-1)
    if y_pred.ndim != 2 or labels.shape[0] != y_pred.shape[0]:
        raise ValueError(
            "circle: expected integer labels of shape (batch_size,) and embeddings of shape "
            f"(batch_size, dim); received y_true.shape={tuple(jnp.shape(y_true))} and "
            f"y_pred.shape={tuple(y_pred.shape)}."
        )
    ref_embeddings = y_pred if ref_embeddings is None else jnp.asarray(ref_embeddings)
    ref_labels = labels if ref_labels is None else jnp.asarray(ref_labels).astype(jnp.int32)
    ref_labels = ref_labels.reshape(-1)
    distances = jnp.maximum(1 - y_pred @ ref_embeddings.T, 0.0)
    positive = labels[:, None] == ref_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~jnp.eye(labels.shape[0], ref_labels.shape[0], dtype=bool)
    if ref_valid is not None:
        positive = positive & ref_valid[None, :]
        negative = negative & ref_valid[None, :]
    pos_weights = jnp.maximum((margin + distances) * positive, 0.0)
    neg_weights = jnp.maximum((1 + margin - distances) * negative, 0.0)
    pos_logits = -gamma * pos_weights * (margin - distances)
    neg_logits = gamma * neg_weights * (1 - margin - distances)
    p_loss = jax.nn.logsumexp(jnp.where(positive, pos_logits, -jnp.inf), axis=1)
    n_loss = jax.nn.logsumexp(jnp.where(negative, neg_logits, -jnp.inf), axis=1)
    return jax.nn.softplus(p_loss + n_loss)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Circle loss for metric learning over (normalized) embeddings and integer labels.

    Pairs are formed between the batch and `ref_embeddings`/`ref_labels` (the batch itself
    by default). `Circle` averages only the positive values, as Keras does.

    Example:
    >>> e = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> circle(jnp.array([0, 0, 1]), e).shape
    (3,)
    """
    return _circle(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin)


# Classes ---------------------------------------------------------------------------------


class LossFunctionWrapper(Loss):
    """Wraps a function `fn(y_true, y_pred, **kwargs)` into a `Loss`.

    Example:
    >>> float(LossFunctionWrapper(mean_absolute_error)(jnp.zeros((2,)), jnp.ones((2, 1))))
    1.0
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = Loss.get_config(self)
        config["fn"] = serialization_lib.serialize_keras_object(self.fn)
        config.update(serialization_lib.serialize_keras_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            config["fn"] = losses_lib.deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _FunctionLoss(LossFunctionWrapper):
    """A built-in loss class: its config is its constructor arguments (no `fn`)."""

    _fn = None
    _config_keys = ()

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key in self._config_keys:
            setattr(self, key, kwargs[key])

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


def _zero_padded_rows(x, mask):
    return jnp.where(jnp.reshape(mask, mask.shape + (1,) * (x.ndim - mask.ndim)), x, 0)


class MeanSquaredError(_FunctionLoss):
    """Mean of squares of errors between labels and predictions.

    Example:
    >>> float(MeanSquaredError()(jnp.array([[0.0, 1.0]]), jnp.array([[1.0, 1.0]])))
    0.5
    """

    _fn = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_FunctionLoss):
    """Mean of absolute differences between labels and predictions.

    Example:
    >>> float(MeanAbsoluteError()(jnp.array([[0.0, 1.0]]), jnp.array([[1.0, 1.0]])))
    0.5
    """

    _fn = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_FunctionLoss):
    """Mean absolute percentage error between labels and predictions.

    Example:
    >>> float(MeanAbsolutePercentageError()(jnp.array([[2.0, 4.0]]), jnp.array([[1.0, 4.0]])))
    25.0
    """

    _fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class MeanSquaredLogarithmicError(_FunctionLoss):
    """Mean squared logarithmic error between labels and predictions.

    Example:
    >>> float(MeanSquaredLogarithmicError()(jnp.zeros((1, 1)), jnp.zeros((1, 1))))
    0.0
    """

    _fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(_FunctionLoss):
    """Negative cosine similarity between labels and predictions along `axis`.

    Example:
    >>> float(CosineSimilarity()(jnp.array([[1.0, 0.0]]), jnp.array([[3.0, 0.0]])))
    -1.0
    """

    _fn = staticmethod(cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, axis=axis)

    def get_config(self):
        return Loss.get_config(self)  # as Keras: `axis` is not saved


class Huber(_FunctionLoss):
    """Huber loss: quadratic for small errors, linear for errors larger than `delta`.

    Example:
    >>> float(Huber()(jnp.zeros((1, 2)), jnp.array([[0.5, 3.0]])))
    1.3125
    """

    _fn = staticmethod(huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, delta=delta)

    def get_config(self):
        return Loss.get_config(self)  # as Keras: `delta` is not saved


class LogCosh(_FunctionLoss):
    """Logarithm of the hyperbolic cosine of the prediction error.

    Example:
    >>> float(LogCosh()(jnp.zeros((1, 2)), jnp.zeros((1, 2))))
    0.0
    """

    _fn = staticmethod(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class Hinge(_FunctionLoss):
    """Hinge loss; labels are -1/1 (0/1 labels are converted).

    Example:
    >>> float(Hinge()(jnp.array([[1.0, 0.0]]), jnp.array([[0.5, -2.0]])))
    0.25
    """

    _fn = staticmethod(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_FunctionLoss):
    """Squared hinge loss; labels are -1/1 (0/1 labels are converted).

    Example:
    >>> float(SquaredHinge()(jnp.array([[1.0, 0.0]]), jnp.array([[0.5, -2.0]])))
    0.125
    """

    _fn = staticmethod(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_FunctionLoss):
    """Categorical hinge loss for one-hot labels.

    Example:
    >>> float(CategoricalHinge()(jnp.array([[0.0, 1.0]]), jnp.array([[0.3, 0.8]])))
    0.5
    """

    _fn = staticmethod(categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_FunctionLoss):
    """Kullback-Leibler divergence between label and predicted distributions.

    Example:
    >>> float(KLDivergence()(jnp.array([[0.5, 0.5]]), jnp.array([[0.5, 0.5]])))
    0.0
    """

    _fn = staticmethod(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class Poisson(_FunctionLoss):
    """Poisson loss `y_pred - y_true * log(y_pred)`.

    Example:
    >>> float(Poisson()(jnp.zeros((1, 2)), jnp.ones((1, 2))))
    1.0
    """

    _fn = staticmethod(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class BinaryCrossentropy(_FunctionLoss):
    """Binary cross-entropy between 0/1 labels and probabilities (or logits).

    Example:
    >>> round(float(BinaryCrossentropy(from_logits=True)(jnp.array([[1.0]]), jnp.array([[0.0]]))), 4)
    0.6931
    """

    _fn = staticmethod(binary_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(_FunctionLoss):
    """Binary focal cross-entropy: cross-entropy that down-weights well-classified examples.

    Example:
    >>> round(float(BinaryFocalCrossentropy()(jnp.array([[1.0]]), jnp.array([[0.5]]))), 4)
    0.1733
    """

    _fn = staticmethod(binary_focal_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
                    "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy between one-hot labels and class probabilities (or logits).

    Example:
    >>> round(float(CategoricalCrossentropy()(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.5]]))), 4)
    0.6931
    """

    _fn = staticmethod(categorical_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_FunctionLoss):
    """Categorical focal cross-entropy: down-weights well-classified examples.

    Example:
    >>> round(float(CategoricalFocalCrossentropy()(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.5]]))), 4)
    0.0433
    """

    _fn = staticmethod(categorical_focal_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_FunctionLoss):
    """Cross-entropy for integer class labels; `ignore_class` labels count for nothing.

    Example:
    >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
    >>> round(float(loss(jnp.array([0, -1]), jnp.array([[0.5, 0.5], [0.9, 0.1]]))), 4)
    0.6931
    """

    _fn = staticmethod(sparse_categorical_crossentropy)
    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def output_mask(self, y_true, y_pred, values):
        if self.ignore_class is None:
            return None
        labels, _ = _sparse_labels(self.name, y_true, y_pred, self.axis)
        return jnp.reshape(labels.astype(jnp.int32) != self.ignore_class, values.shape)


class CategoricalGeneralizedCrossEntropy(_FunctionLoss):
    """Generalized cross-entropy (Zhang & Sabuncu, 2018) for integer labels; `0 < q < 1`.

    Example:
    >>> float(CategoricalGeneralizedCrossEntropy(q=0.5)(jnp.array([1]), jnp.array([[0.75, 0.25]])))
    1.0
    """

    _fn = staticmethod(categorical_generalized_cross_entropy)
    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: `q` must be in the open "
                             f"interval (0, 1); received q={q!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype, q=q)


class CTC(_FunctionLoss):
    """CTC loss: integer label sequences (0 = blank/padding) against per-step logits.

    Example:
    >>> CTC()(jnp.array([[1, 0]]), jnp.zeros((1, 3, 2))).shape
    ()
    """

    _fn = staticmethod(ctc)

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class Dice(_FunctionLoss):
    """Dice loss; with `axis=None` one value for the whole batch.

    Rows masked out by `mask` are removed from the sums, so padding changes nothing.

    Example:
    >>> float(Dice()(jnp.array([[1.0, 0.0]]), jnp.array([[0.0, 1.0]])))
    1.0
    """

    _fn = staticmethod(dice)
    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, axis=axis)

    def masked_call(self, y_true, y_pred, mask):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.call(_zero_padded_rows(y_true, mask), _zero_padded_rows(y_pred, mask))


class Tversky(Dice):
    """Tversky loss; `alpha`/`beta` weigh the two kinds of error (0.5/0.5 is Dice).

    Example:
    >>> float(Tversky()(jnp.array([[1.0, 0.0]]), jnp.array([[0.0, 1.0]])))
    1.0
    """

    _fn = staticmethod(tversky)
    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        _FunctionLoss.__init__(self, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                               beta=beta, axis=axis)


class Circle(_FunctionLoss):
    """Circle loss for embeddings; averages only the rows whose loss is positive (as Keras).

    Rows masked out by `mask` are also left out as reference pairs, so padding changes
    nothing.

    Example:
    >>> e = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> float(Circle()(jnp.array([0, 0, 1, 1]), e)) >= 0.0
    True
    """

    _fn = staticmethod(circle)
    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)

    def masked_call(self, y_true, y_pred, mask):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return _circle(y_true, y_pred, None, None, self.remove_diagonal, self.gamma,
                       self.margin, ref_valid=jnp.reshape(mask, (-1,)))

    def output_mask(self, y_true, y_pred, values):
        return values > 0


ALL_CLASSES = (
    Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy,
    BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy, SparseCategoricalCrossentropy, MeanSquaredError,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCosh, Huber, Hinge, SquaredHinge, CategoricalHinge, Dice, Tversky,
    Circle, CTC,
)

ALL_FUNCTIONS = (
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy,
    categorical_generalized_cross_entropy, sparse_categorical_crossentropy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge, dice, tversky,
    circle, ctc,
)
