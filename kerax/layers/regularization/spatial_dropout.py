import jax
import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers import seed_state
from kerax.layers.regularization import _noise
from kerax.random.seed_generator import SeedGenerator


class _SpatialDropout(Layer):
    """Drops whole feature maps: one keep/drop draw per (example, channel).

    Owns a `SeedGenerator` (`rate > 0`) and draws as `Dropout` does."""

    _rank = None

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _noise.check_rate(rate)
        self.rate, self.seed = rate, seed
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank)
        self.supports_masking = True

    def _noise_shape(self, shape):
        ones = (1,) * (len(shape) - 2)
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + ones
        return (shape[0],) + ones + (shape[-1],)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.rate == 0:
            return inputs, state
        if self.rate == 1:  # Keras draws nothing: its seed state stays
            return jnp.zeros_like(inputs), state
        rng, state = seed_state.draw(self, state, rng)
        keep = jax.random.bernoulli(rng, 1.0 - self.rate, self._noise_shape(inputs.shape))
        out = jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros((), inputs.dtype))
        return out.astype(inputs.dtype), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Spatial 1D dropout: drops entire channels of `(batch, steps, channels)` inputs.

    Identity at inference; in training each channel of each example is kept with
    probability `1 - rate` and scaled by `1 / (1 - rate)`. The mask comes from the `rng`
    key, or without one from the layer's seed state (as `Dropout`).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = SpatialDropout1D(0.5)
    >>> y, _ = layer.apply({}, jnp.ones((1, 3, 4)), training=True, rng=jax.random.PRNGKey(0))
    >>> bool(jnp.all(y == y[:, :1, :]))
    True
    """

    _rank = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Spatial 2D dropout: drops entire feature maps of 4D inputs.

    Args:
        rate: float in [0, 1], the fraction of feature maps to drop.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = SpatialDropout2D(0.5)
    >>> y, _ = layer.apply({}, jnp.ones((1, 2, 2, 3)), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> bool(jnp.all(y == y[:, :1, :1, :]))
    True
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Spatial 3D dropout: drops entire feature volumes of 5D inputs.

    Args:
        rate: float in [0, 1], the fraction of feature volumes to drop.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax.numpy as jnp
    >>> SpatialDropout3D(0.5).apply({}, jnp.ones((1, 2, 2, 2, 3)))[0].shape
    (1, 2, 2, 2, 3)
    """

    _rank = 5
