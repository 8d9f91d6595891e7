import jax.numpy as jnp

from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer


class RepeatVector(Layer):
    """Repeats each input vector `n` times: `(batch, features) -> (batch, n, features)`.

    Example:
    >>> import numpy as np
    >>> RepeatVector(3)(np.ones((2, 4))).shape
    (2, 3, 4)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector: `n` must be a positive integer. Received: n={n!r}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        return jnp.repeat(x[:, None, :], self.n, axis=1), state

    def get_config(self):
        return {**super().get_config(), "n": self.n}
