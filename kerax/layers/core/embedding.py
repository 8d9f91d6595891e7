import warnings

import jax.numpy as jnp
import numpy as np

from kerax import constraints, initializers, ops, quantizers, regularizers
from kerax.layers.core import lora, quantization
from kerax.quantizers import quantization_config as config_lib
from kerax.quantizers.quantizers import dequantize_with_sz_map
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


def _positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value} "
            f"(of type {type(value).__name__})."
        )


class Embedding(quantization.QuantizationMixin, lora.LoraMixin, Layer):
    """Turns integer indices into dense vectors: row `i` of an `(input_dim, output_dim)`
    table.

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each embedding vector.
        embeddings_initializer: initializer of the table (Keras' default `"uniform"`,
            i.e. `RandomUniform(-0.05, 0.05)`).
        embeddings_regularizer, embeddings_constraint: optional.
        mask_zero: whether index 0 is padding; then `compute_mask(inputs)` is
            `inputs != 0` and containers pass it downstream (see `kerax.layers.core.masking`).
        weights: optional initial table (a list holding one array, or the array).
        input_length: deprecated in Keras 3 and ignored (a warning is shown).
        lora_rank, lora_alpha: LoRA, as in `Dense`, with factors `lora_embeddings_a`
            `(input_dim, lora_rank)` and `lora_embeddings_b` `(lora_rank, output_dim)`.
        quantization_config: a `kerax.quantizers.QuantizationConfig` used when the layer is
            built with a quantized dtype policy (`quantize("int8", config)` sets it too).

    Input shape: integer array `(batch, ...)`. Output shape: `(batch, ..., output_dim)`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = Embedding(10, 3, mask_zero=True)
    >>> ids = jnp.array([[4, 0]])
    >>> v = layer.init(jax.random.PRNGKey(0), ids)
    >>> layer.apply(v, ids)[0].shape
    (1, 2, 3)
    >>> layer.compute_mask(ids).tolist()
    [[True, False]]
    """

    _lora_target = lora.LoraTarget("embeddings", "lora_embeddings_a", "lora_embeddings_b",
                                   "embeddings_constraint", "embeddings_regularizer")
    _quantize_target = quantization.QuantizeTarget("embeddings", "embeddings_scale")
    _quantize_modes = ("int8", "int4")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        _positive_int(input_dim, "input_dim")
        _positive_int(output_dim, "output_dim")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        if weights is not None and not (isinstance(weights, list) and len(weights) == 1):
            weights = [weights]
        super().__init__(weights=weights, **kwargs)
        self.autocast = False  # as Keras: float inputs of `reverse=True` keep their dtype
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        # Keras 3.15's `build` calls `enable_lora(lora_rank)`, which resets the alpha.
        self._lora_init(lora_rank, lora_rank if lora_rank else lora_alpha)
        self._quantization_init(quantization_config)

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        shape = (self.input_dim, self.output_dim)
        params = {"embeddings": self.embeddings_initializer(shape, self.dtype, key=key)}
        params.update(self._lora_factors(key, shape))
        if self.quantization_mode is not None:
            return self._quantized_build(params, shape)
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        params = self._lora_params(params)
        ids = jnp.asarray(inputs)
        if ids.dtype not in (jnp.int32, jnp.int64):
            ids = ids.astype(jnp.int32)
        return jnp.take(params["embeddings"], ids, axis=0).astype(self.compute_dtype), state

    # ------------------------------------------------------------ quantization --
    def _int8_weight(self, embeddings, config):
        # One scale per row (per token): `input_dim` is usually the larger axis.
        quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
            config, quantizers.AbsMaxQuantizer(axis=-1))
        value, scale = quantizer(embeddings, to_numpy=True)
        return value, jnp.squeeze(scale, axis=-1)

    def _int8_scale_shape(self, embeddings_shape):
        return (self.input_dim,)

    def _int8_forward(self, params, state, inputs):
        ids = jnp.asarray(inputs)
        if ids.dtype not in (jnp.int32, jnp.int64):
            ids = ids.astype(jnp.int32)
        scale = jnp.take(state["embeddings_scale"].astype(self.compute_dtype), ids, axis=0)
        rows = jnp.take(state["embeddings"], ids, axis=0)
        return rows.astype(self.compute_dtype) / jnp.expand_dims(scale, -1)

    def _int4_quantize(self, params, config):
        # Keras: per-row scales, or groups of `block_size` entries along `output_dim`.
        table = np.asarray(params.pop("embeddings"))
        block_size = quantization.int4_block_size(config)
        out = {}
        if block_size is None:
            quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
                config, quantizers.AbsMaxQuantizer(axis=-1, value_range=(-8, 7)))
            value, scale = quantizer(table, to_numpy=True)
            scale = jnp.squeeze(scale, axis=-1)
        else:
            value, scale, zero = (a.T for a in quantizers.abs_max_quantize_grouped_with_zero_point(
                table.T, block_size=block_size, to_numpy=True))
            out = {"embeddings_zero": zero,
                   "g_idx": quantization.group_index(self.output_dim, block_size)}
        packed, _, _ = quantizers.pack_int4(value, axis=-1)
        return {"embeddings": packed, "embeddings_scale": scale.astype(self.dtype), **out}

    def _int4_placeholders(self, base_shape):
        block_size = config_lib.block_size_for_layer(self, self.quantization_config)
        out = {"embeddings": jnp.zeros((self.input_dim, (self.output_dim + 1) // 2), jnp.int8)}
        if block_size is None or block_size == -1:
            out["embeddings_scale"] = jnp.ones((self.input_dim,), self.dtype)
            return out
        groups = -(-self.output_dim // block_size)
        out["embeddings_scale"] = jnp.ones((self.input_dim, groups), self.dtype)
        out["embeddings_zero"] = jnp.zeros((self.input_dim, groups), jnp.int8)
        out["g_idx"] = quantization.group_index(self.output_dim, block_size)
        return out

    def _int4_forward(self, params, state, inputs):
        ids = jnp.asarray(inputs)
        if ids.dtype not in (jnp.int32, jnp.int64):
            ids = ids.astype(jnp.int32)
        compute = self.compute_dtype
        table = quantizers.unpack_int4(state["embeddings"], self.output_dim, axis=-1)
        rows = jnp.take(table, ids, axis=0).astype(compute)
        scale = jnp.take(state["embeddings_scale"].astype(compute), ids, axis=0)
        if "embeddings_zero" not in state:
            return rows / jnp.expand_dims(scale, -1)
        zero = jnp.take(state["embeddings_zero"], ids, axis=0)
        return dequantize_with_sz_map(rows, scale, zero, state["g_idx"], group_axis=-1)

    def _serialization_spec(self):
        if self.quantization_mode == "int4":
            return ("embeddings", "embeddings_scale", "embeddings_zero", "g_idx")
        return ("embeddings", "embeddings_scale")

    def compute_mask(self, inputs, previous_mask=None):
        """`inputs != 0` when `mask_zero`, else None; on a symbolic input (a
        `kerax.Input`), a symbolic mask, as in Keras.

        Example:
        >>> import kerax
        >>> layer = kerax.layers.Embedding(10, 4, mask_zero=True)
        >>> layer.compute_mask(kerax.Input((None,), dtype="int32")).shape
        (None, None)
        """
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    @property
    def embeddings(self):
        """The table's variable; under LoRA, the merged table (an array), as in Keras;
        int4: the unpacked `(input_dim, output_dim)` int8 values (an array), as in Keras."""
        self._require_built("embeddings")
        if self.quantization_mode == "int4":
            return quantizers.unpack_int4(self._built_view("state", "embeddings").value,
                                          self.output_dim, axis=-1)
        return self._lora_merged_value()

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"embeddings": (self.embeddings_regularizer, self.embeddings_constraint),
                **self._lora_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {
            **super().get_config(),
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": ser(self.embeddings_regularizer),
            "activity_regularizer": ser(self.activity_regularizer),
            "embeddings_constraint": ser(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": self._quantized_config(),
        }
        if self.lora_rank:
            config["lora_rank"], config["lora_alpha"] = self.lora_rank, self.lora_alpha
        return config

