"""`SpectralNormalization`: divides a wrapped layer's kernel by its spectral norm."""

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.backend import config as _config
from kerax.backend import host_prng
from kerax.layers.core.wrapper import Wrapper
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import shapes_of

_KERNEL_NAMES = ("kernel", "embeddings")


def _l2_normalize(x):
    """`x / ||x||` over all entries, the inverse norm capped at `1 / epsilon` (as Keras)."""
    inv = jax.lax.rsqrt(jnp.sum(jnp.square(x)))
    return x * jnp.minimum(inv, 1.0 / _config.epsilon())


class SpectralNormalization(Wrapper):
    """Spectral normalization of a wrapped layer's kernel (for stable GAN training).

    The kernel (`kernel` of `Dense`, `Conv*`, ...; `embeddings` of `Embedding`),
    reshaped to `(-1, kernel.shape[-1])`, is divided by its largest singular value,
    estimated with `power_iterations` steps of power iteration from the vector
    `vector_u`. `vector_u` is a non-trainable weight in the wrapper's *state*.

    In training (`training=True`) `apply` normalizes the kernel, runs the wrapped layer
    with it (gradients flow through the normalization, `u` and `v` held constant) and
    returns the updated `vector_u` in the state, like BatchNormalization's moving
    statistics. In inference the wrapped layer runs with its kernel as stored, as in
    Keras. An all-zero kernel is left as it is. Like Keras, an eager
    `layer(x, training=True)` also stores the normalized kernel; inside a model's pure
    step (`fit`) only `vector_u` changes, as in Keras' `fit` on JAX.

    Weights (Keras' order): the wrapped layer's kernel, `vector_u`, then the wrapped
    layer's other weights. The output is cast to the input's dtype, as in Keras.

    Args:
        layer: a layer with a `kernel` (`Dense`, `Conv2D`, ...) or `embeddings`
            (`Embedding`).
        power_iterations: number of power-iteration steps per training call (>= 1).
        **kwargs: base layer arguments (`name`, `trainable`, `dtype`).

    Raises:
        ValueError: if `power_iterations < 1`, or (at init) if the wrapped layer has no
            `kernel` nor `embeddings` weight.

    Input shape: that of the wrapped layer; output shape: that of the wrapped layer.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> sn = SpectralNormalization(Dense(3))
    >>> x = jnp.ones((2, 4))
    >>> v = sn.init(jax.random.PRNGKey(0), x)
    >>> v["state"]["vector_u"].shape
    (1, 3)
    >>> y, state = sn.apply(v, x, training=True)
    >>> _, kernel = sn.normalized_weights(v["params"]["layer"]["kernel"], state["vector_u"])
    >>> round(float(jnp.linalg.norm(kernel, 2)), 2)  # largest singular value
    1.0
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) \
                or power_iterations <= 0:
            raise ValueError(
                f"SpectralNormalization '{self.name}': `power_iterations` should be an "
                f"integer greater than zero. Received: `power_iterations={power_iterations!r}`. "
                "Use 1 (the default) or more."
            )
        self.power_iterations = power_iterations

    def _kernel_name(self, layer_params):
        for name in _KERNEL_NAMES:
            if name in layer_params:
                return name
        raise ValueError(
            f"SpectralNormalization '{self.name}': the wrapped {type(self.layer).__name__} "
            f"'{self.layer.name}' has no attribute 'kernel' nor 'embeddings' (its weights: "
            f"{sorted(layer_params)}). Wrap a layer with a kernel, such as Dense or Conv2D, "
            "or an Embedding."
        )

    def build_variables(self, key, inputs, *more):
        input_shape = shapes_of(inputs)
        params, state = super().build_variables(host_prng.fold_in(key, 0), inputs, *more)
        kernel = params.get("layer", {})
        kernel = kernel[self._kernel_name(kernel)]
        u = initializers.TruncatedNormal(stddev=0.02)(
            (1, kernel.shape[-1]), kernel.dtype, key=host_prng.fold_in(key, 1))
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        return params, {"vector_u": u, **state}

    def normalized_weights(self, kernel, vector_u):
        """Power iteration: returns `(new_vector_u, kernel / sigma)` (pure).

        Args:
            kernel: the wrapped layer's kernel.
            vector_u: the current `vector_u`, of shape `(1, kernel.shape[-1])`.
        """
        w = jnp.reshape(kernel, (-1, kernel.shape[-1]))
        u = vector_u.astype(w.dtype)
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ w @ u.T)[0, 0]
        return u.astype(vector_u.dtype), (kernel / sigma).astype(kernel.dtype)

    def _training_update(self, kernel, vector_u):
        """`normalized_weights`, except that an all-zero kernel (and `u`) stay as they are."""
        return jax.lax.cond(jnp.all(kernel == 0), lambda k, u: (u, k),
                            lambda k, u: self.normalized_weights(k, u), kernel, vector_u)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if training:
            sub = dict(params.get("layer", {}))
            name = self._kernel_name(sub)
            u, sub[name] = self._training_update(sub[name], state["vector_u"])
            params = {**params, "layer": sub}
            state = {**state, "vector_u": u}
        # As Keras: this layer's policy casts the input, and the output is cast back to it.
        inputs = self._dtype_policy.convert_input(jnp.asarray(inputs), self.autocast)
        outputs, state = self.call_layer(params, state, inputs, training=training, rng=rng,
                                         **kwargs)
        dtype = inputs.dtype
        return jax.tree_util.tree_map(lambda o: o.astype(dtype), outputs), state

    def _call_eager(self, args, kwargs):
        # Keras assigns the normalized kernel in an eager training call: do the same.
        if not kwargs.get("training"):
            return super()._call_eager(args, kwargs)
        if self._variables is None:
            self.build_eagerly(*args)
        sub = self._variables["params"]["layer"]
        name = self._kernel_name(sub)
        _, kernel = self._training_update(sub[name], self._variables["state"]["vector_u"])
        outputs = super()._call_eager(args, kwargs)
        variables = self._variables
        params = {**variables["params"], "layer": {**variables["params"]["layer"],
                                                    name: kernel}}
        self._variables = {"params": params, "state": variables["state"]}
        return outputs

    def _keras_order(self, leaves):
        kernel = [leaf for leaf in leaves
                  if leaf[0] == "params" and leaf[1] in (("layer", n) for n in _KERNEL_NAMES)]
        return kernel[:1] + [leaf for leaf in leaves if leaf not in kernel[:1]]

    def _weight_leaves(self, variables):
        return self._keras_order(super()._weight_leaves(variables))

    def _variable_leaves(self, variables):
        return self._keras_order(super()._variable_leaves(variables))

    def _keras_own_leaves(self, variables, prefix):
        """Keras' own variables of this layer in its weights file: the wrapped layer's
        kernel (Keras tracks it on the wrapper too), then `vector_u`."""
        sub = variables.get("params", {})
        for p in prefix + ("layer",):
            sub = sub.get(p, {})
        return [("params", prefix + ("layer", self._kernel_name(sub))),
                ("state", prefix + ("vector_u",))]

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
