"""`kerax.RematScope`: layers created inside it rematerialize their forward pass (Keras
3's modes), with unchanged outputs and gradients, checked against Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax


def _remat_count(fn, *args):
    text = str(jax.make_jaxpr(fn)(*args))
    return text.count("checkpoint") + text.count("remat")


def _model(lib, scope=None):
    def layers():
        return [lib.layers.Dense(16, activation="relu", name="wide"),
                lib.layers.Dense(3, name="out")]
    if scope is None:
        built = layers()
    else:
        with scope:
            built = layers()
    return lib.Sequential([lib.Input((4,))] + built)


@pytest.mark.parametrize("mode, kwargs, expected", [
    ("full", {}, 2), ("list_of_layers", {"layer_names": ["wide"]}, 1),
    ("larger_than", {"output_size_threshold": 40}, 1),  # (8, 16) > 40 > (8, 3)
    ("activations", {}, 2),  # relu on "wide" and the linear activation on "out"
    (None, {}, 0),
])
def test_modes_checkpoint_the_right_layers_and_keep_gradients(mode, kwargs, expected):
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    plain = _model(kerax)
    remat = _model(kerax, kerax.RematScope(mode=mode, **kwargs))
    remat.set_weights(plain.get_weights())

    def loss(model):
        return lambda v: jnp.sum(model.apply(v, x)[0] ** 2)

    assert _remat_count(jax.grad(loss(remat)), remat.variables) >= expected
    if expected == 0:
        assert _remat_count(jax.grad(loss(remat)), remat.variables) == 0
    g_plain = jax.grad(loss(plain))(plain.variables)
    g_remat = jax.grad(loss(remat))(remat.variables)
    for a, b in zip(jax.tree_util.tree_leaves(g_plain), jax.tree_util.tree_leaves(g_remat)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_fit_under_remat_matches_keras_with_remat(keras):
    r = np.random.default_rng(0)
    x, y = r.normal(size=(32, 4)).astype("float32"), r.normal(size=(32, 3)).astype("float32")
    km = _model(keras, keras.RematScope(mode="full"))
    m = _model(kerax, kerax.RematScope(mode="full"))
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="adam", loss="mse")
    kh = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)


def test_added_losses_inside_a_rematerialized_layer_still_count():
    class Penalized(kerax.layers.Layer):
        def call(self, x):
            self.add_loss(jnp.sum(x ** 2))
            return x

    with kerax.RematScope(mode="full"):
        layer = Penalized()
    m = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(2), layer])
    m.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    loss = m.evaluate(x, np.zeros((4, 2), "float32"), batch_size=4, verbose=0)
    out = m.predict(x, verbose=0)
    assert loss == pytest.approx(float(np.mean(out ** 2) + np.sum(out ** 2)), rel=1e-5)


def test_a_rematerialized_layer_takes_python_call_options():
    # `use_causal_mask=True` stays a Python bool inside `jax.checkpoint` (it was traced:
    # TracerBoolConversionError, as Keras 3.15 on JAX still raises); outputs and fit are
    # those without the scope.
    r = np.random.default_rng(0)
    x, y = r.normal(size=(8, 5, 4)).astype("float32"), r.normal(size=(8, 5, 4)).astype("float32")

    def model(scope):
        with scope:
            mha = kerax.layers.MultiHeadAttention(2, 3)
        inp = kerax.Input((5, 4))
        return kerax.Model(inp, mha(inp, inp, use_causal_mask=True))

    plain, m = model(kerax.RematScope(mode=None)), model(kerax.RematScope(mode="full"))
    m.set_weights(plain.get_weights())
    assert _remat_count(lambda v: m.apply(v, x)[0], m.variables) >= 1
    np.testing.assert_allclose(m.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    for each in (plain, m):
        each.compile(optimizer="adam", loss="mse")
    h0 = plain.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], h0.history["loss"], rtol=1e-5)
