"""`Lambda`: wraps an arbitrary function of the inputs as a layer (no weights)."""

import codecs
import inspect
import marshal
import types

import jax

from kerax.errors import UnsafeModelError
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


def _dump_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    return serialization_lib.serialize_keras_object(fn)


def _load_function(config, safe_mode, custom_objects):
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        if safe_mode:
            raise UnsafeModelError(
                "Requested the deserialization of a `Lambda` layer whose `function` is a "
                "Python lambda: loading it would run code stored in the file. Pass "
                "`safe_mode=False` only if you trust the source of this file."
            )
        inner = config["config"]
        code = marshal.loads(codecs.decode(inner["code"].encode("ascii"), "base64"))
        closure = inner.get("closure")
        if closure is not None:
            closure = tuple(types.CellType(c) for c in closure)
        defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
        return types.FunctionType(code, globals(), code.co_name, defaults, closure)
    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)` as a layer.

    Args:
        function: the function to apply (jax/NumPy-style ops on the inputs).
        output_shape: optional output shape (without the batch axis); derived when omitted.
        mask: unused placeholder for Keras compatibility (a callable or tensor).
        arguments: optional dict of extra keyword arguments for `function`.

    A `Lambda` wrapping a Python `lambda` is refused by safe loading (its code would run):
    `from_config(..., safe_mode=False)` allows it for trusted files.

    Example:
    >>> import numpy as np
    >>> Lambda(lambda x: x * 2.0)(np.ones((1, 2))).tolist()
    [[2.0, 2.0]]
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training_arg = "training" in params

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        return {}, {}

    def forward(self, params, state, *inputs, training=False, rng=None, **kwargs):
        x = inputs[0] if len(inputs) == 1 else list(inputs)
        kw = dict(self.arguments)
        if self._fn_expects_training_arg:
            kw["training"] = training
        return self.function(x, **kw), state

    def compute_output_shape(self, *input_shapes):
        if self._output_shape is None:
            return super().compute_output_shape(*input_shapes)
        if callable(self._output_shape):
            return self._output_shape(*input_shapes)
        batch = jax.tree_util.tree_leaves(input_shapes)[0] if input_shapes else None
        return (batch,) + tuple(self._output_shape)

    def get_config(self):
        config = {**super().get_config(), "function": _dump_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_dump_function(self._output_shape)
                                      if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            config["mask"] = _dump_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = serialization_lib.serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds the layer; a Python lambda needs `safe_mode=False` (it runs code).

        `safe_mode=None` follows the loader's setting (`load_model(..., safe_mode=...)` or
        `kerax.config.enable_unsafe_deserialization()`); the default is safe.
        """
        if safe_mode is None:
            safe_mode = serialization_lib.in_safe_mode()
        config = dict(config)
        config["function"] = _load_function(config["function"], safe_mode, custom_objects)
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _load_function(shape, safe_mode, custom_objects)
        elif isinstance(shape, list):
            config["output_shape"] = tuple(shape)
        if isinstance(config.get("mask"), dict):
            config["mask"] = _load_function(config["mask"], safe_mode, custom_objects)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(**config)
