from kerax.layers.layer import Layer


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer); masks pass through.

    Example:
    >>> import jax.numpy as jnp
    >>> Identity().apply({}, jnp.ones((2,)))[0].tolist()
    [1.0, 1.0]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return inputs, state
