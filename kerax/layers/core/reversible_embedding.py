"""`ReversibleEmbedding`: an `Embedding` that can also project back to the vocabulary."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax import quantizers
from kerax.errors import LayerShapeError
from kerax.layers.core import quantization
from kerax.layers.core.embedding import Embedding
from kerax.layers.layer import shapes_of
from kerax.quantizers.quantizers import dequantize_with_sz_map


class ReversibleEmbedding(Embedding):
    """An embedding that can be called in reverse to map vectors back to vocabulary logits.

    Called normally it is an `Embedding`. Called with `reverse=True` it projects inputs
    of shape `(..., output_dim)` to logits of shape `(..., input_dim)`, with the
    transposed `embeddings` table (`tie_weights=True`, the default) or with a separate
    trainable `reverse_embeddings` table of shape `(output_dim, input_dim)`.

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each embedding vector.
        tie_weights: whether the reverse projection reuses the transposed `embeddings`.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint, mask_zero:
            as in `Embedding` (the initializer also fills `reverse_embeddings`).
        reverse_dtype: dtype of the reverse projection (default: the compute dtype).
        logit_soft_cap: if set, reverse logits become
            `tanh(logits / logit_soft_cap) * logit_soft_cap`.

    Call arguments:
        inputs: integer ids, or with `reverse=True` vectors `(..., output_dim)`.
        reverse: whether to project back to `input_dim` logits (default False).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = ReversibleEmbedding(10, 4)
    >>> ids = jnp.array([[1, 2, 3]])
    >>> v = layer.init(jax.random.PRNGKey(0), ids)
    >>> hidden, _ = layer.apply(v, ids)
    >>> hidden.shape
    (1, 3, 4)
    >>> layer.apply(v, hidden, reverse=True)[0].shape
    (1, 3, 10)
    """

    _quantize_target = quantization.QuantizeTarget("embeddings", "embeddings_scale")
    _inputs_quantizer_args = {"axis": -1}  # int8 `reverse=True`: the hidden states

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        if logit_soft_cap is not None and (
                isinstance(logit_soft_cap, bool) or not isinstance(logit_soft_cap, (int, float))
                or logit_soft_cap <= 0):
            raise ValueError(
                "ReversibleEmbedding: `logit_soft_cap` must be None or a positive number. "
                f"Received: logit_soft_cap={logit_soft_cap!r}."
            )
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        emb_key, rev_key = jax.random.split(key)
        params, state = super().build_variables(emb_key, *inputs)
        if not self.tie_weights and self.quantization_mode is None:
            shape = (self.output_dim, self.input_dim)
            params["reverse_embeddings"] = self.embeddings_initializer(shape, self.dtype,
                                                                       key=rev_key)
        return params, state

    # ------------------------------------------------------------ quantization --
    def _int8_quantize(self, params, config):
        out = super()._int8_quantize(params, config)
        if not self.tie_weights:  # one scale per vocabulary entry (a column here)
            quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
                config, quantizers.AbsMaxQuantizer(axis=0))
            value, scale = quantizer(np.asarray(params.pop("reverse_embeddings")),
                                     to_numpy=True)
            out.update(reverse_embeddings=value,
                       reverse_embeddings_scale=jnp.squeeze(scale, axis=0))
        return out

    def _int8_placeholders(self, base_shape):
        out = super()._int8_placeholders(base_shape)
        if not self.tie_weights:
            out.update(reverse_embeddings=jnp.zeros((self.output_dim, self.input_dim),
                                                    jnp.int8),
                       reverse_embeddings_scale=jnp.ones((self.input_dim,), self.dtype))
        return out

    def _int4_quantize(self, params, config):
        out = super()._int4_quantize(params, config)
        if self.tie_weights:
            return out
        # Keras: one scale per vocabulary entry (a column here), or groups along
        # `output_dim` with zero points (kept in the float dtype, as Keras' variable);
        # packed along `output_dim`.
        table = np.asarray(params.pop("reverse_embeddings"))
        block_size = quantization.int4_block_size(config)
        if block_size is None:
            quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
                config, quantizers.AbsMaxQuantizer(axis=0, value_range=(-8, 7)))
            value, scale = quantizer(table, to_numpy=True)
            zero, scale = None, jnp.squeeze(scale, axis=0)
        else:
            value, scale, zero = quantizers.abs_max_quantize_grouped_with_zero_point(
                table, block_size=block_size, to_numpy=True)
        packed, _, _ = quantizers.pack_int4(value, axis=0)
        out.update(reverse_embeddings=packed, reverse_embeddings_scale=scale.astype(self.dtype))
        if zero is not None:
            out["reverse_embeddings_zero"] = zero.astype(self.dtype)
        return out

    def _int4_placeholders(self, base_shape):
        out = super()._int4_placeholders(base_shape)
        if self.tie_weights:
            return out
        out["reverse_embeddings"] = jnp.zeros(((self.output_dim + 1) // 2, self.input_dim),
                                              jnp.int8)
        if "embeddings_zero" not in out:
            out["reverse_embeddings_scale"] = jnp.ones((self.input_dim,), self.dtype)
            return out
        groups = out["embeddings_zero"].shape[1]
        out["reverse_embeddings_scale"] = jnp.ones((groups, self.input_dim), self.dtype)
        out["reverse_embeddings_zero"] = jnp.zeros((groups, self.input_dim), self.dtype)
        return out

    def _serialization_spec(self):
        tail = () if self.tie_weights else ("reverse_embeddings", "reverse_embeddings_scale")
        if not self.tie_weights and self.quantization_mode == "int4":
            tail += ("reverse_embeddings_zero",)
        return super()._serialization_spec() + tail

    def quantized_forward(self, params, state, inputs, training=False, rng=None,
                          reverse=False, **kwargs):
        if not reverse:
            return super().quantized_forward(params, state, inputs, training=training, rng=rng)
        if self.quantization_mode == "int4":
            return self._soft_cap(self._int4_reverse(state, inputs)), state
        if self.tie_weights:
            kernel, scale = state["embeddings"].T, state["embeddings_scale"]
        else:
            kernel, scale = state["reverse_embeddings"], state["reverse_embeddings_scale"]
        compute = self.compute_dtype
        quantizer = self.inputs_quantizer
        x = jnp.asarray(inputs)
        if quantizer:
            x, inputs_scale = quantizer(x)
        else:
            inputs_scale = jnp.ones((1,), compute)
        logits = jnp.matmul(x, kernel,
                            preferred_element_type=quantization.accumulation_dtype(x, kernel))
        logits = logits.astype(compute) / (inputs_scale * scale.astype(compute))
        return self._soft_cap(logits), state

    def _int4_reverse(self, state, inputs):
        """Keras' int4 reverse projection: the unpacked `(output_dim, input_dim)` table,
        per-channel scales after the matmul, or the grouped table dequantized before it."""
        compute, quantizer = self.compute_dtype, self.inputs_quantizer
        if self.tie_weights:
            packed, scale = state["embeddings"].T, state["embeddings_scale"]
            zero = state.get("embeddings_zero")
            scale, zero = (scale, None) if zero is None else (scale.T, zero.T)
        else:
            packed, scale = state["reverse_embeddings"], state["reverse_embeddings_scale"]
            zero = state.get("reverse_embeddings_zero")
        table = quantizers.unpack_int4(packed, self.output_dim, axis=0)
        x = jnp.asarray(inputs)
        if quantizer:
            x, inputs_scale = quantizer(x)
        else:
            inputs_scale = jnp.ones((1,), compute)
        if zero is None:
            logits = jnp.matmul(x, table, preferred_element_type=quantization.accumulation_dtype(
                x, table))
            return logits.astype(compute) / (inputs_scale * scale.astype(compute))
        table = dequantize_with_sz_map(table.astype(compute), scale.astype(compute), zero,
                                       state["g_idx"], group_axis=0)
        return jnp.matmul(x, table) / inputs_scale

    def _soft_cap(self, logits):
        if self.logit_soft_cap is None:
            return logits
        cap = jnp.asarray(self.logit_soft_cap, logits.dtype)
        return jnp.tanh(logits / cap) * cap

    def forward(self, params, state, inputs, training=False, rng=None, reverse=False,
                **kwargs):
        params = self._lora_params(params)
        if not reverse:
            return super().forward(params, state, inputs, training=training, rng=rng)
        x = jnp.asarray(inputs)
        if x.ndim < 1 or x.shape[-1] != self.output_dim:
            raise LayerShapeError(
                f"ReversibleEmbedding '{self.name}': with `reverse=True` expected inputs "
                f"whose last axis is output_dim={self.output_dim}, received input of shape "
                f"{tuple(x.shape)}. Pass the hidden states `(..., {self.output_dim})`."
            )
        if self.tie_weights:
            kernel = jnp.transpose(params["embeddings"])
        else:
            kernel = params["reverse_embeddings"]
        if self.reverse_dtype is not None:
            x, kernel = x.astype(self.reverse_dtype), kernel.astype(self.reverse_dtype)
        else:
            dtype = jnp.result_type(x.dtype, kernel.dtype)
            x, kernel = x.astype(dtype), kernel.astype(dtype)
        return self._soft_cap(jnp.matmul(x, kernel)), state

    def compute_mask(self, inputs, previous_mask=None):
        """`inputs != 0` for integer ids when `mask_zero`; None in reverse (float inputs)."""
        dtype = inputs.dtype if hasattr(inputs, "dtype") else jnp.asarray(inputs).dtype
        if not jnp.issubdtype(jnp.dtype(dtype), jnp.integer):  # a KerasTensor's "int32" too
            return None
        return super().compute_mask(inputs, previous_mask)

    @property
    def reverse_embeddings(self):
        self._require_built("reverse_embeddings")
        if self.tie_weights:
            raise AttributeError(
                f"ReversibleEmbedding '{self.name}' ties its weights, so it has no "
                "`reverse_embeddings`; the reverse projection uses `embeddings` transposed. "
                "Build it with `tie_weights=False` for a separate table."
            )
        return self._built_view("params" if self.quantization_mode is None else "state",
                                "reverse_embeddings")

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}


__all__ = ["ReversibleEmbedding"]
