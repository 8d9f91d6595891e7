import jax
import jax.numpy as jnp

from kerax.layers import seed_state
from kerax.layers.layer import Layer
from kerax.layers.regularization import _noise
from kerax.random.seed_generator import SeedGenerator


class GaussianNoise(Layer):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` in training.

    Identity at inference. The noise comes from the `rng` key, or without one from the
    layer's seed state (see `Dropout`).

    Args:
        stddev: float in [0, 1], the standard deviation of the noise.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = GaussianNoise(0.1)
    >>> x = jnp.zeros((2, 3))
    >>> bool(jnp.all(layer.apply({}, x)[0] == x))
    True
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> bool(jnp.any(y != x))
    True
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        _noise.check_rate(stddev, "stddev")
        self.stddev, self.seed = stddev, seed
        if stddev > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.stddev == 0:
            return inputs, state
        rng, state = seed_state.draw(self, state, rng)
        noise = self.stddev * jax.random.normal(rng, inputs.shape, jnp.dtype(self.compute_dtype))
        return inputs + noise, state

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
