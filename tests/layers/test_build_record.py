"""`init` is pure for models too; the stateful shell writes Keras' build record."""

import json

import jax
import numpy as np
import pytest

import kerax
from kerax.errors import LayerShapeError
from tests.layers.test_conformance import _state_of

X = np.ones((2, 4), np.float32)


def _json(config):
    return json.loads(json.dumps(config))  # as saved: Keras' tuples and kerax' lists agree


def _models():
    inp = kerax.Input((4,))
    h = kerax.layers.Dense(3, name="h")(inp)
    functional = kerax.Model(inp, kerax.layers.BatchNormalization()(h))
    yield "functional", functional
    yield "sequential", kerax.Sequential([kerax.layers.Dense(3), kerax.layers.Dropout(0.5),
                                          kerax.layers.LayerNormalization()])
    yield "sequential_with_input", kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    yield "nested", kerax.Sequential([kerax.Sequential([kerax.layers.Dense(3)]),
                                      kerax.layers.Dense(1)])


def test_model_init_leaves_the_model_and_its_layers_unchanged():
    for name, model in _models():
        before = _state_of(model)
        model.init(jax.random.PRNGKey(0), X)
        assert _state_of(model) == before, name


def test_an_eager_call_writes_the_record_of_every_layer_it_builds(keras):
    model, kmodel = (k.Sequential([k.layers.Dense(3, name="a"), k.layers.Dense(1, name="b")],
                                  name="m") for k in (kerax, keras))
    model(X)
    kmodel(X)
    assert [l.built for l in model.layers] == [l.built for l in kmodel.layers] == [True, True]
    assert [w.path for w in model.weights] == [w.path for w in kmodel.weights]
    assert _json([l.get_build_config() for l in model.layers]) == _json(
        [l.get_build_config() for l in kmodel.layers])


def test_pure_init_then_the_shell_builds_as_if_init_never_ran(keras):
    layer = kerax.layers.Dense(3, name="d")
    layer.init(jax.random.PRNGKey(0), X)
    assert not layer.built and layer.weights == []
    layer(X)
    klayer = keras.layers.Dense(3, name="d")
    klayer(X)
    assert [w.path for w in layer.weights] == [w.path for w in klayer.weights]
    assert _json(layer.get_build_config()) == _json(klayer.get_build_config())


def test_a_never_built_layer_checks_inputs_against_its_variables():
    layer = kerax.layers.PReLU(name="p")
    variables = layer.init(jax.random.PRNGKey(0), X)
    # the error the built layer's input spec gives (the same for an eagerly built layer)
    message = r"PReLU 'p': expected rank 2 and input axis 1 to be 4 \(set at init\), " \
              r"received input of shape \(2, 5\)"
    with pytest.raises(LayerShapeError, match=message):
        layer.apply(variables, np.ones((2, 5), np.float32))
    layer(X)
    with pytest.raises(LayerShapeError, match=message):
        layer(np.ones((2, 5), np.float32))


def test_variables_for_another_shape_name_both_shapes():
    layer = kerax.layers.LayerNormalization(axis=[-2, -1], name="ln")
    variables = layer.init(jax.random.PRNGKey(0), np.ones((2, 3, 4), np.float32))
    with pytest.raises(LayerShapeError, match=r"LayerNormalization 'ln': its variables were "
                                              r"created for inputs of another shape \(params "
                                              r".*\(3, 4\).*received input of shape "
                                              r"\(2, 5, 6\) \(which needs params .*\(5, 6\)"):
        layer.apply(variables, np.ones((2, 5, 6), np.float32))


def _dense_bn(k):
    return k.Sequential([k.layers.Dense(3, name="d"), k.layers.BatchNormalization(name="bn")],
                        name="m")


def _paths(model):
    return [w.path for w in model.weights]


def test_variables_from_a_jitted_init_take_keras_weight_order_at_the_first_call(keras):
    kmodel = _dense_bn(keras)
    kmodel(X)
    model = _dense_bn(kerax)
    model.variables = jax.jit(model.init)(jax.random.PRNGKey(0), X)  # dicts come back sorted
    model(X)
    assert model.built and _paths(model) == _paths(kmodel)
    layer = kerax.layers.Dense(3, name="d")
    layer.variables = jax.jit(layer.init)(jax.random.PRNGKey(0), X)
    np.testing.assert_array_equal(layer(X), X @ layer.variables["params"]["kernel"])
    assert [w.path for w in layer.weights] == ["d/kernel", "d/bias"]


def test_fit_builds_a_model_given_jitted_variables_or_a_distribution_in_keras_order(keras):
    kmodel = _dense_bn(keras)
    kmodel.compile("sgd", "mse")
    kmodel.fit(X, np.ones((2, 3)), verbose=0)
    given = _dense_bn(kerax)
    given.variables = jax.jit(given.init)(jax.random.PRNGKey(0), X)
    distributed = _dense_bn(kerax)
    with kerax.distribution.DataParallel().scope():  # a jitted init into the shardings
        for model in (given, distributed):
            model.compile("sgd", "mse")
            model.fit(X, np.ones((2, 3)), verbose=0)
            assert model.built and _paths(model) == _paths(kmodel)
            assert [w.shape for w in model.weights] == [tuple(w.shape) for w in kmodel.weights]


def _deep(k):
    return k.Sequential([k.layers.LSTM(3, return_sequences=True, name="lstm"),
                         k.layers.LayerNormalization(name="ln"),
                         k.layers.Conv1D(2, 3, name="conv"), k.layers.GRU(2, name="gru"),
                         k.layers.Dense(1, name="o")], name="s")


@pytest.mark.parametrize("make, x", [(_dense_bn, X), (_deep, np.ones((2, 5, 4), np.float32))],
                         ids=["dense_bn", "deep"])
def test_variables_from_a_jitted_init_list_in_keras_order_before_any_call(keras, make, x):
    """A jitted `init` returns dicts with sorted keys ({"bias", "kernel"}); the never-built
    model still lists (and sets) its weights in Keras' order, with Keras' paths."""
    kmodel = make(keras)
    kmodel(x)
    model = make(kerax)
    model.variables = jax.jit(model.init)(jax.random.PRNGKey(0), x)
    assert not model.built
    assert [(w.path, tuple(w.shape)) for w in model.weights] == \
        [(w.path, tuple(w.shape)) for w in kmodel.weights]
    model.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(model(x), kmodel(x), rtol=1e-5, atol=1e-6)


def _hand_built_classes(lib):
    class OneArg(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")

        def call(self, x):
            return lib.ops.matmul(x, self.w)

    class TwoArgs(lib.layers.Layer):
        def build(self, input_shape, init):
            super().build(input_shape)
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer=init)
            self.init_name = init

        def call(self, x):
            return lib.ops.matmul(x, self.w)

    return OneArg, TwoArgs


def test_a_build_called_by_hand_records_its_arguments_as_keras(keras):
    """Keras' build wrapper: one argument is the build config's `input_shape`, several its
    `shapes_dict`; the layer then works inside a model without being given them again."""
    configs = []
    for lib in (keras, kerax):
        one_arg, two_args = _hand_built_classes(lib)
        a, b = one_arg(), two_args()
        a.build((None, 5))
        b.build(input_shape=(5,), init="zeros")
        configs.append(json.loads(json.dumps((a.get_build_config(), b.get_build_config()))))
        model = lib.Sequential([b, lib.layers.Dense(1)])
        assert tuple(model(np.ones((3, 5), "float32")).shape) == (3, 1)
        assert b.init_name == "zeros" and not np.asarray(b.w).any()
    assert configs[1] == configs[0]


def test_build_from_config_with_a_shapes_dict_calls_build_with_those_arguments():
    _, two_args = _hand_built_classes(kerax)
    layer = two_args()
    layer.build_from_config({"shapes_dict": {"input_shape": [None, 4], "init": "ones"}})
    assert layer.built and layer.init_name == "ones"
    assert layer.get_build_config() == {
        "shapes_dict": {"input_shape": [None, 4], "init": "ones"}}
    np.testing.assert_array_equal(np.asarray(layer(np.ones((1, 4), "float32"))), [[4.0, 4.0]])
