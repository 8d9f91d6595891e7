"""Keras-style layers that own a `SeedGenerator` (the VAE `Sampling` idiom), checked
against Keras 3: the generator's state lives in the layer's state pytree, advances in
eager calls, in `apply` (purely) and in `fit`, travels in `non_trainable_variables`
through `stateless_call`, and is not a weight."""

import jax
import numpy as np
import pytest

import kerax


def _sampling_cls(keras):
    class Sampling(keras.layers.Layer):
        """Adds unit Gaussian noise drawn from the layer's own SeedGenerator."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, x):
            noise = keras.random.normal(keras.ops.shape(x), seed=self.seed_generator)
            return x + noise

    return Sampling


def _model(keras):
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(3)(inputs)
    return keras.Model(inputs, _sampling_cls(keras)()(hidden))


@pytest.fixture(scope="module")
def pair(keras):
    km, m = _model(keras), _model(kerax)
    m.set_weights(km.get_weights())
    return km, m


def test_eager_draws_match_keras_and_advance(keras):
    x = np.zeros((2, 3), "float32")
    ks, s = _sampling_cls(keras)(), _sampling_cls(kerax)()
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(s(x)), np.asarray(ks(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(s.seed_generator.state),
                                  np.asarray(ks.seed_generator.state.value))
    assert s.get_weights() == [] and ks.get_weights() == []


def test_seed_state_is_a_non_trainable_variable_not_a_weight(pair):
    km, m = pair
    assert len(m.non_trainable_variables) == len(km.non_trainable_variables) == 1
    assert len(m.get_weights()) == len(km.get_weights()) == 2
    assert m.non_trainable_variables[0].dtype == "uint32"


def test_stateless_call_threads_the_seed_state_like_keras(pair):
    km, m = pair
    x = np.ones((4, 3), "float32")
    kt = [v.value for v in km.trainable_variables]
    kn = [v.value for v in km.non_trainable_variables]
    t = [v.value for v in m.trainable_variables]
    n = [v.value for v in m.non_trainable_variables]
    for _ in range(2):
        ky, kn = km.stateless_call(kt, kn, x, training=True)
        y, n = m.stateless_call(t, n, x, training=True)
        np.testing.assert_allclose(np.asarray(y), np.asarray(ky), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(n[0]), np.asarray(kn[0]))


def test_apply_is_pure_and_jit_advances_state_through_the_pytree():
    m = _model(kerax)
    x = np.zeros((2, 3), "float32")
    v = m.variables
    f = jax.jit(lambda v, x: m.apply(v, x))
    y1, s1 = f(v, x)
    y1_again, _ = f(v, x)
    y2, _ = f({**v, "state": s1}, x)
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(y1_again))
    assert not np.allclose(np.asarray(y1), np.asarray(y2))


def test_fit_advances_the_seed_state_as_keras_does(keras):
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    km, m = _model(keras), _model(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse")
    kh = km.fit(x, x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    h = m.fit(x, x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.asarray(m.non_trainable_variables[0].value),
                                  np.asarray(km.non_trainable_variables[0].value))
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_generator_drawn_under_jit_without_an_owner_is_a_clear_error():
    gen = kerax.random.SeedGenerator(3)
    with pytest.raises(ValueError, match="not an attribute of a layer being applied"):
        jax.jit(lambda x: x + kerax.random.normal((2,), seed=gen))(np.zeros(2, "float32"))
    # Eagerly it is stateful, as in Keras.
    a, b = kerax.random.normal((2,), seed=gen), kerax.random.normal((2,), seed=gen)
    assert not np.allclose(a, b)
