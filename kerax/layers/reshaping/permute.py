import jax.numpy as jnp

from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes of the input: `dims` is a permutation of `1..rank-1`.

    Args:
        dims: tuple of ints, e.g. `(2, 1)` swaps the first two non-batch axes.

    Example:
    >>> import numpy as np
    >>> Permute((2, 1))(np.ones((2, 3, 4))).shape
    (2, 4, 3)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Permute: `dims` must be a permutation of 1..n (the batch axis 0 stays "
                f"first). Received: dims={self.dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return jnp.transpose(jnp.asarray(inputs), (0,) + self.dims), state

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
