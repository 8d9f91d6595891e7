import jax
import jax.numpy as jnp

from kerax.backend.keras_tensor import KerasTensor
from kerax.layers import seed_state
from kerax.layers.layer import Layer, shapes_of
from kerax.random.seed_generator import SeedGenerator


def _as_list(layer, inputs):
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if len(inputs) == 1:
        raise ValueError(
            f"{type(layer).__name__} layer must be called on a list of inputs, namely "
            f"[query, value] or [query, value, key]. Received: one input of shape "
            f"{tuple(getattr(inputs[0], 'shape', ()))}."
        )
    if not 2 <= len(inputs) <= 3:
        raise ValueError(
            f"{type(layer).__name__} layer accepts inputs list of length 2 or 3, namely "
            f"[query, value] or [query, value, key]. Received length: {len(inputs)}."
        )
    return list(inputs)


class Attention(Layer):
    """Dot-product (Luong-style) attention over `[query, value]` or `[query, value, key]`.

    `scores = query @ key^T` (times a learned scalar `scale` if `use_scale`), or with
    `score_mode="concat"`, `concat_score_weight * sum(tanh(query + key))`; the output is
    `softmax(scores) @ value`.

    Args:
        use_scale: whether to learn a scalar `scale` for the scores.
        score_mode: `"dot"` or `"concat"`.
        dropout: dropout rate on the attention weights. With `dropout > 0` the layer owns a
            `SeedGenerator` as Keras' does: the mask comes from `rng`, or without one from
            its seed state (see `kerax.layers.seed_state`).
        seed: optional int, the initial seed state of the dropout (random when None).

    Call arguments: `inputs` (list), `mask=[query_mask, value_mask]`, `training`,
    `return_attention_scores`, `use_causal_mask`. The output mask is the query mask.

    Example:
    >>> import jax.numpy as jnp
    >>> q, v = jnp.ones((1, 2, 3)), jnp.ones((1, 4, 3))
    >>> layer = Attention()
    >>> layer.apply(layer.init(None, [q, v]), [q, v])[0].shape
    (1, 2, 3)
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.use_scale, self.score_mode = use_scale, score_mode
        self.dropout, self.seed = dropout, seed
        if dropout > 0:  # as Keras: the dropout's seed state (see `seed_state`)
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        _as_list(self, input_shapes)
        params = {}
        if self.use_scale:
            params["scale"] = jnp.ones((), self.dtype)
        if self.score_mode == "concat":
            params["concat_score_weight"] = jnp.ones((), self.dtype)
        return params, seed_state.initial(self)

    def _scores(self, params, query, key):
        scale = params.get("scale")
        if self.score_mode == "dot":
            scores = jnp.matmul(query, jnp.swapaxes(key, -2, -1))
            return scores if scale is None else scores * scale
        pair = jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3)
        if scale is not None:
            pair = scale * pair
        return params["concat_score_weight"] * jnp.sum(jnp.tanh(pair), axis=-1)

    def forward(self, params, state, *inputs, mask=None, training=False, rng=None,
                return_attention_scores=False, use_causal_mask=False, **kwargs):
        inputs = _as_list(self, inputs)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._scores(params, q, k)
        keep = None if v_mask is None else jnp.expand_dims(jnp.asarray(v_mask, bool), -2)
        if use_causal_mask:
            t, s = scores.shape[-2], scores.shape[-1]
            causal = (jnp.arange(t)[:, None] >= jnp.arange(s)[None, :])[None]
            keep = causal if keep is None else keep & causal
        if keep is not None:
            big = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            scores = jnp.where(keep, scores, scores - big)
        weights = jax.nn.softmax(scores, axis=-1)
        used = weights
        if training and self.dropout > 0:
            rng, state = seed_state.draw(self, state, rng)
            drop = jax.random.bernoulli(rng, 1.0 - self.dropout, weights.shape)
            used = jnp.where(drop, weights / (1.0 - self.dropout), 0.0).astype(weights.dtype)
        out = jnp.matmul(used, v)
        if q_mask is not None:
            out = jnp.where(jnp.expand_dims(jnp.asarray(q_mask, bool), -1), out, 0.0)
        return ((out, weights) if return_attention_scores else out), state

    def compute_mask(self, inputs, previous_mask=None):
        """The query mask (`previous_mask[0]`), or None."""
        if not previous_mask or previous_mask[0] is None:
            return None
        mask = previous_mask[0]
        return mask if isinstance(mask, KerasTensor) else jnp.asarray(mask)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}
