"""`kerax.initializers`: Keras 3's initializers with Keras' formulas.

CONTRACT (used by layers): an initializer is called as `init(shape, dtype=None, key=None)`
and returns a `jax.Array`. Layers always pass `key`; without one, the initializer's
`seed` (or the global key source) is used, as in Keras. `get(identifier)` accepts a Keras
name string, a class instance, a config dict or a callable.

Seeds work as in Keras 3's JAX backend: an integer `seed` becomes the raw key
`uint32[seed, 0]`, so `RandomNormal(seed=7)((3, 4))` gives exactly the numbers
`keras.initializers.RandomNormal(seed=7)((3, 4))` gives. Like Keras, an initializer called
without `key` returns the same values on every call (an unseeded one draws its key once,
from the global source that `kerax.utils.set_random_seed` resets).
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import config as _config
from kerax.backend import host_constants, host_prng, random_state
from kerax.serialization import registry


def _dtype(dtype):
    return jnp.dtype(dtype or _config.floatx())


def compute_fans(shape, input_axes=None, output_axes=None):
    """Keras' `(fan_in, fan_out)` for a kernel shape (conv kernels: spatial dims first).

    With both `input_axes` and `output_axes`, the fans are the products of those axes.

    Example:
    >>> compute_fans((3, 3, 8, 16))
    (72, 144)
    >>> compute_fans((2, 3, 4), input_axes=(0,), output_axes=(1, 2))
    (2, 12)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None, key=None)`.

    Example:
    >>> class Twos(Initializer):
    ...     def __call__(self, shape, dtype=None, key=None):
    ...         return 2 * jnp.ones(shape, dtype or "float32")
    >>> Twos()((2,)).tolist()
    [2.0, 2.0]
    """

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype=None, key=None):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__call__(shape, dtype=None, key=None)`."
        )

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


# --- Constant initializers ------------------------------------------------------------


class Constant(Initializer):
    """Fills with `value` (a scalar, or an array broadcastable to the shape).

    Example:
    >>> Constant(3.0)((2,)).tolist()
    [3.0, 3.0]
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None, key=None):
        dtype = _dtype(dtype)
        return jnp.asarray(self.value).astype(dtype) * jnp.ones(shape, dtype)

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, np.generic, jax.Array)):
            value = np.asarray(value)
            value = {"class_name": "__numpy__",
                     "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.asarray(value["config"]["value"], value["config"]["dtype"])
        return cls(value)


class Zeros(Initializer):
    """All zeros.

    Example:
    >>> Zeros()((2,)).tolist()
    [0.0, 0.0]
    """

    def __call__(self, shape, dtype=None, key=None):
        return host_constants.full(shape, 0, _dtype(dtype))


class Ones(Initializer):
    """All ones.

    Example:
    >>> Ones()((2,)).tolist()
    [1.0, 1.0]
    """

    def __call__(self, shape, dtype=None, key=None):
        return host_constants.full(shape, 1, _dtype(dtype))


class Identity(Initializer):
    """`gain` times the identity matrix; only for 2-D shapes.

    Raises:
        ValueError: when the shape is not 2-D.

    Example:
    >>> Identity(gain=2.0)((2, 2)).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, key=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity initializer can only be used for 2-D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}. Use a 2-D shape."
            )
        return self.gain * jnp.eye(*shape, dtype=_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class STFT(Initializer):
    """Short-time Fourier transform kernel of shape `(frame_length, channels, fft_bins)`.

    Args:
        side: "real" (cosine part) or "imag" (sine part).
        window: a `scipy.signal.get_window` name, an array of length `frame_length`, or None.
        scaling: "density", "spectrum" or None: how the window is normalized.
        periodic: whether a named window is periodic (else symmetric).

    Example:
    >>> STFT(window=None)((4, 1, 3))[:, 0, 0].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT `side` must be 'real' or 'imag'. Received: side={side!r}")
        if isinstance(window, str):
            _scipy_window(window, 1, periodic)  # fails early on an unknown window name
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "STFT `scaling` must be None, 'density' or 'spectrum'. "
                f"Received: scaling={scaling!r}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None, key=None):
        dtype = _dtype(dtype)
        frame_length, _, fft_length = shape
        win, scale = None, 1
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _scipy_window(win, frame_length, self.periodic)
            win = jnp.asarray(win, dtype)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"STFT `window` must have shape ({frame_length},), the frame length. "
                    f"Received: window shape={win.shape}"
                )
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = jnp.sqrt(jnp.sum(jnp.square(win)))
            elif self.scaling == "spectrum":
                scale = jnp.sum(jnp.abs(win))
        freq = jnp.arange(fft_length, dtype=dtype).reshape(1, 1, -1) / ((fft_length - 1) * 2)
        time = jnp.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = (-2 * time * freq) * jnp.arccos(jnp.asarray(-1, dtype))
        kernel = (jnp.cos(args) if self.side == "real" else jnp.sin(args)).astype(dtype)
        if win is not None:
            kernel = kernel * win / scale
        return kernel

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


def _scipy_window(name, length, periodic):
    try:
        import scipy.signal
    except ImportError as e:
        raise ImportError(
            f"STFT(window={name!r}) needs scipy to build a named window. Install it with "
            "`pip install scipy`, or pass the window as an array (or window=None)."
        ) from e

    return scipy.signal.get_window(name, length, periodic)


# --- Random initializers --------------------------------------------------------------


def seed_to_key(seed):
    """The JAX key Keras 3's JAX backend uses for an integer `seed`: `uint32[seed, 0]`.

    Example:
    >>> seed_to_key(7).tolist()
    [7, 0]
    """
    return jnp.asarray([seed, 0], dtype=jnp.uint32)


class RandomInitializer(Initializer):
    """Base of the random initializers: holds `seed` and turns it into a key."""

    def __init__(self, seed=None):
        is_key = isinstance(seed, jax.Array)
        if seed is not None and not is_key and not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"{type(self).__name__}: `seed` must be an integer, a JAX PRNG key or None. "
                f"Received: seed={seed!r} of type {type(seed).__name__}."
            )
        if isinstance(seed, (bool, np.bool_)):
            raise ValueError(f"{type(self).__name__}: `seed` must be an integer, not a bool.")
        self.seed = int(seed) if isinstance(seed, (int, np.integer)) else seed
        self._default_key = None

    def _key(self, key):
        # An explicit seed wins over the layer's key: a seeded initializer gives the same
        # values on every call, as in Keras, so seeded layers match Keras' weights exactly.
        if isinstance(self.seed, int):
            return seed_to_key(self.seed)
        if self.seed is not None:
            return self.seed
        if key is not None:
            return key
        if self._default_key is None:  # unseeded: draw once, then repeat (as Keras does)
            self._default_key = random_state.next_key()
        return self._default_key

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal distribution with `mean` and `stddev`.

    Example:
    >>> RandomNormal(seed=1)((2, 3)).shape
    (2, 3)
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None, key=None):
        return host_prng.normal(self._key(key), shape, _dtype(dtype), self.mean, self.stddev)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal with `mean` and `stddev`, redrawn beyond two standard deviations.

    Example:
    >>> bool((abs(TruncatedNormal(stddev=1.0, seed=1)((100,))) <= 2.0).all())
    True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None, key=None):
        return host_prng.truncated_normal(self._key(key), shape, _dtype(dtype), self.mean,
                                          self.stddev)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform in `[minval, maxval)`.

    Example:
    >>> bool((RandomUniform(0.0, 1.0, seed=1)((100,)) >= 0).all())
    True
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None, key=None):
        return host_prng.uniform(
            self._key(key), shape, _dtype(dtype), minval=self.minval, maxval=self.maxval
        )

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Samples with variance `scale / n`, `n` from `mode` ("fan_in", "fan_out", "fan_avg").

    `distribution` is "truncated_normal" (also "normal"), "untruncated_normal" or
    "uniform". `input_axes`/`output_axes` pick the axes the fans are computed over.

    Raises:
        ValueError: for a non-positive `scale` or an unknown `mode` or `distribution`.

    Example:
    >>> VarianceScaling(seed=0)((3, 4)).shape
    (3, 4)
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(
                f"VarianceScaling `scale` must be a positive float. Received: scale={scale}"
            )
        if mode not in self._MODES:
            raise ValueError(
                f"VarianceScaling `mode` must be one of {self._MODES}. Received: mode={mode!r}"
            )
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling `distribution` must be one of {self._DISTRIBUTIONS} or "
                f"'normal'. Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None, key=None):
        key, dtype = self._key(key), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978  # std of N(0,1) cut at +-2
            return host_prng.truncated_normal(key, shape, dtype, 0.0, stddev)
        if self.distribution == "untruncated_normal":
            return host_prng.normal(key, shape, dtype, 0.0, math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return host_prng.uniform(key, shape, dtype, minval=-limit, maxval=limit)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(self._scale, self._mode, self._distribution, seed=seed,
                         input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Example:
    >>> GlorotUniform(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`.

    Example:
    >>> GlorotNormal(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`.

    Example:
    >>> LecunUniform(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(1 / fan_in)`.

    Example:
    >>> LecunNormal(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`.

    Example:
    >>> HeUniform(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / fan_in)`.

    Example:
    >>> HeNormal(seed=0)((3, 4)).shape
    (3, 4)
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (rows or columns orthonormal) times `gain`.

    Shapes of rank > 2 are flattened to `(prod(shape[:-1]), shape[-1])`.

    Raises:
        ValueError: for shapes of rank < 2.

    Example:
    >>> w = Orthogonal(seed=0)((3, 3))
    >>> bool(jnp.allclose(w @ w.T, jnp.eye(3), atol=1e-5))
    True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None, key=None):
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal initializer needs a shape of rank 2 or more. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        return _orthogonal(self._key(key), tuple(shape), _dtype(dtype), float(self.gain))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _orthogonal(key, shape, dtype, gain):
    # One program (compiled once per shape) instead of six eager ops, each compiled.
    rows, cols = math.prod(shape[:-1]), shape[-1]
    a = jax.random.normal(key, (max(rows, cols), min(rows, cols)), dtype)
    q, r = jnp.linalg.qr(a)
    q = q * jnp.sign(jnp.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


# Keras' other public names for the same classes.
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT
constant, zeros, ones, identity, stft = Constant, Zeros, Ones, Identity, STFT
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform = HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform

_CLASSES = (Initializer, Constant, Zeros, Ones, Identity, STFT, RandomNormal, RandomUniform,
            TruncatedNormal, VarianceScaling, GlorotNormal, GlorotUniform, HeNormal,
            HeUniform, LecunNormal, LecunUniform, Orthogonal)
ALL = {cls.__name__: cls for cls in _CLASSES}
ALL.update(IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal, STFTInitializer=STFT)
ALIASES = {
    "initializer": Initializer, "constant": Constant, "zeros": Zeros, "zero": Zeros,
    "ones": Ones, "one": Ones, "identity": Identity, "stft": STFT,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
}


_REGISTRY = registry.ObjectRegistry(
    "initializer", {**ALL, **ALIASES},
    expected="a string such as 'glorot_uniform', an initializer instance, a config dict, "
    "an array, or a callable `fn(shape, dtype, key)`",
)


def serialize(initializer):
    """Keras 3's config dict for an initializer.

    Example:
    >>> serialize(Zeros())["class_name"]
    'Zeros'
    """
    return _REGISTRY.serialize(initializer)


def deserialize(config, custom_objects=None):
    """Builds an initializer from `serialize`'s dict (or a class name).

    Example:
    >>> deserialize(serialize(Constant(2.0))).value
    2.0
    """
    return _REGISTRY.deserialize(config, custom_objects)


def _from_array(value):
    value = jnp.asarray(value)

    def initialize(shape, dtype=None, key=None):
        if tuple(shape) != tuple(value.shape):
            raise ValueError(
                f"Expected `shape` to be {tuple(value.shape)}, the shape of the array given "
                f"as initializer. Received: shape={tuple(shape)}"
            )
        return value.astype(_dtype(dtype))

    return initialize


def get(identifier):
    """Resolves an initializer: a Keras name, an instance, a class, a config dict, an array
    (used as the initial value), or a callable.

    Raises:
        UnknownIdentifierError: for a string that names no initializer (a `ValueError`).
        ValueError: for anything else that is not callable.

    Example:
    >>> isinstance(get("glorot_uniform"), GlorotUniform)
    True
    >>> get(jnp.ones((2,)))((2,)).tolist()
    [1.0, 1.0]
    """
    if isinstance(identifier, (jax.Array, np.ndarray, np.generic)):
        return _from_array(identifier)
    return _REGISTRY.get(identifier)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALIASES", "ALL", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
    "Identity", "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones",
    "Orthogonal", "OrthogonalInitializer", "RandomInitializer", "RandomNormal", "RandomUniform",
    "STFT", "STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans",
    "constant", "deserialize", "get", "glorot_normal", "glorot_uniform", "he_normal",
    "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
    "random_normal", "random_uniform", "seed_to_key", "serialize", "stft", "truncated_normal",
    "variance_scaling", "zeros",
]
