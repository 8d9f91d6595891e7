import jax
import jax.numpy as jnp

from kerax.layers import seed_state
from kerax.layers.layer import Layer
from kerax.random.seed_generator import SeedGenerator


class Dropout(Layer):
    """Sets inputs to 0 with probability `rate` in training, scaling the rest by `1/(1-rate)`.

    Identity at inference. As in Keras, a layer with `rate > 0` owns a `SeedGenerator`
    (`layer.seed_generator`) whose state, `uint32[seed, counter]`, is a non-trainable
    variable in `variables["state"]["seed_generator"]` (not a weight). A training call
    with an `rng` key draws the mask from that key (`fit`); without one (an eager call,
    `stateless_call`) it draws from the seed state, as Keras does, so `seed` makes the
    masks reproducible; either way the counter advances (see `kerax.layers.seed_state`).

    Args:
        rate: float in [0, 1], the fraction of inputs to drop.
        noise_shape: optional shape of the binary mask (broadcast over the input); `None`
            entries take the input's size.
        seed: optional int, the initial seed state (a random one when None).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = Dropout(0.5, seed=1)
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
    >>> v["state"]["seed_generator"].tolist()
    [1, 0]
    >>> y, state = layer.apply(v, jnp.ones((2, 4)), training=True)
    >>> sorted(set(y.ravel().tolist())), state["seed_generator"].tolist()
    ([0.0, 2.0], [1, 1])
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
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        # `rate` may be a traced scalar in (0, 1) (a tuner training several trials with
        # different rates in one program, `kerax.tuner`'s `population`).
        static = isinstance(self.rate, (int, float))
        if not training or (static and self.rate == 0):
            return inputs, state
        if static and self.rate == 1:  # Keras draws nothing: its seed state stays
            return jnp.zeros_like(inputs), state
        rng, state = seed_state.draw(self, state, rng)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = jax.random.bernoulli(rng, 1.0 - self.rate, shape)
        out = jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros((), inputs.dtype))
        return out.astype(inputs.dtype), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
