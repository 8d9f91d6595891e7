"""docs/writing_a_layer.md's example (examples/custom_layer.py) runs, and what it shows
holds: the recommended explicit-style layer is pure (a never-`init`-ed copy applies the
same), trains in a model with its regularizer, and the Keras-style layer gives Keras 3's
numbers."""

import importlib.util
import pathlib

import jax
import numpy as np

import kerax

_PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "custom_layer.py"


def _example():
    spec = importlib.util.spec_from_file_location("custom_layer", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_and_its_claims_hold():
    out = _example().main()
    np.testing.assert_allclose(out["fresh_out"], out["out"], rtol=1e-6)
    expected = np.tanh(out["x"] @ out["weights"][0] + out["weights"][1])
    np.testing.assert_allclose(out["out"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["keras_style_out"], out["out"], rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(out["history"])) and out["history"][-1] < out["history"][0]
    assert set(out["grads"]) == {"kernel", "bias"}
    assert out["block_paths"] == ["block/scale", "block/dense/kernel", "block/dense/bias"]
    np.testing.assert_allclose(out["block_fresh"], out["block_out"], rtol=1e-6)
    scale, kernel, bias = out["block_weights"]
    np.testing.assert_allclose(out["block_out"], (out["x"] @ kernel + bias) * scale,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["keras_style_losses"],
                               [0.01 * np.sum(out["weights"][0] ** 2)], rtol=1e-5)


def test_the_keras_style_layer_matches_keras(keras):
    ex = _example()
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    klayer, layer = ex.make_keras_style_affine(keras)(4), ex.make_keras_style_affine(kerax)(4)
    klayer(x)
    layer(x)
    layer.set_weights(klayer.get_weights())
    np.testing.assert_allclose(layer(x), klayer(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(v) for v in layer.losses],
                               [float(v) for v in klayer.losses], rtol=1e-5)


def test_the_regularizer_of_the_explicit_layer_is_its_kernels():
    ex = _example()
    layer = ex.Affine(2, kernel_regularizer=kerax.regularizers.L2(0.5))
    variables = layer.init(jax.random.PRNGKey(0), np.ones((1, 3), "float32"))
    _, _, losses = kerax.layers.weight_rules.apply_with_losses(layer, variables,
                                                               np.ones((1, 3), "float32"))
    kernel = np.asarray(variables["params"]["kernel"])
    np.testing.assert_allclose([float(v) for v in losses], [0.5 * np.sum(kernel ** 2)],
                               rtol=1e-6)
