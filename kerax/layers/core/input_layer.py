from kerax.backend.keras_tensor import KerasTensor, dtype_name
from kerax.layers import unsupported
from kerax.layers.layer import Layer


class InputLayer(Layer):
    """The entry point of a model: holds the input's shape and dtype.

    Args:
        shape: the shape without the batch axis, e.g. `(64,)`.
        batch_size: optional fixed batch size.
        dtype: the input's dtype (default `floatx()`).
        batch_shape: the full shape including the batch axis (instead of `shape`).
        name: the layer's name.

    Example:
    >>> layer = InputLayer(shape=(3,))
    >>> layer.output.shape
    (None, 3)
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, ragged=None, **kwargs):
        kwargs.pop("input_shape", None)
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError("kerax does not support sparse inputs; pass dense arrays.")
        if ragged:
            raise ValueError("`ragged=True` is not supported with the jax backend (as in "
                             "Keras 3 on JAX). Pass padded dense arrays (and a mask).")
        unsupported.refuse("InputLayer", "input_tensor", input_tensor,
                           hint="Call `Input(shape=...)` and apply the layers that made the "
                           "tensor to it instead.")
        if shape is not None and batch_shape is not None:
            raise ValueError("Pass only one of `shape` and `batch_shape` to `InputLayer`.")
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to `Input`/`InputLayer`.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._input_dtype = dtype_name(dtype) if dtype is not None else None
        self.sparse, self.ragged, self.optional = False, False, optional
        self.output = KerasTensor(self.batch_shape, self.input_dtype, name=self.name,
                                  history=(self, 0, 0))
        self.built = True

    @property
    def input(self):
        """An `InputLayer` has no inputs: `[]`, as in Keras (its tensor is `output`)."""
        return []

    @property
    def input_dtype(self):
        return self._input_dtype or self.dtype

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return inputs, state

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.input_dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False, ragged=None):
    """A symbolic input: starts a functional model or fixes a Sequential's input shape.

    Example:
    >>> x = Input(shape=(64,), name="features")
    >>> x.shape, x.dtype
    ((None, 64), 'float32')
    """
    unsupported.refuse("Input", "tensor", tensor, hint="Call `Input(shape=...)` and apply "
                       "the layers that made the tensor to it instead.")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, optional=optional, ragged=ragged)
    return layer.output
