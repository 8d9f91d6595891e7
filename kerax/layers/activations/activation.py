from kerax import activations
from kerax.layers.layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Example:
    >>> import numpy as np
    >>> Activation("relu")(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return self.activation(inputs), state

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
