"""The loss functions Keras also exports as metrics (`keras.metrics.mean_absolute_error`, ...).

Each name is taken from `kerax.losses` when that module defines it; the local version
below (same numerics as Keras 3) is the fallback until it does.
"""

import jax
import jax.numpy as jnp

from kerax import losses as _losses
from kerax.backend import config as _config
from kerax.losses import squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred, squeeze=True):
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    if squeeze:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def _mean_squared_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def _mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def _mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), _config.epsilon()))
    return 100.0 * jnp.mean(diff, axis=-1)


def _mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _config.epsilon()
    first = jnp.log(jnp.maximum(y_pred, eps) + 1.0)
    second = jnp.log(jnp.maximum(y_true, eps) + 1.0)
    return jnp.mean(jnp.square(first - second), axis=-1)


def _log_cosh(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - jnp.log(2.0).astype(x.dtype), axis=-1)


def _huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    quadratic = 0.5 * jnp.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


def _kl_divergence(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    eps = _config.epsilon()
    y_true = jnp.clip(y_true, eps, 1)
    y_pred = jnp.clip(y_pred, eps, 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def _poisson(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + _config.epsilon()), axis=-1)


def _hinge_labels(y_true):
    """Keras' rule: if every label is 0 or 1, map them to -1 or 1."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _hinge_labels(y_true)
    return jnp.mean(jnp.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def _squared_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _hinge_labels(y_true)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def _categorical_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, 0.0)


def _bce_elementwise(y_true, y_pred, from_logits):
    if from_logits:
        return -y_true * jax.nn.log_sigmoid(y_pred) - (1.0 - y_true) * jax.nn.log_sigmoid(-y_pred)
    eps = _config.epsilon()
    y_pred = jnp.clip(y_pred, eps, 1.0 - eps)
    return -(y_true * jnp.log(y_pred) + (1.0 - y_true) * jnp.log(1.0 - y_pred))


def _check_same_shape(fn_name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn_name}: `y_true` and `y_pred` must have the same shape; received "
            f"y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}. Reshape the "
            "labels to the predictions' shape."
        )


def _binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_bce_elementwise(y_true, y_pred, from_logits), axis=axis)


def _smooth_categorical(y_true, label_smoothing):
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true


def _log_probs(y_pred, from_logits, axis):
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    eps = _config.epsilon()
    out = y_pred / jnp.sum(y_pred, axis, keepdims=True)
    return jnp.log(jnp.clip(out, eps, 1.0 - eps))


def _categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    return -jnp.sum(y_true * _log_probs(y_pred, from_logits, axis), axis=axis)


def _binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                               gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    _check_same_shape("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    bce = _bce_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def _categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                    label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    _check_same_shape("categorical_focal_crossentropy", y_true, y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    eps = _config.epsilon()
    out = jnp.clip(y_pred / jnp.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    focal = alpha * jnp.power(1.0 - out, gamma) * (-y_true * jnp.log(out))
    return jnp.sum(focal, axis=axis)


def _pick(name, local):
    fn = getattr(_losses, name, None) or local
    if fn is local:
        local.__name__ = local.__qualname__ = name
        local.__doc__ = f"Keras' `{name}` (per-sample values; see `kerax.losses`)."
    return fn


mean_squared_error = _pick("mean_squared_error", _mean_squared_error)
mean_absolute_error = _pick("mean_absolute_error", _mean_absolute_error)
mean_absolute_percentage_error = _pick("mean_absolute_percentage_error",
                                       _mean_absolute_percentage_error)
mean_squared_logarithmic_error = _pick("mean_squared_logarithmic_error",
                                       _mean_squared_logarithmic_error)
log_cosh = _pick("log_cosh", _log_cosh)
huber = _pick("huber", _huber)
kl_divergence = _pick("kl_divergence", _kl_divergence)
poisson = _pick("poisson", _poisson)
hinge = _pick("hinge", _hinge)
squared_hinge = _pick("squared_hinge", _squared_hinge)
categorical_hinge = _pick("categorical_hinge", _categorical_hinge)
binary_crossentropy = _pick("binary_crossentropy", _binary_crossentropy)
categorical_crossentropy = _pick("categorical_crossentropy", _categorical_crossentropy)
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
binary_focal_crossentropy = _pick("binary_focal_crossentropy", _binary_focal_crossentropy)
categorical_focal_crossentropy = _pick("categorical_focal_crossentropy",
                                       _categorical_focal_crossentropy)
