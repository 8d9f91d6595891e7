"""The attention computation shared by MultiHeadAttention and GroupQueryAttention.

Keras 3 takes one of two paths, with one visible difference: when the projected query is
4-D and neither dropout nor the scores are needed it calls `dot_product_attention`, where
a query step whose keys are all masked attends uniformly; otherwise it uses a masked
softmax, where such a step gets all-zero weights. Both are reproduced here.
"""

import string

import jax
import jax.numpy as jnp

from kerax.layers.regularization import _noise


def combine_masks(query, value, query_mask=None, value_mask=None, key_mask=None,
                  attention_mask=None, use_causal_mask=False, sliding_window=None):
    """Keras' attention mask `(B, T, S)` from the per-input masks (None if no mask)."""
    auto = None

    def _and(a, b):
        return b if a is None else a & b

    if query_mask is not None:
        auto = jnp.expand_dims(jnp.asarray(query_mask).astype(bool), -1)
    if value_mask is not None:
        auto = _and(auto, jnp.expand_dims(jnp.asarray(value_mask).astype(bool), -2))
    if key_mask is not None:
        auto = _and(auto, jnp.expand_dims(jnp.asarray(key_mask).astype(bool), -2))
    t, s = query.shape[1], value.shape[1]
    rows, cols = jnp.arange(t)[:, None], jnp.arange(s)[None, :]
    if use_causal_mask:
        auto = _and(auto, (rows >= cols)[None])
    if sliding_window is not None:
        auto = _and(auto, (jnp.abs(rows - cols) < sliding_window)[None])
    if attention_mask is not None:
        attention_mask = jnp.asarray(attention_mask).astype(bool)
        return attention_mask if auto is None else attention_mask & auto
    return auto


def attention_equations(rank, attn_axes):
    """Einsum equations `(key, query) -> scores` and `(scores, value) -> output`."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, extra = list(target), iter(letters[rank:])
    for i in attn_axes:
        source[i] = next(extra)
    source = "".join(source)
    product = "".join([target[i] for i in batch] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def attend(layer, query, key, value, mask, *, scale, n_attn_axes, dot_eq, combine_eq,
           dropout, return_scores, training, rng):
    """Scaled dot-product attention over projected `(B, T.., N, H)` tensors."""
    fused = not (dropout > 0 or return_scores or query.ndim != 4)
    scores = jnp.einsum(dot_eq, key, query * jnp.asarray(scale, query.dtype))
    axes = tuple(range(scores.ndim - n_attn_axes, scores.ndim))
    if mask is not None:
        while mask.ndim < scores.ndim:
            mask = jnp.expand_dims(mask, -2 * n_attn_axes - 1)
        low = -0.7 * jnp.finfo(scores.dtype).max if fused else -1e9
        scores = jnp.where(mask, scores, jnp.asarray(low, scores.dtype))
    weights = jax.nn.softmax(scores, axis=axes)
    if mask is not None and not fused:
        weights = jnp.where(mask, weights, 0.0)
    used = weights
    if training and dropout > 0:
        _noise.require_rng(layer, rng)
        keep = jax.random.bernoulli(rng, 1.0 - dropout, weights.shape)
        used = jnp.where(keep, weights / (1.0 - dropout), 0.0).astype(weights.dtype)
    return jnp.einsum(combine_eq, used, value), weights
