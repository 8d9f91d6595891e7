"""Post-training quantization, as Keras 3 does it (`layer.quantize(mode)`).

`Dense`, `EinsumDense` (modes `"int8"`, `"int4"`, `"float8"`), `Embedding` and
`ReversibleEmbedding` (`"int8"`, `"int4"`) take `quantize(mode, config=None)` once built
(or a quantized `dtype_policy` set on the built layer). The layer's dtype policy becomes Keras'
`QuantizedDTypePolicy` (`"int8_from_float32"`; int4: `Int4DTypePolicy`,
`"int4/128_from_float32"`), and its variables change as Keras' `quantized_build` changes
them:

- int8: the float weight `w` (`kernel`, `embeddings`) becomes an int8 `w` plus a float
  `w_scale`, both non-trainable (kerax keeps them in `variables["state"]`, as every
  non-trainable weight; the other weights stay in `"params"` and keep training). The
  layer computes with `w / w_scale`; Dense and EinsumDense also quantize their inputs on
  the fly (int8 x int8 -> int32 matmul), and the gradient reaching the inputs is the one
  of the dequantized kernel (Keras' straight-through custom gradient).
- int4: the kernel, seen as a `(rows, columns)` matrix (rows: the contracted axes), is
  quantized to int4 values stored two per int8 byte along the columns (`kernel` of shape
  `(rows, ceil(columns / 2))`). Per-channel (`block_size` None or -1): a float
  `kernel_scale` per column, `kernel / kernel_scale` as int8. Sub-channel (`block_size`
  n, Keras' default 128): each group of n rows has, per column, a `kernel_scale` and an
  int8 `kernel_zero` (asymmetric), and `g_idx` (float32) maps each row to its group. All
  are non-trainable (`variables["state"]`); inputs stay float unless the config has an
  `activation_quantizer`, and the gradient reaching the inputs is the dequantized
  kernel's. Embedding tables are packed along `output_dim` with a scale per row (or
  groups along `output_dim`); an untied ReversibleEmbedding's `reverse_embeddings` along
  its first axis (Keras' layouts).
- float8: `w` stays float; six float32 scaling variables are added (`inputs_scale`,
  `inputs_amax_history`, `kernel_scale`, ...), and inputs and kernel pass through a
  float8 (e4m3) quantize-dequantize in the matmul. kerax runs float8 layers for inference
  only: Keras trains their scales by overwriting them with gradients, which kerax's
  optimizers do not do, so a training call raises.

A layer built with a quantized policy (a Keras file of a quantized model) is built
directly with the quantized variables, as Keras' `build` does.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from kerax import dtype_policies, quantizers
from kerax.quantizers import quantization_config as config_lib
from kerax.quantizers.quantizers import dequantize_with_sz_map

FLOAT8_VARIABLES = ("inputs_scale", "inputs_amax_history", "kernel_scale",
                    "kernel_amax_history", "outputs_grad_scale", "outputs_grad_amax_history")


class QuantizeTarget(NamedTuple):
    """The weight a layer quantizes (`base`) and the name of its int8 scale."""

    base: str
    scale: str


def straight_through(quantized_fn, float_fn):
    """`quantized_fn(x, *consts)` whose derivative in `x` is that of the linear
    `float_fn(x, *consts)` (Keras' custom gradient for int8 layers: the rounding of the
    inputs is skipped and the dequantized kernel is used). `consts` get no gradient.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> f = straight_through(lambda x, k: jnp.round(x) * k, lambda x, k: x * k)
    >>> float(f(1.4, 3.0)), float(jax.grad(f)(1.4, 3.0))
    (3.0, 3.0)
    """
    @jax.custom_jvp
    def f(x, *consts):
        return quantized_fn(x, *consts)

    @f.defjvp
    def _jvp(primals, tangents):
        x, *consts = primals
        return f(x, *consts), float_fn(tangents[0], *consts)

    return f


def accumulation_dtype(*operands):
    """int32 when every operand is int8 (an int8 matmul accumulates in int32, as Keras
    asks XLA to), else None (the usual promotion).

    Example:
    >>> accumulation_dtype(jnp.ones(2, jnp.int8), jnp.ones(2, jnp.int8))
    dtype('int32')
    """
    if all(jnp.dtype(o.dtype) == jnp.int8 for o in operands):
        return jnp.dtype(jnp.int32)
    return None


def qdq_float8(x, scale, compute_dtype):
    """`x` through a float8 (e4m3) quantize-dequantize with `scale`."""
    return quantizers.quantize_and_dequantize(x, scale, "float8_e4m3fn", compute_dtype)


def float8_bias(bias, compute_dtype):
    """Keras' float8 bias: rounded through bfloat16 when computing in float32."""
    if jnp.dtype(compute_dtype) == jnp.float32:
        return bias.astype(jnp.bfloat16).astype(bias.dtype)
    return bias


class QuantizationMixin:
    """`quantize` for a layer whose class sets `_quantize_target` and `_quantize_modes`.

    The layer supplies `_int8_weight(w, config) -> (int8 w, scale)` (NumPy, as Keras),
    `_int8_scale_shape(w_shape)`, and `_int8_forward` / `_float8_forward(params, state,
    inputs)`; `Layer.apply` runs `quantized_forward` instead of `forward` while the
    layer's policy is quantized.
    """

    _quantize_target = None
    _quantize_modes = ("int8", "int4", "float8")

    def _quantization_init(self, quantization_config):
        if quantization_config is not None and not isinstance(
                quantization_config, config_lib.QuantizationConfig):
            quantization_config = quantizers.deserialize(quantization_config)
        self.quantization_config = quantization_config

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the built layer's weights (Keras' `Layer.quantize`).

        Args:
            mode: `"int8"`, `"int4"` or `"float8"` (Embedding: `"int8"`, `"int4"`);
                optional with `config`.
            type_check: refuse subclasses (their `call` may not use the quantized weights).
            config: a `kerax.quantizers.QuantizationConfig` (default: the mode's).

        Raises:
            ValueError: the mode is unknown or contradicts `config`, the layer is not built,
                or it is already quantized.
            NotImplementedError: the layer does not support the mode.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(3)
        >>> _ = layer(np.ones((1, 4)))
        >>> layer.quantize("int8")
        >>> layer.dtype_policy.name
        'int8_from_float32'
        >>> [(w.name, str(w.dtype)) for w in layer.weights]
        [('bias', 'float32'), ('kernel', 'int8'), ('kernel_scale', 'float32')]
        """
        config = config_lib.validate_and_resolve_config(mode, config)
        mode = config.mode
        self._check_quantize_args(mode)
        if type_check and type(self) is not self._quantize_class():
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize` method implemented.")
        if mode not in self._quantize_modes:
            raise NotImplementedError(
                f"Invalid quantization mode. Expected one of {self._quantize_modes} for "
                f"{type(self).__name__}. Received: quantization_mode={mode}")
        if getattr(self, "lora_enabled", False):
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}': kerax does not quantize a layer with "
                "LoRA enabled (Keras merges the adapter into the quantized weights); "
                "quantize a model without LoRA.")
        variables = self._variables
        params, state = dict(variables["params"]), dict(variables["state"])
        if mode in ("int8", "int4"):
            quantize = self._int8_quantize if mode == "int8" else self._int4_quantize
            quantized = quantize(params, config)
            state.update(quantized)
            self._weight_names = (tuple(n for n in self._weight_names[0] if n not in quantized),
                                  self._weight_names[1] + tuple(quantized))
        else:
            new = self._float8_variables()
            params.update(new)
            self._weight_names = (self._weight_names[0] + tuple(new), self._weight_names[1])
        self._variables = {"params": params, "state": state}
        self.quantization_config = config
        if mode == "int4":
            block_size = config_lib.block_size_for_layer(self, config)
            mode = f"int4/{-1 if block_size is None else block_size}"
        policy = dtype_policies.get(f"{mode}_from_{self.dtype_policy.name}")
        self._dtype_policy, self._dtype = policy, policy.name  # not the quantizing setter

    @classmethod
    def _quantize_class(cls):
        for klass in cls.__mro__:
            if "_quantize_target" in vars(klass):
                return klass
        return cls

    def _check_quantize_args(self, mode):
        if not self.built or self._variables is None:
            raise ValueError(
                "Cannot quantize a layer that isn't yet built. Layer "
                f"'{self.name}' (of type '{type(self).__name__}') is not built yet. Call it "
                "on an input (or `build(input_shape)`) first.")
        if self.quantization_mode is not None:
            raise ValueError(
                f"Layer '{self.name}' is already quantized with "
                f"dtype_policy='{self.dtype_policy.name}'. Received: mode={mode}")
        if mode == "int8" and self.compute_dtype == "float16":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'. "
                "Consider loading model/layer with another dtype policy such as "
                "'mixed_bfloat16' or 'mixed_float16' before calling `quantize()`.")

    # ---------------------------------------------------------------- variables --
    def _int8_quantize(self, params, config):
        """The int8 variables replacing float ones, in Keras' order; the float ones are
        popped from `params`."""
        target = self._quantize_target
        value, scale = self._int8_weight(np.asarray(params.pop(target.base)), config)
        return {target.base: value, target.scale: scale}

    def _int8_placeholders(self, base_shape):
        """Keras' `_int8_build`: int8 zeros and scales of ones, for a quantized build."""
        target = self._quantize_target
        return {target.base: jnp.zeros(base_shape, jnp.int8),
                target.scale: jnp.ones(self._int8_scale_shape(base_shape), self.dtype)}

    def _int4_quantize(self, params, config):
        """Keras' int4 `quantize`: the packed kernel, its scale and, for sub-channel
        quantization, zero points and `g_idx`, in Keras' order; the float kernel is popped."""
        target = self._quantize_target
        kernel = np.asarray(params.pop(target.base))
        rows, columns = self._int4_matrix_shape(kernel.shape)
        flat = kernel.reshape(rows, columns)  # Keras' reshape, in the kernel's axis order
        block_size = int4_block_size(config)
        zero = None
        if block_size is None:
            value, scale = self._int4_per_channel_quantizer(config)(flat, to_numpy=True)
            scale = jnp.squeeze(scale, axis=0)
        else:
            value, scale, zero = quantizers.abs_max_quantize_grouped_with_zero_point(
                flat, block_size=block_size, to_numpy=True)
        packed, _, _ = quantizers.pack_int4(value, axis=-1)
        out = {target.base: packed, target.scale: scale.astype(self.dtype)}
        if zero is not None:
            out.update({f"{target.base}_zero": zero, "g_idx": group_index(rows, block_size)})
        return out

    def _int4_per_channel_quantizer(self, config):
        """The per-channel int4 weight quantizer (Dense: the config's, if any)."""
        return config_lib.QuantizationConfig.weight_quantizer_or_default(
            config, quantizers.AbsMaxQuantizer(axis=0, value_range=(-8, 7)))

    def _int4_placeholders(self, base_shape):
        """Keras' `_int4_build`: zeros, scales of ones and the group index."""
        target = self._quantize_target
        rows, columns = self._int4_matrix_shape(base_shape)
        block_size = config_lib.block_size_for_layer(self, self.quantization_config)
        out = {target.base: jnp.zeros((rows, (columns + 1) // 2), jnp.int8)}
        if block_size is None or block_size == -1:
            out[target.scale] = jnp.ones((columns,), self.dtype)
            return out
        groups = -(-rows // block_size)
        out[target.scale] = jnp.ones((groups, columns), self.dtype)
        out[f"{target.base}_zero"] = jnp.zeros((groups, columns), jnp.int8)
        out["g_idx"] = group_index(rows, block_size)
        return out

    def _int4_weight(self, state, shape, compute):
        """The int4 kernel dequantized to `compute`, in its float `shape`."""
        target = self._quantize_target
        rows, columns = self._int4_matrix_shape(shape)
        unpacked = quantizers.unpack_int4(state[target.base], columns, axis=-1)
        zero = state.get(f"{target.base}_zero")
        if zero is None:
            kernel = unpacked.astype(compute) / state[target.scale].astype(compute)
        else:
            # (the scale in the compute dtype, as Keras autocasts it under mixed precision)
            kernel = dequantize_with_sz_map(
                unpacked, state[target.scale].astype(compute), zero, state["g_idx"],
                group_axis=0)
            kernel = kernel.astype(compute)
        return kernel.reshape(shape)

    def _float8_variables(self):
        length = getattr(self.dtype_policy, "amax_history_length",
                         dtype_policies.QuantizedFloat8DTypePolicy.default_amax_history_length)
        out = {}
        for name in FLOAT8_VARIABLES:
            shape = (length,) if name.endswith("history") else ()
            fill = jnp.zeros if name.endswith("history") else jnp.ones
            out[name] = fill(shape, jnp.float32)
        return out

    def _quantized_build(self, params, base_shape):
        """`(params, state)` of a layer built with a quantized policy (Keras' build order:
        the quantized variables first, zeros and ones until a weights file is loaded)."""
        mode = self.quantization_mode
        if mode == "float8":
            return {**self._float8_variables(), **params}, {}
        placeholders = self._int8_placeholders if mode == "int8" else self._int4_placeholders
        state = placeholders(base_shape)
        return {k: v for k, v in params.items() if k not in state}, state

    # ------------------------------------------------------------------ forward --
    def quantized_forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        """The forward pass of the quantized layer (Keras' `quantized_call`)."""
        if self.quantization_mode == "int8":
            return self._int8_forward(params, state, inputs), state
        if self.quantization_mode == "int4":
            return self._int4_forward(params, state, inputs), state
        if training:
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}' is quantized to float8, which kerax "
                "runs for inference only (Keras trains float8 scales by overwriting them "
                "with their gradients). Train the float model and quantize it afterwards, or "
                "use `quantize('int8')`, whose non-quantized weights train.")
        return self._float8_forward(params, state, inputs), state

    # The default activation quantizer's arguments, for layers whose int8 mode quantizes
    # their inputs (None: no `inputs_quantizer`, as Keras' Embedding).
    _inputs_quantizer_args = None

    @property
    def inputs_quantizer(self):
        """The quantizer of an int8 layer's inputs (Keras' `inputs_quantizer`): the config's
        `activation_quantizer`, an `AbsMaxQuantizer` by default (int4 Dense and
        EinsumDense: None), None for weight-only quantization. As in Keras, only int8- and
        int4-quantized Dense, EinsumDense and ReversibleEmbedding layers have it.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(3)
        >>> _ = layer(np.ones((1, 4)))
        >>> layer.quantize("int8")
        >>> type(layer.inputs_quantizer).__name__
        'AbsMaxQuantizer'
        """
        mode = self.quantization_mode
        if self._inputs_quantizer_args is None or mode not in ("int8", "int4"):
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute 'inputs_quantizer' (only "
                "int8- and int4-quantized Dense, EinsumDense and ReversibleEmbedding layers "
                "have one)")
        kept = self.__dict__.get("_inputs_quantizer_of")
        if kept is None or kept[0] is not self.quantization_config:
            # Keras' int4 Dense and EinsumDense are weight-only unless the config says.
            default = None if mode == "int4" and self._quantize_target.base == "kernel" \
                else quantizers.AbsMaxQuantizer(**self._inputs_quantizer_args)
            quantizer = config_lib.QuantizationConfig.activation_quantizer_or_default(
                self.quantization_config, default)
            kept = self.__dict__["_inputs_quantizer_of"] = (self.quantization_config, quantizer)
        return kept[1]

    # ------------------------------------------------------------ Keras weights file --
    def _keras_own_leaves(self, variables, prefix):
        """This layer's slots in a Keras weights file: for a quantized layer, Keras'
        `variable_serialization_spec` order (`kernel, bias, kernel_scale`)."""
        if self.quantization_mode is None:
            return super()._keras_own_leaves(variables, prefix)
        spec = self._serialization_spec()
        params, state = _at(variables.get("params", {}), prefix), \
            _at(variables.get("state", {}), prefix)
        leaves = []
        for name in spec:
            if name in state:
                leaves.append(("state", prefix + (name,)))
            elif name in params:
                leaves.append(("params", prefix + (name,)))
        return leaves

    def _serialization_spec(self):
        target = self._quantize_target
        if self.quantization_mode == "int8":
            return (target.base, "bias", target.scale)
        if self.quantization_mode == "int4":
            return (target.base, "bias", target.scale, f"{target.base}_zero", "g_idx")
        return (target.base, "bias") + FLOAT8_VARIABLES

    def _quantized_config(self):
        """`quantization_config` as Keras writes it in `get_config`."""
        from_config = self.quantization_config
        if from_config is None:
            return None
        return quantizers.serialize(from_config)


def int4_block_size(config):
    """The block size int4 `quantize` uses (None: per-channel), as Keras reads `config`.

    Example:
    >>> int4_block_size(config_lib.Int4QuantizationConfig(block_size=-1)) is None
    True
    """
    block_size = config.block_size if isinstance(
        config, config_lib.Int4QuantizationConfig) else None
    return None if block_size == -1 else block_size


def group_index(rows, block_size):
    """Keras' `g_idx`: the group of each of `rows` rows, as float32.

    Example:
    >>> group_index(5, 2).tolist()
    [0.0, 0.0, 1.0, 1.0, 2.0]
    """
    return jnp.floor_divide(jnp.arange(rows, dtype=jnp.float32), block_size)


def _at(tree, path):
    for p in path:
        tree = tree.get(p, {})
    return tree


__all__ = ["QuantizationMixin", "QuantizeTarget", "straight_through", "accumulation_dtype",
           "group_index", "int4_block_size",
           "qdq_float8", "float8_bias", "FLOAT8_VARIABLES"]
