import jax.numpy as jnp

from kerax.layers.attention.multi_head_attention import MultiHeadAttention
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import shapes_of


class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention: `num_query_heads` query heads share
    `num_key_value_heads` key/value heads (Keras' `GroupQueryAttention`).

    Weights, in Keras' order: `query` `(dim, num_query_heads, head_dim)`, `key` and
    `value` `(dim, num_key_value_heads, head_dim)`, optional `gate`, and
    `attention_output` `(num_query_heads, head_dim, dim)`, each with a bias when
    `use_bias`. Inputs are `(batch, steps, dim)`; the call arguments are those of
    `MultiHeadAttention`.

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide `num_query_heads`.
        dropout, use_bias, sliding_window, flash_attention, kernel/bias initializers,
            regularizers and constraints, use_gate, seed: as in `MultiHeadAttention`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> gqa = GroupedQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    >>> x = jnp.ones((1, 3, 6))
    >>> v = gqa.init(jax.random.PRNGKey(0), x, x)
    >>> v["params"]["key"]["kernel"].shape, gqa.apply(v, x, x)[0].shape
    ((6, 2, 2), (1, 3, 6))
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        super().__init__(num_heads=num_query_heads, key_dim=head_dim, dropout=dropout,
                         use_bias=use_bias, sliding_window=sliding_window,
                         flash_attention=flash_attention,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         use_gate=use_gate, seed=seed, **kwargs)
        self.head_dim = head_dim
        self.num_query_heads, self.num_key_value_heads = num_query_heads, num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads

    def _build_dense(self, query_shape, value_shape, key_shape):
        dim, h = query_shape[-1], self.head_dim
        q_heads, kv_heads = self.num_query_heads, self.num_key_value_heads
        layers = {
            "query": (self._make_dense("query", "bqm,muh->bquh", (None, q_heads, h), "uh"),
                      query_shape),
            "key": (self._make_dense("key", "bkm,mvh->bkvh", (None, kv_heads, h), "vh"),
                    key_shape),
        }
        if self.use_gate:
            layers["gate"] = (self._make_dense("gate", "bqm,muh->bquh", (None, q_heads, h),
                                               "uh", "sigmoid"), query_shape)
        layers["value"] = (self._make_dense("value", "bkm,mvh->bkvh", (None, kv_heads, h),
                                            "vh"), value_shape)
        layers["attention_output"] = (self._make_dense(
            "attention_output", "bquh,uhm->bqm", (None, dim), "m"),
            (1, 1, q_heads, h))
        return layers

    def build_variables(self, key, query, value, key_input=None):
        query_shape, value_shape = shapes_of(query), shapes_of(value)
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                "The last dimension of `query_shape` and `value_shape` must be equal, but "
                f"are {query_shape[-1]}, {value_shape[-1]}. Received: "
                f"query_shape={tuple(query_shape)}, value_shape={tuple(value_shape)}"
            )
        params, state = super().build_variables(key, query, value, key_input)
        return params, state

    def _query_spec(self, dim):
        return InputSpec(ndim=3, axes={-1: dim})

    def _equations(self, query_rank):
        return (1,), "bkuh,bquh->buqk", "buqk,bkuh->bquh"

    def _expand_kv(self, x):
        return jnp.repeat(x, self.num_repeats, axis=2)

    def get_config(self):
        config = super().get_config()
        for k in ("num_heads", "key_dim", "value_dim", "output_shape", "attention_axes"):
            del config[k]
        return {**config, "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads}


GroupQueryAttention = GroupedQueryAttention
