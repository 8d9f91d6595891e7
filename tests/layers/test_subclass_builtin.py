"""Subclassing a built-in layer, as Keras users do: an overridden `call` (calling
`super().call`), an overridden `build` that adds weights after `super().build`, and both,
behave as in Keras 3 — outputs, weights (names and order), training and saving."""

import numpy as np
import pytest

import kerax


def _classes(lib):
    class ScaledDense(lib.layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    class ShiftedDense(lib.layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.shift = self.add_weight(shape=(self.units,), initializer="ones",
                                         name="shift")

        def call(self, inputs):
            return super().call(inputs) + self.shift

    class ClippedConv(lib.layers.Conv2D):
        def call(self, inputs):
            return lib.ops.clip(super().call(inputs), -0.5, 0.5)

    class LoudNorm(lib.layers.LayerNormalization):
        def call(self, inputs):
            return super().call(inputs) * 3.0

    return {"ScaledDense": (ScaledDense, lambda c: c(3), (4, 5)),
            "ShiftedDense": (ShiftedDense, lambda c: c(3), (4, 5)),
            "ClippedConv": (ClippedConv, lambda c: c(2, 3), (2, 6, 6, 3)),
            "LoudNorm": (LoudNorm, lambda c: c(), (4, 5))}


CASES = ["ScaledDense", "ShiftedDense", "ClippedConv", "LoudNorm"]


@pytest.mark.parametrize("case", CASES)
def test_outputs_and_weights_match_keras(keras, case):
    x = np.random.default_rng(0).standard_normal(_classes(kerax)[case][2]).astype("float32")
    k_cls, make, _ = _classes(keras)[case]
    x_cls, _, _ = _classes(kerax)[case]
    k_layer, x_layer = make(k_cls), make(x_cls)
    k_out = np.asarray(k_layer(x))
    x_layer(x)
    assert [w.path for w in x_layer.weights] == [w.path.replace(k_layer.name, x_layer.name, 1)
                                                 for w in k_layer.weights]
    x_layer.set_weights(k_layer.get_weights())
    np.testing.assert_allclose(np.asarray(x_layer(x)), k_out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["ScaledDense", "ShiftedDense"])
def test_fit_in_a_model_matches_keras(keras, case):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 5)).astype("float32"), rng.standard_normal((16, 3))
    models = []
    for lib in (keras, kerax):
        cls, make, _ = _classes(lib)[case]
        model = lib.Sequential([lib.Input((5,)), make(cls)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    hist = [m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
            for m in models]
    np.testing.assert_allclose(hist[1], hist[0], rtol=1e-5)
    for a, b in zip(models[1].get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pure_apply_uses_the_overridden_call():
    import jax

    cls, make, shape = _classes(kerax)["ShiftedDense"]
    layer = make(cls)
    x = np.ones(shape, "float32")
    variables = layer.init(jax.random.PRNGKey(0), x)
    assert list(variables["params"]) == ["kernel", "bias", "shift"]
    y, _ = jax.jit(layer.apply)(variables, x)
    p = variables["params"]
    np.testing.assert_allclose(y, x @ p["kernel"] + p["bias"] + p["shift"], rtol=1e-6)
