import jax.numpy as jnp

from kerax import activations, constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.saving import serialization_lib


class Dense(Layer):
    """Densely-connected layer: `activation(inputs @ kernel + bias)` on the last axis.

    Args:
        units: positive int, the output size.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (Keras names or objects).
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints applied after updates.

    Input shape: `(batch, ..., input_dim)`. Output shape: `(batch, ..., units)`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = Dense(4, activation="relu")
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
    >>> variables["params"]["kernel"].shape
    (3, 4)
    """

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
        self.lora_rank, self.lora_alpha = lora_rank, lora_alpha
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build_variables(self, key, input_shape):
        in_dim = input_shape[-1]
        k_kernel, k_bias = host_prng.split(key)
        params = {"kernel": self.kernel_initializer((in_dim, self.units), self.dtype, key=k_kernel)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.units,), self.dtype, key=k_bias)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        kernel = params["kernel"]
        if x.dtype != kernel.dtype:
            x = x.astype(kernel.dtype)
        y = jnp.matmul(x, kernel)
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y), state

    @property
    def kernel(self):
        return self._built_view("params", "kernel")

    @property
    def bias(self):
        return self._built_view("params", "bias") if self.use_bias else None

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
            "quantization_config": None,  # kerax does not quantize; Keras writes it
        }
        if self.lora_rank:
            config["lora_rank"], config["lora_alpha"] = self.lora_rank, self.lora_alpha
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("quantization_config", None)
        return super().from_config(config)
