from kerax import activations
from kerax.layers.layer import Layer


class ELU(Layer):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: float, the scale of the negative part (default 1.0).

    Example:
    >>> import numpy as np
    >>> ELU()(np.array([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return activations.elu(inputs, alpha=self.alpha), state

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
