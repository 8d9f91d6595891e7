import warnings

from kerax import activations
from kerax.layers.layer import Layer


class LeakyReLU(Layer):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: float >= 0 (default 0.3). The deprecated name `alpha` is accepted
            with a warning, as in Keras.

    Example:
    >>> import numpy as np
    >>> LeakyReLU()(np.array([-1.0, 2.0])).tolist()
    [-0.30000001192092896, 2.0]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: `alpha` is deprecated; use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "LeakyReLU: `negative_slope` must be a number >= 0. "
                f"Received: negative_slope={negative_slope!r}"
            )
        self.negative_slope = negative_slope
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope), state

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}
