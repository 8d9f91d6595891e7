"""Neural-network ops, as `keras.ops.nn`: activations, normalization, losses, conv, pooling.

Example:
>>> relu(jnp.array([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

import jax
import jax.numpy as jnp

from kerax.backend import config
from kerax.ops.core import convert_to_tensor
from kerax.ops.dtypes import float_dtype, result_type, standardize_dtype

_t = convert_to_tensor


def _float(x):
    x = _t(x)
    return x.astype(float_dtype(x))


def _act(fn, doc, keep_int=False):
    def op(x):
        return fn(_t(x) if keep_int else _float(x))

    op.__doc__ = doc
    return op


relu = _act(jax.nn.relu, "Rectified linear unit: `max(x, 0)`.", keep_int=True)
relu6 = _act(jax.nn.relu6, "`min(max(x, 0), 6)`.")
sigmoid = _act(jax.nn.sigmoid, "Logistic sigmoid `1 / (1 + exp(-x))`.")
softplus = _act(jax.nn.softplus, "`log(exp(x) + 1)`.")
softsign = _act(jax.nn.soft_sign, "`x / (abs(x) + 1)`.")
silu = _act(jax.nn.silu, "Sigmoid linear unit `x * sigmoid(x)`.")
swish = silu
log_sigmoid = _act(jax.nn.log_sigmoid, "`log(sigmoid(x))`.")
hard_sigmoid = _act(jax.nn.hard_sigmoid, "Piecewise-linear sigmoid `relu6(x + 3) / 6`.")
hard_silu = _act(jax.nn.hard_silu, "`x * hard_sigmoid(x)`.")
hard_swish = hard_silu
selu = _act(jax.nn.selu, "Scaled exponential linear unit.")
hard_tanh = _act(jax.nn.hard_tanh, "`clip(x, -1, 1)`.", keep_int=True)
sparse_plus = _act(
    lambda x: jnp.where(x <= -1, 0.0, jnp.where(x >= 1, x, (x + 1) ** 2 / 4)).astype(x.dtype),
    "SparsePlus: 0 below -1, `x` above 1, `(x + 1)**2 / 4` between.",
)
sparse_sigmoid = _act(jax.nn.sparse_sigmoid, "Piecewise-linear sigmoid `clip((x + 1) / 2, 0, 1)`.")
tanh_shrink = _act(lambda x: x - jnp.tanh(x), "`x - tanh(x)`.")
for _name in ("relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "log_sigmoid",
              "hard_sigmoid", "hard_silu", "selu", "hard_tanh", "sparse_plus",
              "sparse_sigmoid", "tanh_shrink"):
    globals()[_name].__name__ = _name


def leaky_relu(x, negative_slope=0.2):
    """`x` if positive, else `negative_slope * x`."""
    return jax.nn.leaky_relu(_float(x), negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return jax.nn.elu(_float(x), alpha=alpha)


def celu(x, alpha=1.0):
    """Continuously differentiable exponential linear unit."""
    return jax.nn.celu(_float(x), alpha=alpha)


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation unless `approximate=False`)."""
    return jax.nn.gelu(_float(x), approximate=approximate)


def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` for the two halves of `x` along `axis`."""
    return jax.nn.glu(_float(x), axis=axis)


def hard_shrink(x, threshold=0.5):
    """`x` where `abs(x) > threshold`, else 0."""
    x = _float(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0).astype(x.dtype)


def soft_shrink(x, threshold=0.5):
    """`x` moved towards 0 by `threshold`, 0 inside `[-threshold, threshold]`."""
    x = _float(x)
    out = jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))
    return out.astype(x.dtype)


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    x = _float(x)
    return ((x + jnp.sqrt(x * x + b)) / 2).astype(x.dtype)


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    x = _t(x)
    return jnp.where(x > threshold, x, default_value)


def softmax(x, axis=-1):
    """Softmax over `axis`."""
    return jax.nn.softmax(_float(x), axis=axis)


def log_softmax(x, axis=-1):
    """Log-softmax over `axis`."""
    return jax.nn.log_softmax(_float(x), axis=axis)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex."""
    x = _float(x)
    z = jnp.sort(x, axis=axis)[..., ::-1] if axis in (-1, x.ndim - 1) else None
    if z is None:
        return jnp.moveaxis(sparsemax(jnp.moveaxis(x, axis, -1)), -1, axis)
    k = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cumsum = jnp.cumsum(z, axis=-1)
    support = (1 + k * z) > cumsum
    k_z = jnp.sum(support, axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cumsum, k_z.astype("int32") - 1, -1) - 1) / k_z.astype(x.dtype)
    return jnp.maximum(x - tau, 0.0)


# Encodings.


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of the integer `x` (negative or out-of-range ids give zeros)."""
    if sparse:
        raise ValueError("`sparse=True` is not supported by kerax: JAX has no sparse one_hot.")
    return jax.nn.one_hot(_t(x), num_classes, axis=axis, dtype=standardize_dtype(dtype))


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: 1 for every class present in a row of `inputs`."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments to multi_hot: {kwargs}")
    x = _t(inputs).astype("int32")
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return jnp.max(encoded, axis=1 if x.ndim > 1 else 0)


# Statistics and normalization.


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes` (half precision computes in float32)."""
    if synchronized:
        raise NotImplementedError("`synchronized=True` is not supported with JAX.")
    x = _t(x)
    low = x.dtype in (jnp.float16, jnp.bfloat16)
    xf = x.astype("float32") if low else x
    mean = jnp.mean(xf, axes, keepdims=keepdims)
    variance = jnp.var(xf, axis=axes, keepdims=keepdims)
    if low:
        f16 = jnp.finfo(jnp.float16)
        mean = jnp.clip(mean, f16.min, f16.max).astype(x.dtype)
        variance = jnp.clip(variance, f16.min, f16.max).astype(x.dtype)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalizes `x` with the given statistics along `axis`, then scales and offsets."""
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis] = _t(mean).shape[0]
    inv = jax.lax.rsqrt(jnp.reshape(variance, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(scale, shape)
    out = x * inv - jnp.reshape(mean, shape) * inv
    if offset is not None:
        out = out + jnp.reshape(offset, shape)
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Normalizes `x` over `axis` to zero mean and unit variance, then `gamma`/`beta`."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments to layer_normalization: {kwargs}")
    if rms_scaling:
        return rms_normalization(x, gamma, axis=axis, epsilon=epsilon)
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    out_dtype = x.dtype
    x = x.astype(result_type(x.dtype, "float32"))
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    mean, variance = moments(x, axes, keepdims=True)
    out = (x - mean) * jax.lax.rsqrt(variance + epsilon)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    if gamma is not None:
        out = out * jnp.reshape(_t(gamma), shape).astype(x.dtype)
    if beta is not None:
        out = out + jnp.reshape(_t(beta), shape).astype(x.dtype)
    return out.astype(out_dtype)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x / sqrt(mean(x**2) + epsilon) * scale` over `axis`."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    out_dtype = x.dtype
    x = x.astype(result_type(x.dtype, "float32"))
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    out = x * jax.lax.rsqrt(jnp.mean(x * x, axis=axes, keepdims=True) + epsilon)
    if scale is not None:
        out = out * _t(scale).astype(x.dtype)
    return out.astype(out_dtype)


def normalize(x, axis=-1, order=2, epsilon=None):
    """`x` divided by its `order`-norm along `axis`."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order!r}")
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    if x.ndim == 0:
        x = x[None]
    if order == 2:
        inv = jax.lax.rsqrt(jnp.sum(x * x, axis=axis, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / epsilon)
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


# Losses.


def _same_shape(target, output):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy between `target` and `output` (probabilities)."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    _same_shape(target, output)
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1 - target) * jax.nn.log_sigmoid(-output)
    eps = config.epsilon()
    output = jnp.clip(output, eps, 1 - eps)
    return -(target * jnp.log(output) + (1 - target) * jnp.log(1 - output))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot `target` and `output` along `axis`."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    _same_shape(target, output)
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        log_prob = jnp.log(jnp.clip(output, config.epsilon(), 1 - config.epsilon()))
    return -jnp.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between integer `target` and `output` along `axis`."""
    target, output = jnp.asarray(target, "int32"), jnp.asarray(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if output.shape[:-1] != target.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension. Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        log_prob = jnp.log(jnp.clip(output, config.epsilon(), 1 - config.epsilon()))
    target = jax.nn.one_hot(target, output.shape[axis], axis=axis)
    return -jnp.sum(target * log_prob, axis=axis)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio between `x1` and `x2`, in dB."""
    x1, x2 = _t(x1), _t(x2)
    if x1.shape != x2.shape:
        raise ValueError(
            f"Input shapes must match for psnr. Received: x1.shape={x1.shape}, "
            f"x2.shape={x2.shape}"
        )
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(max_val) - 10 * jnp.log10(mse)


def polar(abs_, angle):
    """The complex number with magnitude `abs_` and phase `angle`."""
    abs_, angle = _float(abs_), _float(angle)
    return jax.lax.complex(abs_ * jnp.cos(angle), abs_ * jnp.sin(angle))


# Connectionist temporal classification.


def _paddings(lengths, max_length, dtype):
    return (jnp.arange(max_length)[None, :] >= _t(lengths, "int32")[:, None]).astype(dtype)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sequence CTC loss (`optax.ctc_loss`) of `output` logits against `target` labels.

    Args:
        target: `(batch, max_label_length)` integer labels.
        output: `(batch, max_time, num_classes)` logits.
        target_length: `(batch,)` label lengths.
        output_length: `(batch,)` output lengths.
        mask_index: the blank class.

    Example:
    >>> loss = ctc_loss(jnp.array([[1, 2]]), jnp.zeros((1, 4, 3)), jnp.array([2]),
    ...                 jnp.array([4]))
    >>> loss.shape
    (1,)
    """
    import optax

    output = _t(output)
    output = output.astype(result_type(output.dtype, "float32"))
    target = _t(target, "int32")
    return optax.ctc_loss(
        output, _paddings(output_length, output.shape[1], output.dtype), target,
        _paddings(target_length, target.shape[1], output.dtype), blank_id=mask_index,
    )


def _ctc_beam_step(beam, x, blank):
    """Advances one sequence's prefix beam by one time step of log-probabilities `x`."""
    prefix, length, p_blank, p_label = beam
    width, num_classes = prefix.shape[0], x.shape[0]
    neg_inf = jnp.array(-jnp.inf, x.dtype)
    total = jnp.logaddexp(p_blank, p_label)
    valid = total > neg_inf
    last = jnp.where(length > 0, jnp.take_along_axis(prefix, jnp.maximum(length - 1, 0)[:, None],
                                                     axis=1)[:, 0], -1)
    # Staying on the same prefix: through a blank, or by repeating its last label.
    stay_blank = total + x[blank]
    stay_label = jnp.where(last >= 0, p_label + x[jnp.maximum(last, 0)], neg_inf)
    # Growing prefix i by label c: a repeat of the last label must cross a blank first.
    labels = jnp.arange(num_classes)
    grow = jnp.where(labels[None, :] == last[:, None], p_blank[:, None], total[:, None]) + x[None, :]
    grow = jnp.where(labels[None, :] == blank, neg_inf, grow)
    # A grown prefix that is already in the beam (beam j = beam i + last_j) merges into it.
    parent = jnp.where(jnp.arange(prefix.shape[1])[None, :] == (length - 1)[:, None], -1, prefix)
    is_child = (jnp.all(parent[:, None, :] == prefix[None, :, :], axis=-1)
                & (length[:, None] == length[None, :] + 1) & valid[:, None] & valid[None, :])
    into_child = jnp.take_along_axis(grow, jnp.broadcast_to(jnp.maximum(last, 0)[:, None],
                                                            (width, width)).T, axis=1).T
    stay_label = jnp.logaddexp(stay_label, jax.nn.logsumexp(
        jnp.where(is_child, into_child, neg_inf), axis=1))
    merged = jnp.zeros((width, num_classes), jnp.int32).at[
        jnp.broadcast_to(jnp.arange(width)[None, :], (width, width)),
        jnp.broadcast_to(jnp.maximum(last, 0)[:, None], (width, width))].add(is_child)
    grow = jnp.where(merged > 0, neg_inf, grow)
    # Keep the `width` most probable prefixes.
    cand_blank = jnp.concatenate([stay_blank, jnp.full(width * num_classes, neg_inf, x.dtype)])
    cand_label = jnp.concatenate([stay_label, grow.reshape(-1)])
    _, top = jax.lax.top_k(jnp.logaddexp(cand_blank, cand_label), width)
    grown = top >= width
    src = jnp.where(grown, (top - width) // num_classes, top)
    new_label = (top - width) % num_classes
    new_prefix = prefix[src]
    new_prefix = jnp.where(
        grown[:, None] & (jnp.arange(prefix.shape[1])[None, :] == length[src][:, None]),
        new_label[:, None], new_prefix)
    return new_prefix, length[src] + grown, cand_blank[top], cand_label[top]


def _ctc_beam_search(log_probs, sequence_length, beam_width, top_paths, blank):
    """Prefix beam search over one sequence `(max_time, num_classes)` of log-probabilities."""
    max_time = log_probs.shape[0]
    dtype = log_probs.dtype
    neg_inf = jnp.array(-jnp.inf, dtype)
    beam = (jnp.full((beam_width, max_time), -1, jnp.int32), jnp.zeros(beam_width, jnp.int32),
            jnp.full(beam_width, neg_inf).at[0].set(0.0), jnp.full(beam_width, neg_inf))

    def step(beam, inputs):
        t, x = inputs
        new = _ctc_beam_step(beam, x, blank)
        live = (t == 0) | (t < sequence_length)
        return jax.tree.map(lambda n, o: jnp.where(live, n, o), new, beam), None

    (prefix, _, p_blank, p_label), _ = jax.lax.scan(step, beam, (jnp.arange(max_time), log_probs))
    scores, top = jax.lax.top_k(jnp.logaddexp(p_blank, p_label), top_paths)
    return prefix[top], scores


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decodes CTC outputs `(batch, max_time, num_classes)` into label sequences.

    Greedy decoding takes the best class per step, drops steps past each sequence's
    length, merges repeats (when `merge_repeated`) and removes blanks (`mask_index`).
    Beam search (`strategy="beam_search"`) runs a CTC prefix beam search over
    `log_softmax(inputs)`, keeping the `beam_width` most probable label prefixes per
    step; it always merges repeats, as in Keras.

    Returns:
        `(paths, scores)`: paths `(top_paths, batch, max_time)` padded with -1. Greedy
        scores `(batch, 1)` are the negated sum of the chosen per-step values; beam
        search scores `(batch, top_paths)` are the paths' log-probabilities.

    Example:
    >>> logits = jnp.log(jnp.array([[[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, 0, .9]]]))
    >>> ctc_decode(logits, jnp.array([4]))[0].tolist()
    [[[1, 2, -1, -1]]]
    >>> paths, scores = ctc_decode(logits, jnp.array([4]), strategy="beam_search",
    ...                            beam_width=4, top_paths=2)
    >>> paths.tolist()
    [[[1, 2, -1, -1]], [[1, -1, -1, -1]]]
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(
            f"Invalid strategy {strategy!r}. Supported values are 'greedy' and 'beam_search'."
        )
    inputs = _t(inputs)
    inputs = inputs.astype(result_type(inputs.dtype, "float32"))
    batch, max_length, num_classes = inputs.shape
    mask_index = num_classes - 1 if mask_index is None else mask_index
    if strategy == "beam_search":
        if not 1 <= top_paths <= beam_width:
            raise ValueError(
                f"ctc_decode(strategy='beam_search') needs 1 <= top_paths <= beam_width, but "
                f"received top_paths={top_paths} and beam_width={beam_width}. Ask for at most "
                "`beam_width` paths."
            )
        search = jax.vmap(lambda x, n: _ctc_beam_search(x, n, beam_width, top_paths, mask_index))
        paths, scores = search(jax.nn.log_softmax(inputs, axis=-1),
                               _t(sequence_lengths, "int32"))
        return jnp.transpose(paths, (1, 0, 2)), scores
    past_end = _paddings(sequence_lengths, max_length, bool)
    best = jnp.where(past_end, mask_index, jnp.argmax(inputs, axis=-1))
    scores = jnp.where(past_end, 0.0, jnp.max(inputs, axis=-1))
    if merge_repeated:
        repeat = jnp.pad(best[:, 1:] == best[:, :-1], ((0, 0), (1, 0)))
        best = jnp.where(repeat, mask_index, best)
    blank = best == mask_index
    order = jnp.argsort(jnp.where(blank, max_length, jnp.arange(max_length)), axis=-1)
    paths = jnp.take_along_axis(jnp.where(blank, -1, best), order, axis=-1)
    return paths[None], -jnp.sum(scores, axis=1, keepdims=True)


# Space/depth rearrangement.


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves blocks of channels into `block_size` x `block_size` spatial patches."""
    x = _t(x)
    if data_format == "channels_first":
        x = jnp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = x.shape
    b = block_size
    x = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
    x = x.reshape(n, h * b, w * b, c // (b * b))
    return jnp.transpose(x, (0, 3, 1, 2)) if data_format == "channels_first" else x


def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves `block_size` x `block_size` spatial patches into channels."""
    x = _t(x)
    if data_format == "channels_first":
        x = jnp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = x.shape
    b = block_size
    x = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
    x = x.reshape(n, h // b, w // b, b * b * c)
    return jnp.transpose(x, (0, 3, 1, 2)) if data_format == "channels_first" else x


from kerax.ops.nn_conv import (  # noqa: E402,F401
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    dot_product_attention,
    fold,
    max_pool,
    separable_conv,
    unfold,
)

del _name
__all__ = sorted(
    n for n, v in globals().items()
    if callable(v) and not n.startswith("_")
    and getattr(v, "__module__", "").startswith(("kerax.ops.nn", __name__))
)
