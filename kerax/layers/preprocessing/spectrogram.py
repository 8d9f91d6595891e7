"""Audio spectrogram layers: `STFTSpectrogram` (a strided convolution with STFT kernels)
and `MelSpectrogram` (an STFT power spectrum on the mel scale, in decibels)."""

import math
import warnings

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.errors import unknown_identifier
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.layers.preprocessing._base import data_format as _data_format
from kerax.ops import math as ops_math

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_EPSILON = 1e-7  # Keras' backend.epsilon()


def _positive_int(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{layer}: `{name}` must be a positive integer. Received: {name}={value!r}."
        )


class STFTSpectrogram(Layer):
    """Spectrogram of a 1-D signal per channel, computed as a strided convolution whose
    kernels are the windowed STFT basis (trainable, like Keras' default).

    Args:
        mode: output: "log" (log magnitude, default), "magnitude", "psd", "real", "imag",
            "angle" or "stft" (real and imaginary parts concatenated on the bins axis).
        frame_length: samples per frame (default 256).
        frame_step: samples between frames (default `frame_length // 2`).
        fft_length: FFT size (default: the next power of two of `frame_length`).
        window: a `scipy.signal.get_window` name ("hann"), an array of `frame_length`, or
            None.
        periodic: whether a named window is periodic.
        scaling: window normalization: "density" (default), "spectrum" or None.
        padding: "valid" (default) or "same".
        expand_dims: whether to keep channels on their own axis (image-like output).
        data_format: "channels_last" `(batch, time, channels)` or "channels_first".

    Weights: `real_kernel` (unless mode="imag"), then `imag_kernel` (unless mode="real"),
    each of shape `(frame_length, 1, fft_length // 2 + 1)`.

    Input shape: `(batch, time, channels)` (channels_last) or `(batch, channels, time)`.
    Output shape: `(batch, frames, channels * bins)` / `(batch, channels * bins, frames)`,
    or with `expand_dims` `(batch, frames, bins, channels)` / `(batch, channels, frames,
    bins)`, where `bins = fft_length // 2 + 1` (twice that for mode="stft").

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = STFTSpectrogram(frame_length=8, frame_step=4)
    >>> x = jnp.ones((2, 32, 1))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (2, 7, 5)
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        _positive_int(frame_length, "frame_length", "STFTSpectrogram")
        if frame_step is not None and (isinstance(frame_step, bool)
                                       or not isinstance(frame_step, int)
                                       or not 1 <= frame_step <= frame_length):
            raise ValueError(
                "STFTSpectrogram: `frame_step` must be a positive integer not greater than "
                f"`frame_length`. Received: frame_step={frame_step!r}, "
                f"frame_length={frame_length}."
            )
        if fft_length is not None and (not isinstance(fft_length, int)
                                       or fft_length < frame_length):
            raise ValueError(
                "STFTSpectrogram: `fft_length` must be an integer not less than "
                f"`frame_length`. Received: fft_length={fft_length!r}, "
                f"frame_length={frame_length}."
            )
        if fft_length is not None and fft_length & (fft_length - 1):
            warnings.warn(f"`fft_length` is recommended to be a power of two. "
                          f"Received fft_length={fft_length}", stacklevel=2)
        if mode not in _MODES:
            raise unknown_identifier("STFTSpectrogram mode", mode, _MODES)
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise unknown_identifier("STFTSpectrogram scaling", scaling,
                                     ["density", "spectrum"])
        if padding not in ("valid", "same"):
            raise unknown_identifier("STFTSpectrogram padding", padding, ["valid", "same"])
        # Building the initializers checks the window name now, as Keras does.
        try:
            self._initializers = {side: initializers.STFT(side, window, scaling, periodic)
                                  for side in ("real", "imag")}
        except ValueError as e:
            raise ValueError(
                f"STFTSpectrogram: invalid `window`: {e} Use a `scipy.signal.get_window` "
                "name such as 'hann' or 'hamming', an array of `frame_length` values, or None."
            ) from e
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, frame_length, frame_step
        self.fft_length, self.window, self.periodic = fft_length, window, periodic
        self.scaling, self.padding, self.expand_dims = scaling, padding, expand_dims
        self.data_format = _data_format(data_format)
        self._frame_step = frame_step or frame_length // 2
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.input_spec = InputSpec(ndim=3)

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        params = {}
        if self.mode != "imag":
            params["real_kernel"] = self._initializers["real"](shape, self.dtype)
        if self.mode != "real":
            params["imag_kernel"] = self._initializers["imag"](shape, self.dtype)
        return params, {}

    def _conv(self, x, kernel):
        """`(batch, channels, time)` -> `(batch, channels, bins, frames)`, per channel."""
        batch, channels, time = x.shape
        out = jax.lax.conv_general_dilated(
            x.reshape(batch * channels, 1, time), kernel.astype(x.dtype),
            window_strides=(self._frame_step,), padding=self.padding.upper(),
            dimension_numbers=("NCH", "HIO", "NCH"))
        return out.reshape(batch, channels, out.shape[1], out.shape[2])

    def _layout(self, y):
        """`(batch, channels, bins, frames)` -> the output layout (see the docstring)."""
        batch, channels, bins, frames = y.shape
        last = self.data_format == "channels_last"
        if self.expand_dims:
            return jnp.transpose(y, (0, 3, 2, 1) if last else (0, 1, 3, 2))
        y = y.reshape(batch, channels * bins, frames)
        return jnp.transpose(y, (0, 2, 1)) if last else y

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        if x.dtype not in (jnp.float16, jnp.float32, jnp.float64):
            raise TypeError(
                f"STFTSpectrogram '{self.name}': expected float16, float32 or float64 "
                f"inputs, received {x.dtype}. Cast the signal with `x.astype('float32')`."
            )
        if self.data_format == "channels_last":
            x = jnp.transpose(x, (0, 2, 1))
        real = self._conv(x, params["real_kernel"]) if self.mode != "imag" else None
        imag = self._conv(x, params["imag_kernel"]) if self.mode != "real" else None
        if self.mode == "real":
            return self._layout(real), state
        if self.mode == "imag":
            return self._layout(imag), state
        if self.mode == "angle":
            return self._layout(jnp.arctan2(imag, real)), state
        if self.mode == "stft":
            return self._layout(jnp.concatenate([real, imag], axis=2)), state
        power = jnp.square(real) + jnp.square(imag)
        if self.mode == "psd":  # one-sided: every bin but the first and last counts twice
            inner = jnp.pad(power[:, :, 1:-1], ((0, 0), (0, 0), (1, 1), (0, 0)))
            return self._layout(power + inner), state
        magnitude = self._layout(jnp.sqrt(jnp.maximum(power, _EPSILON)))
        if self.mode == "magnitude":
            return magnitude, state
        return jnp.log(jnp.maximum(magnitude, _EPSILON)), state

    def get_config(self):
        window = self.window
        if hasattr(window, "tolist"):
            window = window.tolist()
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}


_MEL_BREAK_HZ = 700.0
_MEL_HIGH_Q = 1127.0


def _hertz_to_mel(hz):
    return _MEL_HIGH_Q * jnp.log(1.0 + hz / _MEL_BREAK_HZ)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sampling_rate=8000,
                                lower_edge_hertz=125.0, upper_edge_hertz=3800.0,
                                dtype="float32"):
    """The `(num_spectrogram_bins, num_mel_bins)` matrix of HTK mel triangles (peak 1.0)
    that maps a linear-frequency spectrum to the mel scale (`spectrum @ matrix`).

    Example:
    >>> m = linear_to_mel_weight_matrix(4, 9, 8000, 0.0, 4000.0)
    >>> m.shape, float(m[0].sum())
    ((9, 4), 0.0)
    """
    nyquist = jnp.asarray(sampling_rate, dtype) / 2.0
    # The DC bin carries no mel weight (its row stays zero).
    freqs = jnp.linspace(jnp.zeros((), dtype), nyquist, num_spectrogram_bins)[1:]
    bins_mel = _hertz_to_mel(freqs)[:, None]
    edges = jnp.linspace(_hertz_to_mel(jnp.asarray(lower_edge_hertz, dtype)),
                         _hertz_to_mel(jnp.asarray(upper_edge_hertz, dtype)), num_mel_bins + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = jnp.maximum(jnp.zeros((), dtype), jnp.minimum(rising, falling))
    return jnp.pad(weights, ((1, 0), (0, 0)))


class MelSpectrogram(Layer):
    """Converts raw audio `(..., samples)` to a mel spectrogram `(..., num_mel_bins, frames)`.

    The STFT is centred (reflect padding), so there are `samples // sequence_stride + 1`
    frames. The magnitude is raised to `mag_exp`, mapped to `num_mel_bins` HTK mel bands
    between `min_freq` and `max_freq`, and, with `power_to_db`, converted to decibels
    relative to `ref_power` and floored at `top_db` below the maximum over the whole input
    (as in Keras: over the batch too).

    Args:
        fft_length: FFT size (default 2048).
        sequence_stride: samples between frames (default 512).
        sequence_length: window length (default `fft_length`).
        window: "hann" (default), "hamming", an array of `sequence_length`, or None.
        sampling_rate: sample rate of the signal in Hz (default 16000).
        num_mel_bins: number of mel bands (default 128).
        min_freq: lower edge of the lowest band in Hz (default 20.0).
        max_freq: upper edge of the highest band (default `sampling_rate / 2`).
        power_to_db: whether to convert to decibels (default True).
        top_db: the dynamic range kept below the maximum, in dB (default 80.0).
        mag_exp: exponent of the magnitude (1 magnitude, 2 power; default 2.0).
        min_power: floor of the power and of `ref_power` (default 1e-10).
        ref_power: reference power of 0 dB (default 1.0).

    Input shape: `(samples,)` or `(batch, samples)`, float.
    Output shape: `(num_mel_bins, frames)` or `(batch, num_mel_bins, frames)`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8,
    ...                        sampling_rate=8000)
    >>> x = jnp.ones((2, 128))
    >>> layer.apply(layer.init(jax.random.PRNGKey(0), x), x)[0].shape
    (2, 8, 9)
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                 ref_power=1.0, **kwargs):
        for name, value in (("fft_length", fft_length), ("sequence_stride", sequence_stride),
                            ("num_mel_bins", num_mel_bins)):
            _positive_int(value, name, "MelSpectrogram")
        sequence_length = sequence_length or fft_length
        _positive_int(sequence_length, "sequence_length", "MelSpectrogram")
        if fft_length < sequence_length:
            raise ValueError(
                "MelSpectrogram: `fft_length` must be greater than or equal to "
                f"`sequence_length`. Received: sequence_length={sequence_length}, "
                f"fft_length={fft_length}."
            )
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise unknown_identifier("MelSpectrogram window", window, ["hann", "hamming"])
        super().__init__(**kwargs)
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length, self.window = sequence_length, window
        self.sampling_rate, self.num_mel_bins = sampling_rate, num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power
        self.input_spec = InputSpec(min_ndim=1, max_ndim=2)

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        return {}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        compute = jnp.dtype(self.compute_dtype)
        dtype = compute if compute in (jnp.float32, jnp.float64) else jnp.dtype("float32")
        x = jnp.asarray(inputs).astype(dtype)
        real, imag = ops_math.stft(x, self.sequence_length, self.sequence_stride,
                                   self.fft_length, window=self.window, center=True)
        spec = jnp.power(jnp.sqrt(jnp.square(real) + jnp.square(imag)), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, spec.shape[-1],
                                             self.sampling_rate, self.min_freq,
                                             self.max_freq)
        out = jnp.tensordot(spec, matrix.astype(spec.dtype), axes=1)
        if self.power_to_db:
            out = self._decibels(out)
        return jnp.swapaxes(out, -1, -2).astype(compute), state

    def _decibels(self, power):
        floor = jnp.asarray(self.min_power, power.dtype)
        db = 10.0 * jnp.log10(jnp.maximum(power, floor))
        ref = jnp.abs(jnp.asarray(self.ref_power, power.dtype))
        db = db - 10.0 * jnp.log10(jnp.maximum(ref, floor))
        return jnp.maximum(db, jnp.max(db) - self.top_db)

    def get_config(self):
        window = self.window
        if hasattr(window, "tolist"):
            window = window.tolist()
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}


__all__ = ["MelSpectrogram", "STFTSpectrogram"]
