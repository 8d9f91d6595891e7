"""The `training` flag in a functional graph, vs Keras 3: a value given to the model's
call (True in `fit`, False in `predict`/`evaluate`) reaches every layer and overrides a
`training=` recorded on a node; with none given, each node's recorded value is used
(keras/src/models/functional.py `operation_fn`, keras-team/keras#20285)."""

import numpy as np
import pytest

import kerax

X = np.full((8, 2), 5.0, "float32")
Y = np.zeros((8, 1), "float32")


def _moving_means(lib, node_training, freeze_bn):
    """BatchNormalization's moving mean after fit, predict, evaluate and eager calls."""
    bn = lib.layers.BatchNormalization(name="bn")
    base = lib.Sequential([lib.Input((2,)), bn], name="base")
    if freeze_bn:
        bn.trainable = False
    inp = lib.Input((2,))
    model = lib.Model(inp, lib.layers.Dense(1, name="d")(base(inp, training=node_training)))
    model.compile("sgd", "mse")
    out = []
    read = lambda: out.append(np.asarray(bn.get_weights()[2]).copy())  # noqa: E731
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    read()
    model.predict(X, verbose=0)
    read()
    model.evaluate(X, Y, verbose=0)
    read()
    model(X)
    read()
    model(X, training=False)
    read()
    model(X, training=True)
    read()
    return out


@pytest.mark.parametrize("freeze_bn", [False, True])
@pytest.mark.parametrize("node_training", [False, True, None])
def test_call_training_overrides_the_node_value_as_keras(keras, node_training, freeze_bn):
    ours = _moving_means(kerax, node_training, freeze_bn)
    theirs = _moving_means(keras, node_training, freeze_bn)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_issue_reproducer_fit_updates_bn_called_with_training_false(keras):
    # The node's training=False does not stop fit from training the BatchNormalization.
    np.testing.assert_allclose(_moving_means(kerax, False, False)[0], [0.05, 0.05], rtol=1e-6)
    np.testing.assert_allclose(_moving_means(keras, False, False)[0], [0.05, 0.05], rtol=1e-6)


def _nested(lib):
    i = lib.Input((2,))
    inner = lib.Model(i, lib.layers.BatchNormalization(name="bn")(i, training=True),
                      name="inner")
    o = lib.Input((2,))
    return inner, lib.Model(o, inner(o, training=False), name="outer")


def test_nested_model_uses_the_recorded_value_only_when_the_call_has_none(keras):
    results = []
    for lib in (kerax, keras):
        inner, outer = _nested(lib)
        got = [np.asarray(outer(X)), np.asarray(inner.get_weights()[2]).copy()]
        got += [np.asarray(outer(X, training=True)), np.asarray(inner.get_weights()[2]).copy()]
        got += [np.asarray(inner(X)), np.asarray(inner.get_weights()[2]).copy()]
        results.append(got)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Keras: outer(X) runs the inner BN in inference mode (the outer node's False wins
    # over the inner node's True); outer(X, training=True) and inner(X) train it.
    np.testing.assert_allclose(results[0][1], [0.0, 0.0])
    assert float(results[0][5][0]) > float(results[0][3][0]) > 0


def test_predict_overrides_dropout_recorded_with_training_true(keras):
    for lib in (kerax, keras):
        i = lib.Input((2,))
        model = lib.Model(i, lib.layers.Dropout(0.5, name="drop")(i, training=True))
        np.testing.assert_array_equal(model.predict(X, verbose=0), X)
        assert np.any(np.asarray(model(X)) != X)  # no training given: the node's True


def _freezing_a_model_freezes_its_layers():
    bn = kerax.layers.BatchNormalization()
    base = kerax.Sequential([kerax.Input((2,)), bn])
    base.trainable = False
    return bn.trainable is False


@pytest.mark.skipif(not _freezing_a_model_freezes_its_layers(),
                    reason="needs `model.trainable = False` to reach sub-layers (Keras' setter)")
def test_frozen_base_model_keeps_bn_in_inference_during_fit(keras):
    results = []
    for lib in (kerax, keras):
        base = lib.Sequential([lib.Input((2,)), lib.layers.BatchNormalization(name="bn")])
        base.trainable = False
        inp = lib.Input((2,))
        model = lib.Model(inp, lib.layers.Dense(1, name="d")(base(inp)))
        model.compile("sgd", "mse")
        model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
        results.append(np.asarray(base.layers[0].get_weights()[2]))
    np.testing.assert_allclose(results[0], results[1])
    np.testing.assert_allclose(results[0], [0.0, 0.0])


def test_nested_dropout_recorded_with_training_true_runs_in_an_eager_call(keras):
    for lib in (kerax, keras):
        i = lib.Input((2,))
        inner = lib.Model(i, lib.layers.Dropout(0.5, name="drop")(i, training=True))
        o = lib.Input((2,))
        outer = lib.Model(o, inner(o))
        assert np.any(np.asarray(outer(X)) != X)  # the inner node's True applies
        np.testing.assert_array_equal(outer.predict(X, verbose=0), X)
