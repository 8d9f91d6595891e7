"""Quantization configs (`keras.quantizers.QuantizationConfig` and its modes): which
quantizers `quantize` uses for weights and activations, and the mode they imply."""

from kerax.dtype_policies.dtype_policy import QUANTIZATION_MODES
from kerax.quantizers.quantizers import AbsMaxQuantizer
from kerax.serialization import serialization_lib


class QuantizationConfig:
    """Base class of quantization configs: a weight quantizer and an activation quantizer.

    Args:
        weight_quantizer: quantizer of the weights (None: the mode's default).
        activation_quantizer: quantizer of the inputs (None: weights only).
    """

    _keras_module = "keras.quantizers"

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self):
        raise NotImplementedError(
            "Subclasses must implement this property. Do not instantiate "
            "QuantizationConfig directly."
        )

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {"weight_quantizer": ser(self.weight_quantizer),
                "activation_quantizer": ser(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config):
        de = serialization_lib.deserialize_keras_object
        return cls(weight_quantizer=de(config.get("weight_quantizer")),
                   activation_quantizer=de(config.get("activation_quantizer")))

    @staticmethod
    def weight_quantizer_or_default(config, default):
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        return config.activation_quantizer if config is not None else default


class Int8QuantizationConfig(QuantizationConfig):
    """Int8 quantization: int8 weights with per-channel scales and, by default, inputs
    quantized to int8 on the fly (`AbsMaxQuantizer` over the contracted axis).

    Example:
    >>> config = Int8QuantizationConfig()
    >>> config.mode, type(config.activation_quantizer).__name__
    ('int8', 'AbsMaxQuantizer')
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if self.weight_quantizer is not None and self.weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={self.weight_quantizer.output_dtype}"
            )

    @property
    def mode(self):
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """Int4 quantization: weights as int4 values (two per int8 byte), inputs in float
    unless an `activation_quantizer` is given.

    Args:
        weight_quantizer: per-channel only: an `AbsMaxQuantizer` with `value_range=(-8, 7)`
            and `output_dtype="int8"` (None: the default one).
        activation_quantizer: quantizer of the inputs; `"default"` and None: weight-only.
        block_size: rows of the kernel per group for sub-channel (asymmetric, with zero
            points) quantization; None or -1: per-channel (one scale per output).

    Example:
    >>> config = Int4QuantizationConfig()
    >>> config.mode, config.block_size, config.activation_quantizer
    ('int4', 128, None)
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError("block_size must be None, -1, or a positive integer. "
                             f"Received: block_size={block_size}")
        self.block_size = block_size
        if block_size is not None and block_size > 0 and (
                self.weight_quantizer is not None or self.activation_quantizer is not None):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel "
                "quantization, or remove the custom quantizer arguments. Received: "
                f"block_size={block_size}")
        if self.weight_quantizer is not None:
            value_range = getattr(self.weight_quantizer, "value_range", None)
            if value_range is None or tuple(value_range) != (-8, 7):
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with "
                    f"value_range=(-8, 7). Received: value_range={value_range}")
            if self.weight_quantizer.output_dtype != "int8":
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with "
                    f"output_dtype='int8'. Received: "
                    f"output_dtype={self.weight_quantizer.output_dtype}")

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        de = serialization_lib.deserialize_keras_object
        # A config written before `block_size` existed was per-channel (Keras' rule).
        return cls(weight_quantizer=de(config.get("weight_quantizer")),
                   activation_quantizer=de(config.get("activation_quantizer")),
                   block_size=config.get("block_size", None))


def block_size_for_layer(layer, config):
    """The int4 block size of `layer` (None: per-channel): the config's, else its
    `Int4DTypePolicy`'s (Keras' `get_block_size_for_layer`).

    Example:
    >>> from kerax.layers import Dense
    >>> block_size_for_layer(Dense(2, dtype="int4/-1_from_float32"), None) is None
    True
    >>> block_size_for_layer(Dense(2), Int4QuantizationConfig(block_size=32))
    32
    """
    if isinstance(config, Int4QuantizationConfig):
        return config.block_size
    block_size = getattr(layer.dtype_policy, "block_size", None)
    return None if block_size == -1 else block_size


class Float8QuantizationConfig(QuantizationConfig):
    """Float8 quantization (delayed-scaling float8 matmuls); takes no quantizers.

    Example:
    >>> Float8QuantizationConfig().mode
    'float8'
    """

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self):
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


SUPPORTED_MODES = ("int8", "float8", "int4")


def validate_and_resolve_config(mode, config):
    """The config `quantize(mode, config)` uses: the mode's default config when `config`
    is None; checks that `mode` and `config` agree.

    Example:
    >>> validate_and_resolve_config("int8", None).mode
    'int8'
    >>> validate_and_resolve_config(None, Float8QuantizationConfig()).mode
    'float8'
    """
    if isinstance(config, str):
        mode, config = config, None
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError(
            f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
            f"Received: mode={mode}"
        )
    if config is None:
        if mode == "int8":
            config = Int8QuantizationConfig()
        elif mode == "float8":
            config = Float8QuantizationConfig()
        elif mode == "int4":
            config = Int4QuantizationConfig()
        elif mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        else:
            raise NotImplementedError(
                f"kerax does not implement quantization mode {mode!r} (Keras 3's calibrated "
                f"'gptq' and 'awq' modes); the supported modes are {SUPPORTED_MODES}."
            )
    elif not isinstance(config, QuantizationConfig):
        raise ValueError(
            "Argument `config` must be an instance of `QuantizationConfig`. "
            f"Received: config={config} (of type {type(config)})"
        )
    if mode is not None and config.mode != mode:
        raise ValueError(
            f"Contradictory arguments: mode='{mode}' but config.mode='{config.mode}'"
        )
    return config


__all__ = ["QuantizationConfig", "Int8QuantizationConfig", "Int4QuantizationConfig",
           "Float8QuantizationConfig", "block_size_for_layer", "validate_and_resolve_config"]
