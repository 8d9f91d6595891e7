from kerax import activations
from kerax.layers.layer import Layer


class ReLU(Layer):
    """Rectified linear unit, with Keras' `max_value`, `negative_slope` and `threshold`.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`, and
    `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: float >= 0, the largest output (default None: no cap).
        negative_slope: float >= 0, the slope below the threshold (default 0).
        threshold: float >= 0, where the function switches (default 0).

    Example:
    >>> import numpy as np
    >>> ReLU(max_value=1.0)(np.array([-1.0, 0.5, 3.0])).tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value, optional in (("max_value", max_value, True),
                                     ("negative_slope", negative_slope, False),
                                     ("threshold", threshold, False)):
            if (value is None and not optional) or (value is not None and value < 0):
                raise ValueError(
                    f"ReLU: `{arg}` must be a number >= 0. Received: {arg}={value!r}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        y = activations.relu(inputs, negative_slope=self.negative_slope,
                             max_value=self.max_value, threshold=self.threshold)
        return y, state

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
