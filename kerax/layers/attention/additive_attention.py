import jax.numpy as jnp

from kerax import initializers
from kerax.layers import seed_state
from kerax.layers.attention.attention import Attention, _as_list
from kerax.layers.layer import shapes_of


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: `scores = sum(scale * tanh(query + key))`.

    Args:
        use_scale: whether to learn a per-feature `scale` vector (glorot-uniform init).
        dropout: dropout rate on the attention weights (drawn from `rng`, or without one
            from the layer's seed state, as `Attention`).

    Call arguments: as `Attention`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> q, v = jnp.ones((1, 2, 3)), jnp.ones((1, 4, 3))
    >>> layer = AdditiveAttention()
    >>> v_ = layer.init(jax.random.PRNGKey(0), [q, v])
    >>> v_["params"]["scale"].shape, layer.apply(v_, [q, v])[0].shape
    ((3,), (1, 2, 3))
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        shapes = _as_list(self, input_shapes)
        if not self.use_scale:
            return {}, seed_state.initial(self)
        dim = shapes[0][-1]
        return ({"scale": initializers.GlorotUniform()((dim,), self.dtype, key=key)},
                seed_state.initial(self))

    def _scores(self, params, query, key):
        scale = params.get("scale", 1.0)
        return jnp.sum(scale * jnp.tanh(jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3)),
                       axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
