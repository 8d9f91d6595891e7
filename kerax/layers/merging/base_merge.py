"""`Merge`: the base of the layers that combine a list of same-batch inputs."""

import jax.numpy as jnp

from kerax.layers.layer import Layer, shapes_of


def _as_list(inputs):
    """`layer([a, b])` and `layer.apply(v, a, b)` both give `[a, b]`."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        return list(inputs[0])
    return list(inputs)


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x)


class Merge(Layer):
    """Base class of merge layers: `forward` gets the list of inputs; subclasses `merge`."""

    min_inputs = 1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check(self, shapes):
        if len(shapes) < self.min_inputs:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' should be called on a list of at least "
                f"{self.min_inputs} inputs. Received {len(shapes)} input(s)."
            )

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        shapes = input_shapes[0] if len(input_shapes) == 1 and not _is_shape(
            input_shapes[0]) else list(input_shapes)
        self._check([tuple(s) for s in shapes])
        self.check_shapes([tuple(s) for s in shapes])
        return {}, {}

    def check_shapes(self, shapes):
        """Raises when the input shapes cannot be merged (override per layer)."""
        try:
            jnp.broadcast_shapes(*[tuple(1 if d is None else d for d in s) for s in shapes])
        except ValueError:
            raise ValueError(
                f"Inputs of {type(self).__name__} '{self.name}' must have shapes that "
                f"broadcast together. Received input shapes {shapes}."
            ) from None

    def forward(self, params, state, *inputs, training=False, rng=None, **kwargs):
        xs = [jnp.asarray(x) for x in _as_list(inputs)]
        self._check([x.shape for x in xs])
        return self.merge(xs), state

    def merge(self, xs):
        raise NotImplementedError

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        shapes = self._build_shapes
        shapes = shapes[0] if len(shapes) == 1 else shapes
        return {"input_shape": [list(s) for s in shapes]}
