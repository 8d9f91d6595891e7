"""`apply` needs the configuration and the variables only, never an earlier `init` on the
same object: a copy made with `from_config(get_config())` applies another instance's
variables and gives the same outputs, for Keras-style layers and every kind of model
(built-in layers: `test_conformance.py::test_apply_on_a_fresh_copy`)."""

import jax
import numpy as np
import pytest

import kerax

X = np.linspace(-1.0, 1.0, 6, dtype="float32").reshape(2, 3)


class Block(kerax.layers.Layer):
    """Keras-style: a sub-layer with variables, one without (Dropout), a weight of its own."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = kerax.layers.Dense(4)
        self.drop = kerax.layers.Dropout(0.5)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(4,), initializer="random_normal")

    def call(self, x, training=False):
        return self.drop(self.dense(x), training=training) * self.scale


class Net(kerax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block()
        self.out = kerax.layers.Dense(2)

    def call(self, x, training=False):
        return self.out(self.block(x, training=training))


def _sequential():
    return kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(4),
                             kerax.layers.Dropout(0.5), kerax.layers.Dense(2)])


def _functional():
    inputs = kerax.Input((3,))
    hidden = kerax.layers.Dropout(0.5)(kerax.layers.Dense(4)(inputs))
    return kerax.Model(inputs, kerax.layers.Dense(2)(hidden))


MAKERS = {"keras-style-layer": Block, "subclassed-model": Net, "sequential": _sequential,
          "functional": _functional}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize("training", [False, True])
def test_a_copy_that_was_never_initialized_applies_the_same(make, training):
    layer = make()
    fresh = type(layer).from_config(layer.get_config())
    variables = layer.init(jax.random.PRNGKey(0), X)
    rng = jax.random.PRNGKey(1)
    expected, expected_state = layer.apply(variables, X, training=training, rng=rng)
    got, state = jax.jit(fresh.apply, static_argnames="training")(
        variables, X, training=training, rng=rng)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    jax.tree_util.tree_map(np.testing.assert_array_equal, state, expected_state)


def test_a_child_missing_from_the_variables_still_names_the_mismatch():
    variables = Net().init(jax.random.PRNGKey(0), X)
    del variables["params"]["block"]
    with pytest.raises(ValueError, match="No variables for sub-layer 'block' of"):
        Net().apply(variables, X)


def test_a_never_built_copy_names_a_weight_missing_from_the_variables():
    variables = Block().init(jax.random.PRNGKey(0), X)
    del variables["params"]["variable"]
    with pytest.raises(ValueError, match=r"`build` creates the weight 'variable', but the "
                                         r"params passed to `apply` have no 'variable'"):
        Block().apply(variables, X)


def test_group_normalization_config_resolves_groups_after_build_as_keras(keras):
    """`groups=-1` is resolved from the input shape, not stored by `init`; the config of a
    built layer still says what Keras' says."""
    x = np.ones((2, 3, 4), "float32")
    klayer, layer = (K.layers.GroupNormalization(groups=-1) for K in (keras, kerax))
    assert layer.get_config()["groups"] == klayer.get_config()["groups"] == -1
    klayer(x)
    layer(x)
    assert layer.get_config()["groups"] == klayer.get_config()["groups"] == 4
    assert layer.groups == -1



class Shifted(kerax.layers.Layer):
    """Keras-style, with a constant computed in `build`."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        self.offset = kerax.ops.arange(input_shape[-1], dtype="float32")

    def call(self, x):
        return x * self.w + self.offset


def test_build_inside_a_jitted_apply_keeps_its_constants_concrete():
    layer = Shifted()
    variables = layer.init(jax.random.PRNGKey(0), X)
    fresh = Shifted.from_config(layer.get_config())
    got, _ = jax.jit(fresh.apply)(variables, X)
    np.testing.assert_allclose(got, X + np.arange(3), rtol=1e-6)
    assert not isinstance(fresh.offset, jax.core.Tracer)
    np.testing.assert_allclose(fresh(X), got, rtol=1e-6)  # and it is built now
