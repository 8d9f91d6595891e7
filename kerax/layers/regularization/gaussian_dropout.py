import math

import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer
from kerax.layers.regularization import _noise


class GaussianDropout(Layer):
    """Multiplies inputs by `1`-centered Gaussian noise of std `sqrt(rate / (1 - rate))`.

    Identity at inference. Randomness comes only from the `rng` key.

    Args:
        rate: float in [0, 1], the drop probability (as in `Dropout`).
        seed: optional int (used by eager calls without an `rng`).

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
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.rate == 0:
            return inputs, state
        _noise.require_rng(self, rng)
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = 1.0 + stddev * jax.random.normal(rng, inputs.shape, jnp.dtype(self.dtype))
        return inputs * noise, state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
