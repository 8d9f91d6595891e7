"""A layer's configuration: Keras' constructor shorthands, `get_config` / `from_config`,
and the build config (`get_build_config` / `build_from_config`)."""

import jax

# The keyword arguments every Keras layer accepts besides its own.
ALLOWED_KWARGS = {"input_shape", "input_dim", "batch_input_shape", "batch_size", "weights"}


def check_kwargs(layer, kwargs):
    """Raises TypeError for keyword arguments no Keras layer accepts."""
    unknown = set(kwargs) - ALLOWED_KWARGS
    if unknown:
        raise TypeError(
            f"{type(layer).__name__}: unrecognized keyword argument(s) {sorted(unknown)}."
        )


def batch_input_shape(kwargs):
    """Keras' first-layer shorthand (`Dense(8, input_shape=(4,))`) as a batch shape."""
    shape = kwargs.get("batch_input_shape")
    if shape is None and kwargs.get("input_shape") is not None:
        shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
    if shape is None and kwargs.get("input_dim") is not None:
        shape = (kwargs.get("batch_size"), kwargs["input_dim"])
    return tuple(shape) if shape is not None else None


class LayerConfig:
    """Mixin of `Layer`: Keras' config round trip and build config."""

    def get_config(self):
        """Keras 3's config dict (arguments to rebuild the layer)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name", dtype)  # quantized: refused
        return cls(**config)

    def build_from_config(self, config):
        """Keras' `build_from_config`: builds the layer for `config["input_shape"]` (the
        `get_build_config()` of a built layer; a list of shapes for several inputs)."""
        if "shapes_dict" in (config or {}):  # a `build` with several arguments
            self.build(**config["shapes_dict"])
            return
        shape = (config or {}).get("input_shape")
        if shape is None:
            return
        if shape and all(isinstance(s, (list, tuple)) for s in shape):
            self.build_eagerly(*[jax.ShapeDtypeStruct(
                tuple(1 if d is None else d for d in s), self._dtype_policy.variable_dtype)
                for s in shape])
        else:
            self.build(tuple(shape))

    def get_build_config(self):
        recorded = self.__dict__.get("_build_args")
        if recorded is not None:  # a hand-called `build` with several arguments
            return {"shapes_dict": dict(recorded)}
        if self._build_shapes is None:
            return None
        shapes = self._build_shapes
        return {"input_shape": list(shapes[0]) if len(shapes) == 1 else [list(s) for s in shapes]}
