import re

import jax.numpy as jnp

import numpy as np

from kerax import activations, constraints, initializers, quantizers, regularizers
from kerax.backend import host_prng
from kerax.layers import unsupported
from kerax.layers.core import einsum_quantization, lora, quantization
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """Kernel shape, bias shape, full output shape and the kernel's input/output axes.

    Follows Keras' EinsumDense: equations `ab,bc->ac`, `...b,bc->...c` (left-elided) or
    `ab...,bc->ac...` (right-elided); `output_shape` gives the output's non-batch sizes
    (`None` where the input's size is reused).

    Example:
    >>> analyze_equation("abc,cde->abde", "de", (2, 5, 4), (None, 3, 6))[:3]
    ([4, 3, 6], [3, 6], [2, 5, 3, 6])
    """
    plain = equation.replace("...", "0")
    left = False
    match = re.fullmatch(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", plain)
    if match is None:
        match = re.fullmatch(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", plain)
        left = match is not None
    if match is None:
        match = re.fullmatch(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", plain)
    if match is None:
        raise ValueError(
            f"Invalid einsum equation '{equation}'. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    in_spec, w_spec, out_spec = match.groups()
    elided = len(input_shape) - len(in_spec)
    out_shape = [input_shape[0]] + list(
        (output_shape,) if isinstance(output_shape, int) else output_shape)
    if elided > 0 and left:
        out_shape[1:1] = list(input_shape[1:elided])
    elif elided > 0:
        out_shape += list(input_shape[len(input_shape) - elided:])
    if left:
        in_pos = {d: i + elided - len(input_shape) for i, d in enumerate(in_spec)}
        out_pos = {d: i + elided for i, d in enumerate(out_spec)}
    else:
        in_pos = {d: i for i, d in enumerate(in_spec)}
        out_pos = {d: i for i, d in enumerate(out_spec)}
    for d in in_spec:
        if d in out_pos and out_shape[out_pos[d]] is None:
            out_shape[out_pos[d]] = input_shape[in_pos[d]]
        elif d in out_pos and out_shape[out_pos[d]] != input_shape[in_pos[d]]:
            raise ValueError(
                f"Input shape and output shape do not match at shared dimension '{d}'. "
                f"Input shape is {input_shape[in_pos[d]]}, and output shape is "
                f"{out_shape[out_pos[d]]}."
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(w_spec):
        if d in out_pos:
            kernel_shape.append(out_shape[out_pos[d]])
            output_axes.append(i)
        elif d in in_pos:
            kernel_shape.append(input_shape[in_pos[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{d}' did not have a match in either the input spec "
                f"'{in_spec}' or the output spec '{out_spec}'. For this layer, the weight "
                "must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for d in bias_axes:
            if d not in out_spec:
                raise ValueError(f"Bias dimension '{d}' was requested, but is not part of "
                                 f"the output spec '{out_spec}'")
        first = min(out_spec.find(d) for d in bias_axes)
        offset = elided if left else 0
        bias_shape = [out_shape[out_spec.find(d) + offset] if d in bias_axes else 1
                      for d in out_spec[first:]]
        if not left:
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, out_shape, input_axes, output_axes


class EinsumDense(quantization.QuantizationMixin, lora.LoraMixin, Layer):
    """A dense layer whose kernel contraction is an einsum `equation` (Keras' layer).

    Args:
        equation: e.g. `"ab,bc->ac"` (Dense), `"abc,cde->abde"` (per-head projection);
            `...` elides leading or trailing axes.
        output_shape: the output's sizes without the batch axis (`None` to reuse the
            input's size); an int for one axis.
        activation: optional activation.
        bias_axes: letters of the output axes that get a bias (None: no bias).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: as in `Dense`.
        lora_rank, lora_alpha: LoRA, as in `Dense` (here `lora_alpha` is kept, as in
            Keras); `lora_kernel_a` has the kernel's shape with the last axis `lora_rank`.
        quantization_config: a `kerax.quantizers.QuantizationConfig` used when the layer is
            built with a quantized dtype policy (`quantize(mode, config)` sets it too).
        gptq_unpacked_column_size: must be None (kerax does not implement GPTQ).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 5, 4)))
    >>> v["params"]["kernel"].shape, layer.apply(v, jnp.ones((1, 5, 4)))[0].shape
    ((4, 2, 3), (1, 5, 2, 3))
    """

    _lora_target = lora.LoraTarget("kernel", "lora_kernel_a", "lora_kernel_b",
                                   "kernel_constraint", "kernel_regularizer")
    _quantize_target = quantization.QuantizeTarget("kernel", "kernel_scale")
    _inputs_quantizer_args = {}  # int8: AbsMaxQuantizer() on the inputs

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        unsupported.refuse("EinsumDense", "gptq_unpacked_column_size",
                           gptq_unpacked_column_size, hint="kerax does not quantize layers "
                           "(GPTQ); remove the argument (or pass None).")
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._lora_init(lora_rank, lora_alpha)
        self._quantization_init(quantization_config)

    def _kernel_initializer_for(self, input_axes, output_axes):
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            # Keras computes the fans over the contracted / produced kernel axes.
            init = initializers.VarianceScaling(
                scale=init.scale, mode=init.mode, distribution=init.distribution,
                seed=init.seed, input_axes=input_axes, output_axes=output_axes)
        return init

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        kernel_shape, bias_shape, _, in_axes, out_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        k_kernel, k_bias = host_prng.split(key)
        init = self._kernel_initializer_for(in_axes, out_axes)
        params = {"kernel": init(tuple(kernel_shape), self.dtype, key=k_kernel)}
        if bias_shape is not None:
            params["bias"] = self.bias_initializer(tuple(bias_shape), self.dtype, key=k_bias)
        params.update(self._lora_factors(key, tuple(kernel_shape)))
        self.input_spec = InputSpec(ndim=len(input_shape))
        self._kernel_shape = tuple(kernel_shape)  # int4 stores it as a packed matrix
        if self.quantization_mode is not None:
            return self._quantized_build(params, tuple(kernel_shape))
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        params = self._lora_params(params)
        kernel = params["kernel"]
        y = jnp.einsum(self.equation, jnp.asarray(inputs).astype(kernel.dtype), kernel)
        if "bias" in params:
            y = y + params["bias"]
        if self.activation is not None:
            y = self.activation(y)
        return y, state

    # ------------------------------------------------------------ quantization --
    def _quant_info(self):
        return einsum_quantization.analyze(self.equation, self.input_spec.ndim)

    def _int8_weight(self, kernel, config):
        info = self._quant_info()
        quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(
            config, quantizers.AbsMaxQuantizer(axis=info.kernel_reduced_axes))
        value, scale = quantizer(kernel, to_numpy=True)
        return value, einsum_quantization.scale_for_output(
            scale, info.kernel_transpose_axes, info.kernel_expand_axes,
            info.kernel_squeeze_axes)

    def _int8_scale_shape(self, kernel_shape):
        info = self._quant_info()
        shape = np.array(kernel_shape)
        shape[list(info.kernel_reduced_axes)] = 1
        shape = shape[list(info.kernel_transpose_axes)].tolist()
        for axis in sorted(info.kernel_expand_axes):
            shape.insert(axis, 1)
        for axis in sorted(info.kernel_squeeze_axes, reverse=True):
            shape.pop(axis)
        return tuple(shape)

    def _int8_forward(self, params, state, inputs):
        info, quantizer, compute = self._quant_info(), self.inputs_quantizer, \
            self.compute_dtype

        def quantized(x, kernel, kernel_scale):
            scale = kernel_scale
            if quantizer:
                x, inputs_scale = quantizer(x, axis=info.input_reduced_axes)
                scale = einsum_quantization.scale_for_output(
                    inputs_scale, info.input_transpose_axes, info.input_expand_axes,
                    info.input_squeeze_axes) * kernel_scale
            y = jnp.einsum(self.equation, x, kernel,
                           preferred_element_type=quantization.accumulation_dtype(x, kernel))
            return y.astype(compute) / scale

        def dequantized(x, kernel, kernel_scale):
            scale = einsum_quantization.kernel_scale_for_kernel(kernel_scale, info)
            return jnp.einsum(self.equation, x,
                              kernel.astype(compute) / scale)

        y = quantization.straight_through(quantized, dequantized)(
            jnp.asarray(inputs), state["kernel"], state["kernel_scale"].astype(compute))
        return self._finish(params, y)

    def _int4_matrix_shape(self, kernel_shape):
        reduced = self._quant_info().kernel_reduced_axes
        rows = int(np.prod([d for i, d in enumerate(kernel_shape) if i in reduced]))
        columns = int(np.prod([d for i, d in enumerate(kernel_shape) if i not in reduced]))
        return rows, columns

    def _int4_per_channel_quantizer(self, config):
        # Keras' EinsumDense quantizes int4 per channel with the default quantizer only.
        return quantizers.AbsMaxQuantizer(axis=0, value_range=(-8, 7))

    def _int4_forward(self, params, state, inputs):
        x, compute = jnp.asarray(inputs), self.compute_dtype
        shape = self._kernel_shape
        if "kernel_zero" in state:  # sub-channel: the dequantized kernel, in float
            kernel = self._int4_weight(state, shape, compute)
            return self._finish(params, jnp.einsum(self.equation, x, kernel))
        info, quantizer = self._quant_info(), self.inputs_quantizer

        def dequantized(x, packed, kernel_scale):
            kernel = self._int4_weight({"kernel": packed, "kernel_scale": kernel_scale},
                                       shape, compute)
            return jnp.einsum(self.equation, x, kernel)

        def quantized(x, packed, kernel_scale):
            if not quantizer:
                return dequantized(x, packed, kernel_scale)
            x, inputs_scale = quantizer(x, axis=info.input_reduced_axes)
            inputs_scale = einsum_quantization.scale_for_output(
                inputs_scale, info.input_transpose_axes, info.input_expand_axes,
                info.input_squeeze_axes)
            y = dequantized(x, packed, kernel_scale)
            return y.astype(compute) / inputs_scale

        y = quantization.straight_through(quantized, dequantized)(
            x, state["kernel"], state["kernel_scale"].astype(compute))
        return self._finish(params, y)

    def _float8_forward(self, params, state, inputs):
        compute = self.compute_dtype
        y = jnp.einsum(self.equation,
                       quantization.qdq_float8(inputs, params["inputs_scale"], compute),
                       quantization.qdq_float8(params["kernel"], params["kernel_scale"],
                                               compute))
        if "bias" in params:
            y = y + quantization.float8_bias(params["bias"], compute)
        return self.activation(y) if self.activation is not None else y

    def _finish(self, params, y):
        if "bias" in params:
            y = y + params["bias"]
        return self.activation(y) if self.activation is not None else y

    @property
    def kernel(self):
        """The kernel's variable; under LoRA, the merged kernel (an array), as in Keras;
        int4: the unpacked int8 values in the kernel's shape (an array), as in Keras."""
        if self.quantization_mode == "int4":
            packed = self._built_view("state", "kernel").value
            columns = self._int4_matrix_shape(self._kernel_shape)[1]
            return quantizers.unpack_int4(packed, columns, axis=-1).reshape(self._kernel_shape)
        return self._lora_merged_value()

    @property
    def bias(self):
        has_bias = "bias" in (self._own_variables_tree("params") or {})
        return self._built_view("params", "bias") if has_bias else None

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                "bias": (self.bias_regularizer, self.bias_constraint),
                **self._lora_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {
            **super().get_config(),
            "output_shape": self.partial_output_shape, "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "activity_regularizer": ser(self.activity_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "quantization_config": self._quantized_config(),
        }
        if self.lora_rank:
            config["lora_rank"], config["lora_alpha"] = self.lora_rank, self.lora_alpha
        return config
