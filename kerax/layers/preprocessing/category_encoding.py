"""`CategoryEncoding`: integer ids to one-hot, multi-hot or count vectors."""

import jax
import jax.numpy as jnp

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def encode(ids, output_mode, depth, dtype, count_weights=None):
    """Keras' `encode_categorical_inputs` for `one_hot`, `multi_hot`, `count` and `int`."""
    ids = jnp.asarray(ids)
    if output_mode == "int":
        return ids.astype(dtype)
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return jax.nn.one_hot(ids, depth, dtype=dtype)
    hot = jax.nn.one_hot(ids, depth, dtype=dtype if count_weights is None else
                         jnp.asarray(count_weights).dtype)
    if output_mode == "multi_hot":
        return jnp.max(hot, axis=-2).astype(dtype)
    if count_weights is not None:
        hot = hot * jnp.asarray(count_weights)[..., None]
    return jnp.sum(hot, axis=1 if ids.ndim > 1 else 0)


class CategoryEncoding(Layer):
    """Encodes integer ids in `[0, num_tokens)` as dense vectors.

    Args:
        num_tokens: the number of distinct ids (the output's last size).
        output_mode: `"multi_hot"` (default; one vector per sample with 1 for each id
            present), `"one_hot"` (one vector per id) or `"count"` (how often each id
            occurs; `count_weights=` weights the counts).
        sparse: must be False (JAX arrays are dense).

    Example:
    >>> import numpy as np
    >>> CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1]])).tolist()
    [[1.0, 2.0, 0.0, 0.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise unknown_identifier("output_mode", output_mode, OUTPUT_MODES)
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of "
                             "tokens is not known beforehand, use the IntegerLookup layer "
                             "instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: `sparse=True` is not supported by kerax (JAX "
                             "arrays are dense). Use `sparse=False`.")
        super().__init__(**kwargs)
        self.num_tokens, self.output_mode, self.sparse = num_tokens, output_mode, sparse

    def forward(self, params, state, inputs, count_weights=None, training=False, rng=None,
                **kwargs):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not "
                             f"`'count'`. Received `count_weights={count_weights}`.")
        ids = jnp.asarray(inputs).astype("int32")
        return encode(ids, self.output_mode, self.num_tokens, self.dtype, count_weights), state

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}
