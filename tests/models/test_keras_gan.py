"""A GAN written with Keras 3's JAX `train_step` API (examples/gan_keras_style.py) trains
bit-for-bit like Keras 3 on kerax: same losses, same weights, same SeedGenerator state."""

import importlib.util
import pathlib

import numpy as np

import kerax

_PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "gan_keras_style.py"


def _example():
    spec = importlib.util.spec_from_file_location("gan_keras_style", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keras_style_gan_matches_keras(keras):
    G = _example()
    x = G.real_data(192)
    kg, g = G.make_gan(keras), G.make_gan(kerax)
    g.set_weights(kg.get_weights())
    kh = kg.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0)
    h = g.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0)
    for name in ("d_loss", "g_loss"):
        np.testing.assert_allclose(h.history[name], kh.history[name], rtol=1e-5)
    for a, b in zip(g.get_weights(), kg.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(g.non_trainable_variables[0].value),
                                  np.asarray(kg.non_trainable_variables[0].value))


def test_keras_style_gan_learns_the_ring():
    G = _example()
    g = G.make_gan(kerax)
    before = np.linalg.norm(g.generator.predict(G.real_data(256, 1), verbose=0), axis=1)
    g.fit(G.real_data(1024), batch_size=64, epochs=12, verbose=0)
    after = np.linalg.norm(g.generator.predict(G.real_data(256, 1), verbose=0), axis=1)
    assert abs(after.mean() - 2.0) < abs(before.mean() - 2.0)
