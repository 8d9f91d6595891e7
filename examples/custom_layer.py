"""Writing a layer: the recommended (explicit) way, and the Keras way, which keeps working.

The recommended way is a layer as configuration plus two pure functions:

- `build_variables(key, x) -> (params, state)` creates the numbers from a key and the
  input's `jax.ShapeDtypeStruct` `x` (the input size is found here, as in Keras);
- `forward(params, state, x, training=False, rng=None) -> (outputs, state)` computes.

Nothing is stored on `self` after `__init__`: `apply` works on any copy made from the
config (`from_config(get_config())`), under `jit`, `grad` and `vmap`. A regularizer or
constraint is a constructor argument named as in Keras (`kernel_regularizer`), declared
for the param it applies to by `param_rules()` (`{"kernel": (regularizer, constraint)}`).

The Keras way (`build` + `add_weight` + `call`) runs unchanged, on kerax and on Keras 3.

Run: python examples/custom_layer.py     (about a second on a CPU, no download)
"""

import jax
import jax.numpy as jnp
import numpy as np

import kerax as keras


class Affine(keras.layers.Layer):
    """`activation(x @ kernel + bias)`, written the recommended way."""

    def __init__(self, units, activation=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_initializer = keras.initializers.GlorotUniform()

    def build_variables(self, key, x):  # `x`: the input's `jax.ShapeDtypeStruct`
        kernel = self.kernel_initializer((x.shape[-1], self.units), self.dtype, key=key)
        return {"kernel": kernel, "bias": jnp.zeros((self.units,), self.dtype)}, {}

    def forward(self, params, state, x, training=False, rng=None):
        return self.activation(x @ params["kernel"] + params["bias"]), state

    def param_rules(self):  # each param's (regularizer, constraint)
        return {"kernel": (self.kernel_regularizer, None)}

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


class ScaledDense(keras.layers.Layer):
    """A layer with a sub-layer: a `Dense` (an attribute) and a trainable `scale`.

    The sub-layer's variables are stored under its attribute name (`params["dense"]`),
    created with its `init` and used with its `apply`.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units, name="dense")

    def build_variables(self, key, x):
        dense = self.dense.init(key, x)
        return {"scale": jnp.ones((self.units,), self.dtype), "dense": dense["params"]}, {}

    def forward(self, params, state, x, training=False, rng=None):
        y, _ = self.dense.apply({"params": params["dense"], "state": {}}, x)
        return y * params["scale"], state

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def make_keras_style_affine(keras):
    """The same layer written the Keras way, for `keras` (kerax, or Keras 3 itself)."""

    class KerasAffine(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                          initializer="glorot_uniform", regularizer="l2")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            return keras.ops.tanh(keras.ops.matmul(x, self.kernel) + self.bias)

    return KerasAffine


def main():
    x = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
    y = np.sum(x, axis=1, keepdims=True).astype("float32")

    # 1. Pure use: init once, apply anywhere (jit, grad), on any copy of the layer.
    layer = Affine(4, activation="tanh", kernel_regularizer="l2")
    variables = layer.init(jax.random.PRNGKey(0), x)
    out, _ = jax.jit(layer.apply)(variables, x)
    fresh = Affine.from_config(layer.get_config())  # never init-ed
    fresh_out, _ = fresh.apply(variables, x)
    loss = lambda p: jnp.sum(layer.apply({"params": p, "state": {}}, x)[0])  # noqa: E731
    grads = jax.grad(loss)(variables["params"])
    print("output", out.shape, "fresh copy agrees:", bool(np.allclose(out, fresh_out)))

    # A layer with a sub-layer: the same rules; Keras' weight order and paths.
    block = ScaledDense(2, name="block")
    block_out = block(x)
    block_paths = [w.path for w in block.weights]
    block_fresh, _ = ScaledDense.from_config(block.get_config()).apply(block.variables, x)
    print("sub-layer block weights:", block_paths)

    # 2. Keras use: the same layer in a model that trains; the regularizer counts.
    model = keras.Sequential([keras.Input((3,)), Affine(4, activation="tanh",
                                                        kernel_regularizer="l2"),
                              Affine(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    print("losses", [round(v, 4) for v in history.history["loss"]])

    # 3. The Keras way: build/add_weight/call; same numbers as Affine with its weights.
    weights = [np.asarray(variables["params"]["kernel"]), np.asarray(variables["params"]["bias"])]
    keras_style = make_keras_style_affine(keras)(4)
    keras_style(x)  # builds it
    keras_style.set_weights(weights)
    keras_out = np.asarray(keras_style(x))
    print("Keras-style layer agrees:", bool(np.allclose(keras_out, out, atol=1e-6)),
          "regularization losses:", len(keras_style.losses))
    return {"x": x, "weights": weights, "out": np.asarray(out),
            "fresh_out": np.asarray(fresh_out), "grads": grads,
            "history": history.history["loss"], "keras_style_out": keras_out,
            "keras_style_losses": [float(v) for v in keras_style.losses],
            "block_out": np.asarray(block_out), "block_fresh": np.asarray(block_fresh),
            "block_paths": block_paths,
            "block_weights": [np.asarray(w) for w in block.get_weights()]}


if __name__ == "__main__":
    main()
