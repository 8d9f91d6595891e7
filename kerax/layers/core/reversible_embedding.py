"""`ReversibleEmbedding`: an `Embedding` that can also project back to the vocabulary."""

import jax
import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers import unsupported
from kerax.layers.core.embedding import Embedding
from kerax.layers.layer import shapes_of


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
        unsupported.check_quantization_config("ReversibleEmbedding",
                                              kwargs.get("quantization_config"))
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        if self.quantization_mode is not None:
            raise NotImplementedError(
                f"ReversibleEmbedding: kerax does not quantize this layer yet (received "
                f"dtype={self.dtype_policy.name!r}); Dense, EinsumDense and Embedding "
                "quantize. Use a float policy such as 'float32'."
            )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        emb_key, rev_key = jax.random.split(key)
        params, state = super().build_variables(emb_key, *inputs)
        if not self.tie_weights:
            shape = (self.output_dim, self.input_dim)
            params["reverse_embeddings"] = self.embeddings_initializer(shape, self.dtype,
                                                                       key=rev_key)
        return params, state

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
        logits = jnp.matmul(x, kernel)
        if self.logit_soft_cap is not None:
            cap = jnp.asarray(self.logit_soft_cap, logits.dtype)
            logits = jnp.tanh(logits / cap) * cap
        return logits, state

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
        return self._built_view("params", "reverse_embeddings")

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}


__all__ = ["ReversibleEmbedding"]
