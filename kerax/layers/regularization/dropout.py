import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer


class Dropout(Layer):
    """Sets inputs to 0 with probability `rate` in training, scaling the rest by `1/(1-rate)`.

    Identity at inference. Randomness comes only from the `rng` key passed to `apply`.

    Args:
        rate: float in [0, 1), the fraction of inputs to drop.
        noise_shape: optional shape of the binary mask (broadcast over the input); `None`
            entries take the input's size.
        seed: optional int (used by eager calls without an `rng`).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = Dropout(0.5)
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
    >>> y, _ = layer.apply(v, jnp.ones((2, 4)), training=True, rng=jax.random.PRNGKey(1))
    >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate}"
            )
        self.rate = rate
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training or self.rate == 0:
            return inputs, state
        if rng is None:
            raise ValueError(
                f"Dropout '{self.name}' needs a random key in training mode: call "
                "`apply(variables, x, training=True, rng=jax.random.PRNGKey(0))`."
            )
        if self.rate == 1:
            return jnp.zeros_like(inputs), state
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = jax.random.bernoulli(rng, 1.0 - self.rate, shape)
        out = jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros((), inputs.dtype))
        return out.astype(inputs.dtype), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
