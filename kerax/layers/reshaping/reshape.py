import math

import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers.layer import Layer, shapes_of


class Reshape(Layer):
    """Reshapes every example to `target_shape` (one entry may be -1).

    Example:
    >>> import numpy as np
    >>> Reshape((3, 4))(np.ones((2, 12))).shape
    (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError(
                f"Reshape: at most one entry of `target_shape` may be -1. "
                f"Received: target_shape={self.target_shape}"
            )

    def _resolve(self, shape):
        size = math.prod(shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        target = self.target_shape
        if -1 in target:
            if known == 0 or size % known:
                target = None
            else:
                target = tuple(size // known if d == -1 else d for d in target)
        if target is None or math.prod(target) != size:
            raise LayerShapeError(
                f"Reshape '{self.name}': expected an input with {known} values per example "
                f"to reshape into target_shape={self.target_shape}, received input of shape "
                f"{tuple(shape)}."
            )
        return target

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        self._resolve(input_shape)
        return {}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        return x.reshape((x.shape[0],) + self._resolve(x.shape)), state

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
