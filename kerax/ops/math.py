"""Math ops, as Keras' `keras.src.ops.math` (exported flat in `keras.ops`).

Complex results of the FFT ops are `(real, imag)` pairs of float arrays, as in Keras.
"""

import jax
import jax.numpy as jnp

from kerax.ops.core import convert_to_tensor
from kerax.ops.dtypes import float_dtype

_t = convert_to_tensor


def _float(x):
    x = _t(x)
    return x.astype(float_dtype(x))


def _segment(reducer, data, segment_ids, num_segments, sorted):
    segment_ids = _t(segment_ids)
    if num_segments is None:
        num_segments = int(jnp.max(segment_ids)) + 1
    return reducer(_t(data), segment_ids, num_segments=num_segments, indices_are_sorted=sorted)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of `data` rows per segment id.

    Example:
    >>> segment_sum(jnp.array([1.0, 2.0, 3.0]), jnp.array([0, 0, 1])).tolist()
    [3.0, 3.0]
    """
    return _segment(jax.ops.segment_sum, data, segment_ids, num_segments, sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum of `data` rows per segment id."""
    return _segment(jax.ops.segment_max, data, segment_ids, num_segments, sorted)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minimum of `data` rows per segment id."""
    return _segment(jax.ops.segment_min, data, segment_ids, num_segments, sorted)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Product of `data` rows per segment id."""
    return _segment(jax.ops.segment_prod, data, segment_ids, num_segments, sorted)


def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis, and their indices.

    Example:
    >>> values, indices = top_k(jnp.array([1.0, 3.0, 2.0]), 2)
    >>> values.tolist(), indices.tolist()
    ([3.0, 2.0], [1, 2])
    """
    return jax.lax.top_k(_t(x), k)


def in_top_k(targets, predictions, k):
    """Whether each target class is among the `k` highest predictions of its row."""
    targets, predictions = _t(targets), _t(predictions)
    kth = jax.lax.top_k(predictions, k)[0][..., -1:]
    target_values = jnp.take_along_axis(predictions, targets[..., None].astype("int32"), -1)
    return jnp.any(target_values >= kth, axis=-1)


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, computed stably."""
    return jax.scipy.special.logsumexp(_float(x), axis=axis, keepdims=keepdims)


def erf(x):
    """The error function."""
    return jax.lax.erf(_float(x))


def erfc(x):
    """The complementary error function."""
    return jax.lax.erfc(_float(x))


def erfinv(x):
    """The inverse error function."""
    return jax.lax.erf_inv(_float(x))


def rsqrt(x):
    """`1 / sqrt(x)`."""
    return jax.lax.rsqrt(_float(x))


def logdet(x):
    """Log-determinant of a Hermitian positive-definite matrix."""
    return jnp.linalg.slogdet(_t(x))[1]


def cdist(x, y):
    """Euclidean distances between the rows (last axis) of `x` and `y`."""
    x, y = _float(x), _float(y)
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


def _complex(x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            "Expected `x` to be a tuple `(real, imag)` of two float arrays. "
            f"Received: x={x!r}"
        )
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            "The real and imaginary parts of `x` must have the same shape. "
            f"Received: real.shape={real.shape}, imag.shape={imag.shape}"
        )
    return jax.lax.complex(real, imag)


def fft(x):
    """FFT along the last axis of `x = (real, imag)`; returns `(real, imag)`."""
    out = jnp.fft.fft(_complex(x))
    return jnp.real(out), jnp.imag(out)


def fft2(x):
    """2-D FFT over the last two axes of `x = (real, imag)`."""
    out = jnp.fft.fft2(_complex(x))
    return jnp.real(out), jnp.imag(out)


def ifft2(x):
    """Inverse 2-D FFT over the last two axes of `x = (real, imag)`."""
    out = jnp.fft.ifft2(_complex(x))
    return jnp.real(out), jnp.imag(out)


def rfft(x, fft_length=None):
    """FFT of the real `x` along its last axis; returns `(real, imag)`."""
    out = jnp.fft.rfft(_float(x), n=fft_length, axis=-1)
    return jnp.real(out), jnp.imag(out)


def irfft(x, fft_length=None):
    """Inverse of `rfft`: a real signal from `x = (real, imag)`."""
    return jnp.fft.irfft(_complex(x), n=fft_length, axis=-1)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of `sequence_length` along the last axis, `sequence_stride` apart.

    Example:
    >>> extract_sequences(jnp.arange(5), 2, 2).tolist()
    [[0, 1], [2, 3]]
    """
    x = _t(x)
    count = 1 + (x.shape[-1] - sequence_length) // sequence_stride
    starts = jnp.arange(count) * sequence_stride
    index = starts[:, None] + jnp.arange(sequence_length)[None, :]
    return x[..., index]


def _window(window, length, dtype):
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                f"Unknown `window`: {window!r}. Expected 'hann', 'hamming', None, or an array."
            )
        n = jnp.arange(length, dtype=dtype)
        a = 0.5 if window == "hann" else 0.54
        return a - (1 - a) * jnp.cos(2 * jnp.pi * n / length)
    return _t(window).astype(dtype)


def _padded_window(window, sequence_length, fft_length, dtype):
    """The window, zero-padded on both sides to `fft_length`.

    As in Keras, `window=None` means ones over the whole `fft_length` frame.
    """
    win = _window(window, sequence_length, dtype)
    if win is None:
        return jnp.ones(fft_length, dtype)
    if win.shape != (sequence_length,):
        raise ValueError(
            f"`window` must have shape ({sequence_length},) (sequence_length). "
            f"Received: window.shape={win.shape}"
        )
    left = (fft_length - sequence_length) // 2
    return jnp.pad(win, (left, fft_length - sequence_length - left))


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis; returns `(real, imag)`.

    Frames are `fft_length` long, `sequence_stride` apart, multiplied by the window of
    `sequence_length` centred in them (by ones over the whole frame when `window=None`).
    """
    x = _float(x)
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    frames = frames * _padded_window(window, sequence_length, fft_length, x.dtype)
    out = jnp.fft.rfft(frames, n=fft_length, axis=-1)
    return jnp.real(out), jnp.imag(out)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """Inverse of `stft`, by windowed overlap-add."""
    frames = jnp.fft.irfft(_complex(x), n=fft_length, axis=-1)
    win = _padded_window(window, sequence_length, fft_length, frames.dtype)
    frames = frames * win
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    index = (jnp.arange(count)[:, None] * sequence_stride
             + jnp.arange(fft_length)[None, :]).reshape(-1)
    signal = jnp.zeros(frames.shape[:-2] + (total,), frames.dtype)
    signal = signal.at[..., index].add(frames.reshape(frames.shape[:-2] + (-1,)))
    norm = jnp.zeros(total, frames.dtype).at[index].add(jnp.tile(win * win, count))
    signal = signal / jnp.where(norm > 1e-10, norm, 1.0)
    if window is None:  # Keras' scaling of the rectangular window
        signal = signal * (fft_length / sequence_stride)
    start = fft_length // 2 if center else 0
    end = signal.shape[-1] - (fft_length // 2 if center else 0)
    if length is not None:
        end = start + length
    return signal[..., start:end]


def view_as_complex(x):
    """A complex array from `x[..., 0]` (real) and `x[..., 1]` (imag)."""
    x = _t(x)
    if x.shape[-1] != 2:
        raise ValueError(f"The last axis of `x` must have size 2. Received: x.shape={x.shape}")
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    """A float array with a last axis of size 2 holding the real and imaginary parts."""
    x = _t(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


__all__ = sorted(
    n for n, v in globals().items()
    if callable(v) and not n.startswith("_") and getattr(v, "__module__", "") == __name__
)
