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
    layer = kerax.layers.PReLU()
    variables = layer.init(jax.random.PRNGKey(0), X)
    with pytest.raises(LayerShapeError, match=r"PReLU '.*': its variables were created for "
                                              r"inputs of another shape.*received input of "
                                              r"shape \(2, 5\)"):
        layer.apply(variables, np.ones((2, 5), np.float32))
