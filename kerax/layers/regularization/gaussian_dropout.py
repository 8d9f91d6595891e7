import math

import jax
import jax.numpy as jnp

from kerax.layers import seed_state
from kerax.layers.layer import Layer
from kerax.layers.regularization import _noise
from kerax.random.seed_generator import SeedGenerator


class GaussianDropout(Layer):
    """Multiplies inputs by `1`-centered Gaussian noise of std `sqrt(rate / (1 - rate))`.

    Identity at inference. The noise comes from the `rng` key, or without one from the
    layer's seed state (see `Dropout`).

    Args:
        rate: float in [0, 1], the drop probability (as in `Dropout`).
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = GaussianDropout(0.2)
    >>> y, _ = layer.apply({}, jnp.ones((2, 3)), training=True, rng=jax.random.PRNGKey(0))
    >>> y.shape
    (2, 3)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _noise.check_rate(rate)
        self.rate, self.seed = rate, seed
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.rate == 0:
            return inputs, state
        rng, state = seed_state.draw(self, state, rng)
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = 1.0 + stddev * jax.random.normal(rng, inputs.shape, jnp.dtype(self.compute_dtype))
        return inputs * noise, state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
