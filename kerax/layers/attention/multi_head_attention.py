import math
import string

import jax

from kerax import constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.backend import naming
from kerax.layers import seed_state, unsupported
from kerax.layers.attention import _core
from kerax.layers.core.einsum_dense import EinsumDense
from kerax.layers.input_spec import InputSpec, assert_input_compatibility
from kerax.layers.layer import Layer, shapes_of
from kerax.random.seed_generator import SeedGenerator
from kerax.serialization import serialization_lib


def _projection(free_dims, bound_dims, output_dims):
    """Keras' projection einsum: (equation, bias axes, output rank)."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out, free_dims + output_dims


def _positive_int(value, name, optional=False):
    if optional and value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a positive integer"
            f"{' or `None`' if optional else ''}. Received: {name}={value}"
        )


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.), with Keras 3's weights and options.

    `query`, `key` and `value` are projected per head by `EinsumDense` sub-layers named
    `query`, `key`, `value` (kernels `(dim, num_heads, key_dim)`), attention is taken over
    `attention_axes`, and `attention_output` (kernel `(num_heads, value_dim, dim)`) maps
    back. Weight order is Keras' (query, key, [gate], value, attention_output; kernel then
    bias), so `set_weights(keras_layer.get_weights())` works.

    Args:
        num_heads, key_dim: number of heads and size of each query/key head.
        value_dim: size of each value head (default `key_dim`).
        dropout: dropout rate on the attention weights; in training the key is `apply`'s
            `rng`, or without one the layer's seed state (`layer.seed_generator`).
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (default: the query's last axis).
        attention_axes: axes attention is taken over (default: all but batch, heads and
            features).
        sliding_window: optional int; a query step sees keys less than this far away.
        flash_attention: accepted for compatibility (XLA picks the kernel).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: for the projections.
        activity_regularizer: must be None (not implemented: raises NotImplementedError).
        use_gate: adds a sigmoid gate `gate` on the attention output (Keras 3.9+).
        seed: the initial seed state of the dropout (random when None).

    Call arguments: `query`, `value`, `key=None`, `query_mask`, `value_mask`, `key_mask`
    (bool `(B, T)` / `(B, S)`), `attention_mask` (bool `(B, T, S)`),
    `return_attention_scores`, `training`, `use_causal_mask`. Unlike Keras on JAX, which
    reads the query mask only from the mask attached to `query`, an explicit
    `query_mask=` is honoured.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=3)
    >>> q, v = jnp.ones((1, 4, 5)), jnp.ones((1, 6, 5))
    >>> variables = mha.init(jax.random.PRNGKey(0), q, v)
    >>> variables["params"]["query"]["kernel"].shape
    (5, 2, 3)
    >>> (y, scores), _ = mha.apply(variables, q, v, return_attention_scores=True)
    >>> y.shape, scores.shape
    ((1, 4, 5), (1, 2, 4, 6))
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        _positive_int(num_heads, "num_heads")
        _positive_int(key_dim, "key_dim")
        _positive_int(value_dim, "value_dim", optional=True)
        _positive_int(sliding_window, "sliding_window", optional=True)
        unsupported.refuse(type(self).__name__, "activity_regularizer", activity_regularizer,
                           hint="kerax does not regularize the projections' activations "
                           "(Keras does, per projection); remove the argument.")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim or key_dim
        self.dropout, self.use_bias, self.use_gate = dropout, use_bias, use_gate
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = tuple(output_shape) if output_shape else None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple. "
                             f"Received: attention_axes={attention_axes}")
        self.attention_axes = tuple(attention_axes) if attention_axes is not None else None
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        if dropout > 0:  # Keras' inner Dropout owns a seed state (see `seed_state`)
            self.seed_generator = SeedGenerator(
                seed, name=f"{self.name}/{naming.auto_name('seed_generator')}")
        self._dense = {}

    def _children(self):
        return dict(self._dense)

    # Keras' names of the projection sub-layers (available once built).
    query_dense = _query_dense = property(lambda self: self._sub_dense("query"))
    key_dense = _key_dense = property(lambda self: self._sub_dense("key"))
    value_dense = _value_dense = property(lambda self: self._sub_dense("value"))
    output_dense = _output_dense = property(lambda self: self._sub_dense("attention_output"))

    def _sub_dense(self, name):
        if name not in self._dense:
            raise AttributeError(
                f"MultiHeadAttention '{self.name}' is not built yet, so it has no "
                f"`{name}` projection. Call it on (query, value) first."
            )
        return self._dense[name]

    def _make_dense(self, name, equation, output_shape, bias_axes, activation=None):
        return EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
            activation=activation, name=name, dtype=self._dtype,
            kernel_initializer=self.kernel_initializer.__class__.from_config(
                self.kernel_initializer.get_config()),
            bias_initializer=self.bias_initializer.__class__.from_config(
                self.bias_initializer.get_config()),
            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint)

    def _build_dense(self, query_shape, value_shape, key_shape):
        rank = len(query_shape)
        heads = lambda r, dims: [None] * (r - 1 - len(dims)) + list(dims)  # noqa: E731
        eq, bias, out_rank = _projection(rank - 1, 1, 2)
        layers = {"query": (self._make_dense("query", eq, heads(out_rank, [self.num_heads,
                                             self.key_dim]), bias), query_shape)}
        eq, bias, out_rank = _projection(len(key_shape) - 1, 1, 2)
        layers["key"] = (self._make_dense("key", eq, heads(out_rank, [self.num_heads,
                                          self.key_dim]), bias), key_shape)
        if self.use_gate:
            eq, bias, out_rank = _projection(rank - 1, 1, 2)
            layers["gate"] = (self._make_dense("gate", eq, heads(out_rank, [
                self.num_heads, self.value_dim]), bias, "sigmoid"), query_shape)
        eq, bias, out_rank = _projection(len(value_shape) - 1, 1, 2)
        layers["value"] = (self._make_dense("value", eq, heads(out_rank, [
            self.num_heads, self.value_dim]), bias), value_shape)
        out_dims = self._output_shape or (query_shape[-1],)
        eq, bias, out_rank = _projection(rank - 1, 2, len(out_dims))
        proj_shape = tuple(query_shape[:-1]) + (self.num_heads, self.value_dim)
        layers["attention_output"] = (self._make_dense(
            "attention_output", eq, heads(out_rank, out_dims), bias), proj_shape)
        return layers

    def build_variables(self, key, query, value, key_input=None):
        query_shape, value_shape = shapes_of(query), shapes_of(value)
        key_shape = value_shape if key_input is None else shapes_of(key_input)
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}"
            )
        layers = self._build_dense(query_shape, value_shape, key_shape)
        params = {}
        for name, (layer, shape) in layers.items():
            spec = jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in shape), self.dtype)
            params[name] = layer.init(host_prng.fold_in(key, len(params)), spec)["params"]
        # Keras' projection sub-layers (`mha.query_dense`); `forward` does not need them.
        self._dense = {name: layer for name, (layer, _) in layers.items()}
        self.input_spec = self._query_spec(query_shape[-1])
        return params, seed_state.initial(self)

    def _variable_leaves(self, variables):
        """Keras' `variables` order: the dropout's seed state sits between the `value` and
        `attention_output` projections (Keras builds its Dropout there)."""
        leaves = super()._variable_leaves(variables)
        seed = ("state", ("seed_generator",))
        if seed not in leaves:
            return leaves
        leaves = [leaf for leaf in leaves if leaf != seed]
        at = next((i for i, (_, path) in enumerate(leaves) if path[0] == "attention_output"),
                  len(leaves))
        return leaves[:at] + [seed] + leaves[at:]

    def _query_spec(self, dim):
        """The input spec Keras' `build` sets: the query's feature size is fixed."""
        return InputSpec(min_ndim=3, axes={-1: dim})

    def _is_container(self):
        return True  # the projections autocast as sub-layers do: never at this level

    def _equations(self, query_rank):
        """`(attention axes, dot equation, combine equation)` for a query of this rank."""
        rank = query_rank + 1
        axes = self.attention_axes
        axes = tuple(range(1, rank - 2)) if axes is None else tuple(
            a if a >= 0 else (rank - 1) + a for a in axes)
        dot_eq, combine_eq, _ = _core.attention_equations(rank, axes)
        return axes, dot_eq, combine_eq

    def _projections(self, query, value, key):
        """The projection layers for these inputs, derived from the config and shapes."""
        layers = self._build_dense(query.shape, value.shape, key.shape)
        return {name: layer for name, (layer, _) in layers.items()}

    def forward(self, params, state, query, value=None, key=None, query_mask=None,
                value_mask=None, key_mask=None, attention_mask=None,
                return_attention_scores=False, training=False, rng=None,
                use_causal_mask=False, **kwargs):
        kernel = params.get("query", {}).get("kernel")
        if kernel is not None and not self.built:  # else `apply` checked `input_spec`
            assert_input_compatibility(self, self._query_spec(kernel.shape[0]), query)
        if value is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' needs `query` and `value` inputs: "
                "call it as `apply(variables, query, value)` (and optionally `key=`)."
            )
        key = value if key is None else key
        mask = _core.combine_masks(query, value, query_mask, value_mask, key_mask,
                                   attention_mask, use_causal_mask, self.sliding_window)
        dense = self._projections(query, value, key)
        project = lambda name, x: dense[name].forward(params[name], {}, x)[0]  # noqa: E731
        gate = project("gate", query) if self.use_gate else None
        q, k, v = project("query", query), project("key", key), project("value", value)
        k, v = self._expand_kv(k), self._expand_kv(v)
        axes, dot_eq, combine_eq = self._equations(query.ndim)
        if training and self.dropout > 0:
            rng, state = seed_state.draw(self, state, rng)
        out, scores = _core.attend(
            self, q, k, v, mask, scale=1.0 / math.sqrt(float(self._head_dim())),
            n_attn_axes=len(axes), dot_eq=dot_eq, combine_eq=combine_eq,
            dropout=self.dropout, return_scores=return_attention_scores,
            training=training, rng=rng)
        if gate is not None:
            out = out * gate
        out = project("attention_output", out)
        return ((out, scores) if return_attention_scores else out), state

    def _head_dim(self):
        return self.key_dim

    def _expand_kv(self, x):
        return x

    @property
    def query_dense(self):
        return self._dense.get("query")

    @property
    def key_dense(self):
        return self._dense.get("key")

    @property
    def value_dense(self):
        return self._dense.get("value")

    @property
    def output_dense(self):
        return self._dense.get("attention_output")

    def param_rules(self):
        """The rules of each projection's params (`params["query"]["kernel"]`, ...): the
        constructor's kernel and bias arguments, as Keras passes them to every projection."""
        projection = {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                      "bias": (self.bias_regularizer, self.bias_constraint)}
        return {name: projection for name in ("query", "key", "gate", "value",
                                              "attention_output")}

    def _common_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "activity_regularizer": ser(self.activity_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "seed": self.seed,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout,
            "use_bias": self.use_bias, "use_gate": self.use_gate,
            "output_shape": self._output_shape, "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window, **self._common_config(),
        }
