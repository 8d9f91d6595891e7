import jax.numpy as jnp

from kerax import activations, constraints, initializers, quantizers, regularizers
from kerax.backend import host_prng
from kerax.layers.core import lora, quantization
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


class Dense(quantization.QuantizationMixin, lora.LoraMixin, Layer):
    """Densely-connected layer: `activation(inputs @ kernel + bias)` on the last axis.

    Args:
        units: positive int, the output size.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (Keras names or objects).
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints applied after updates.
        lora_rank: if set, LoRA of this rank is enabled when the layer is built: the
            kernel is frozen and `kernel + (lora_alpha / lora_rank) * a @ b` is used, with
            trained factors `lora_kernel_a`, `lora_kernel_b` (see `kerax.layers.core.lora`
            and `enable_lora`).
        lora_alpha: scale of the LoRA update. As in Keras 3.15, enabling LoRA through
            `lora_rank` resets it to `lora_rank` (`enable_lora(rank, lora_alpha)` keeps it).
        quantization_config: a `kerax.quantizers.QuantizationConfig` used when the layer is
            built with a quantized dtype policy (`quantize(mode, config)` sets it too).

    Input shape: `(batch, ..., input_dim)`. Output shape: `(batch, ..., units)`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = Dense(4, activation="relu")
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
    >>> variables["params"]["kernel"].shape
    (3, 4)
    >>> sorted(Dense(4, lora_rank=2).init(jax.random.PRNGKey(0), jnp.ones((2, 3)))["params"])
    ['bias', 'kernel', 'lora_kernel_a', 'lora_kernel_b']
    >>> v = Dense(4, dtype="int8_from_float32").init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
    >>> {k: str(a.dtype) for k, a in v["state"].items()}
    {'kernel': 'int8', 'kernel_scale': 'float32'}
    """

    _lora_target = lora.LoraTarget("kernel", "lora_kernel_a", "lora_kernel_b",
                                   "kernel_constraint", "kernel_regularizer")
    _quantize_target = quantization.QuantizeTarget("kernel", "kernel_scale")
    _inputs_quantizer_args = {}  # int8: AbsMaxQuantizer() on the inputs

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Keras 3.15's `build` calls `enable_lora(lora_rank)`, which resets the alpha.
        self._lora_init(lora_rank, lora_rank if lora_rank else lora_alpha)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True
        self._quantization_init(quantization_config)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        in_dim = input_shape[-1]
        k_kernel, k_bias = host_prng.split(key)
        params = {"kernel": self.kernel_initializer((in_dim, self.units), self.dtype, key=k_kernel)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.units,), self.dtype, key=k_bias)
        params.update(self._lora_factors(key, (in_dim, self.units)))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        if self.quantization_mode is not None:
            return self._quantized_build(params, (in_dim, self.units))
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        params = self._lora_params(params)
        x = jnp.asarray(inputs)
        kernel = params["kernel"]
        if x.dtype != kernel.dtype:
            x = x.astype(kernel.dtype)
        y = jnp.matmul(x, kernel)
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y), state

    # ------------------------------------------------------------ quantization --
    def _int8_weight(self, kernel, config):
        quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
            config, quantizers.AbsMaxQuantizer(axis=0))
        value, scale = quantizer(kernel, to_numpy=True)
        return value, jnp.squeeze(scale, axis=0)

    def _int8_scale_shape(self, kernel_shape):
        return (self.units,)

    def _int8_forward(self, params, state, inputs):
        return self._per_channel_forward(params, state, jnp.asarray(inputs), lambda k: k)

    def _int4_matrix_shape(self, kernel_shape):
        return tuple(kernel_shape)

    def _int4_forward(self, params, state, inputs):
        x, compute = jnp.asarray(inputs), self.compute_dtype
        shape = (x.shape[-1], self.units)
        if "kernel_zero" in state:  # sub-channel: the dequantized kernel, in float
            return self._finish(params, jnp.matmul(x, self._int4_weight(state, shape, compute)))
        return self._per_channel_forward(
            params, state, x, lambda packed: quantizers.unpack_int4(packed, self.units, axis=-1))

    def _per_channel_forward(self, params, state, x, unpack):
        """An int8 (or unpacked int4) kernel with one scale per output unit: the integer
        matmul forward, and the dequantized kernel's gradient (straight through)."""
        quantizer, compute = self.inputs_quantizer, self.compute_dtype

        def quantized(x, kernel, kernel_scale):
            kernel, scale = unpack(kernel), kernel_scale
            if quantizer:
                x, inputs_scale = quantizer(x, axis=-1)
                scale = scale * inputs_scale
            y = jnp.matmul(x, kernel,
                           preferred_element_type=quantization.accumulation_dtype(x, kernel))
            return y.astype(compute) / scale

        def dequantized(x, kernel, kernel_scale):
            return jnp.matmul(x, unpack(kernel).astype(compute) / kernel_scale)

        y = quantization.straight_through(quantized, dequantized)(
            x, state["kernel"], state["kernel_scale"].astype(compute))
        return self._finish(params, y)

    def _float8_forward(self, params, state, inputs):
        compute = self.compute_dtype
        y = jnp.matmul(quantization.qdq_float8(inputs, params["inputs_scale"], compute),
                       quantization.qdq_float8(params["kernel"], params["kernel_scale"],
                                               compute))
        if self.use_bias:
            y = y + quantization.float8_bias(params["bias"], compute)
        return self.activation(y)

    def _finish(self, params, y):
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y)

    @property
    def kernel(self):
        """The kernel's variable; under LoRA, the merged kernel (an array), as in Keras;
        int4: the unpacked `(input_dim, units)` int8 values (an array), as in Keras."""
        if self.quantization_mode == "int4":
            return quantizers.unpack_int4(self._built_view("state", "kernel").value,
                                          self.units, axis=-1)
        return self._lora_merged_value()

    @property
    def bias(self):
        return self._built_view("params", "bias") if self.use_bias else None

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                "bias": (self.bias_regularizer, self.bias_constraint),
                **self._lora_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": ser(self.kernel_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "quantization_config": self._quantized_config(),
        }
        if self.lora_rank:
            config["lora_rank"], config["lora_alpha"] = self.lora_rank, self.lora_alpha
        return config
