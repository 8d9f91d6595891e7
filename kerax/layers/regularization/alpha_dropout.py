import jax
import jax.numpy as jnp

from kerax.layers import seed_state
from kerax.layers.layer import Layer
from kerax.layers.regularization import _noise
from kerax.random.seed_generator import SeedGenerator

_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations (self-normalizing).

    Dropped units are set to SELU's negative saturation value, then an affine map restores
    the mean and variance. Identity at inference. The draw comes from the `rng` key, or
    without one from the layer's seed state (see `Dropout`).

    Args:
        rate: float in [0, 1], the drop probability.
        noise_shape: optional shape of the keep/drop draw; `None` entries take the input's
            size.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = AlphaDropout(0.5)
    >>> y, _ = layer.apply({}, jnp.zeros((1, 4)), training=True, rng=jax.random.PRNGKey(0))
    >>> y.shape
    (1, 4)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _noise.check_rate(rate)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.rate == 0:
            return inputs, state
        rng, state = seed_state.draw(self, state, rng)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        kept = (jax.random.uniform(rng, shape) >= self.rate).astype(inputs.dtype)
        alpha_p = -_ALPHA * _SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return (a * x + b).astype(inputs.dtype), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
