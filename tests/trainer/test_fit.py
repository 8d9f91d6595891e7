"""fit/evaluate/predict behaviour: arguments, steps per execution, outputs, errors."""

import io
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kerax
from kerax.errors import LayerShapeError, NotCompiledError, UnknownIdentifierError


def _data(n=40, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    y = rng.integers(0, classes, n).astype("int32")
    return x, y


def _model(d=6, classes=3, **compile_kw):
    model = kerax.Sequential([kerax.Input((d,)), kerax.layers.Dense(8, activation="relu"),
                              kerax.layers.Dense(classes, activation="softmax")])
    compile_kw.setdefault("optimizer", "adam")
    compile_kw.setdefault("loss", "sparse_categorical_crossentropy")
    compile_kw.setdefault("metrics", ["accuracy"])
    model.compile(**compile_kw)
    return model


@pytest.fixture(scope="module")
def trained():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0,
                        validation_data=(x[:10], y[:10]))
    return model, history, x, y


def test_history_and_logs(trained):
    model, history, x, y = trained
    assert history.params["epochs"] == 2 and history.epoch == [0, 1]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert model.history is history


def test_evaluate_forms(trained):
    model, _, x, y = trained
    as_list = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert as_list == [as_dict["loss"], as_dict["accuracy"]]
    assert model.metrics_names == ["loss", "compile_metrics"]  # as Keras 3


def test_predict_and_on_batch(trained):
    model, _, x, y = trained
    out = model.predict(x, batch_size=7, verbose=0)
    assert out.shape == (40, 3)
    np.testing.assert_allclose(out, model.apply(model.variables, x)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-5, atol=1e-6)
    logs = model.test_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["loss"], model.evaluate(x, y, verbose=0, batch_size=40)[0],
                               rtol=1e-5)


def test_train_on_batch_updates_weights():
    x, y = _data()
    model = _model()
    before = model.get_weights()
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 1


def test_steps_per_execution_gives_the_same_numbers():
    x, y = _data(n=37)
    results, initial = [], _model().get_weights()
    for k in (1, 3, "auto"):
        model = _model(steps_per_execution=k)
        model.set_weights(initial)
        h = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append((h.history["loss"], model.get_weights()))
    for hist, weights in results[1:]:
        np.testing.assert_allclose(hist, results[0][0], rtol=1e-5)
        for a, b in zip(weights, results[0][1]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_initial_epoch_steps_per_epoch_and_validation_freq():
    x, y = _data()
    model = _model()
    h = model.fit(x, y, batch_size=8, epochs=4, initial_epoch=1, steps_per_epoch=2,
                  validation_split=0.25, validation_freq=2, verbose=0)
    assert h.epoch == [1, 2, 3]
    assert len(h.history["loss"]) == 3 and len(h.history["val_loss"]) == 2  # epochs 1 and 3
    assert model.optimizer.iterations == 6


def test_optax_transform_and_sample_weight():
    x, y = _data()
    model = _model(optimizer=optax.sgd(0.1), metrics=None)
    h = model.fit(x, y, sample_weight=np.ones(40), epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    h = model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight` at "
                                         "the same time"):  # as Keras 3
        model.fit(x, y, sample_weight=np.ones(40), class_weight={0: 1.0}, verbose=0)


def test_learning_rate_is_settable_between_epochs():
    x, y = _data()
    model = _model(optimizer=kerax.optimizers.SGD(learning_rate=0.1))

    class Halve(kerax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.optimizer.learning_rate = float(self.model.optimizer.learning_rate) / 2

    model.fit(x, y, epochs=2, verbose=0, callbacks=[Halve()])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025)


def test_frozen_layer_gets_no_updates():
    x, y = _data()
    model = _model()
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights() if model.layers[0].variables else None
    before = model.get_weights()[:2]
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()[:2]):
        np.testing.assert_array_equal(a, b)
    assert frozen is not None


def test_progress_output_without_terminal(capsys):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=1, validation_split=0.2)
    model.evaluate(x, y, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert re.search(r"2/2 .* - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy", out)
    assert "\r" not in out and "\b" not in out and "\x1b" not in out


def test_verbose_2_is_one_line_per_epoch(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=16, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if l]
    assert len(lines) == 4 and lines[1].startswith("3/3 - ")


def test_apply_is_pure_under_jit_grad_vmap(trained):
    model, _, x, y = trained
    v = model.variables
    f = lambda v, x: model.apply(v, x)[0]  # noqa: E731
    np.testing.assert_allclose(jax.jit(f)(v, x), f(v, x), rtol=1e-6)
    g = jax.grad(lambda p: jnp.sum(f({"params": p, "state": v["state"]}, x)))(v["params"])
    assert jax.tree_util.tree_structure(g) == jax.tree_util.tree_structure(v["params"])
    stacked = jnp.stack([x[:4], x[4:8]])
    np.testing.assert_allclose(jax.vmap(f, in_axes=(None, 0))(v, stacked)[1], f(v, x[4:8]),
                               rtol=1e-5)


# ----------------------------------------------------------------------------- errors --
ERRORS = [
    ("length", lambda m, x, y: m.fit(x, y[:-1], verbose=0), ValueError,
     r"Data cardinality is ambiguous: x has 40, y has 39 samples"),
    ("features", lambda m, x, y: m.fit(x[:, :4], y, verbose=0), LayerShapeError,
     r"Dense 'dense(_\d+)?': expected .*last input axis to be 6 .*received input of shape \(32, 4\)"),
    ("target-shape", lambda m, x, y: m.fit(x, np.zeros((40, 2)), verbose=0), ValueError,
     r"y_true.shape=\(32, 2\).*y_pred.shape=\(32, 3\)"),  # the user's batch of 32
    ("empty", lambda m, x, y: m.fit(x[:0], y[:0], verbose=0), ValueError, r"empty \(0 samples\)"),
    ("batch-size", lambda m, x, y: m.fit(x, y, batch_size=0, verbose=0), ValueError,
     r"`batch_size` must be a positive integer. Received: batch_size=0"),
    ("split", lambda m, x, y: m.fit(x, y, validation_split=1.0, verbose=0), ValueError,
     r"`validation_split` must be a float in \[0, 1\)"),
    ("strings", lambda m, x, y: m.fit(np.array([["a"] * 6] * 40), y, verbose=0), TypeError,
     r"`x` has dtype <U1, which kerax cannot train on"),
    ("label-range", lambda m, x, y: m.fit(x, y + 2, verbose=0), ValueError,
     r"must be integers in \[0, 2\] .* contains values from 2 to 4"),
]


@pytest.mark.parametrize("name,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_errors(name, call, exc, match):
    x, y = _data()
    model = _model()
    before = model.get_weights()
    with pytest.raises(exc, match=match):
        call(model, x, y)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was damaged


@pytest.mark.parametrize("kw,kind,match", [
    (dict(optimizer="adamm"), "optimizer", r"Unknown optimizer identifier: 'adamm'. Did you mean: 'adam'"),
    (dict(loss="mse_"), "loss", r"Unknown loss identifier: 'mse_'. Did you mean: 'mse'"),
    (dict(metrics=["acuracy"]), "metric", r"Unknown metric identifier: 'acuracy'"),
])
def test_unknown_identifiers_at_compile(kw, kind, match):
    with pytest.raises(UnknownIdentifierError, match=match):
        _model(**kw)


def test_fit_before_compile():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
    with pytest.raises(NotCompiledError, match=r"You must call `compile\(\)` before `fit\(\)`"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)))


def _nan_data():
    x, y = _data()
    x = x.copy()
    x[20:24] = np.nan  # batch 2 of 5 (batch size 8) has NaN inputs
    return x, y


def test_nan_loss_raises_and_keeps_the_last_good_state():
    x, y = _nan_data()
    reference = _model(steps_per_execution=1)
    w0 = reference.get_weights()
    reference.fit(x[:16], y[:16], batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model(steps_per_execution=1)
    model.set_weights(w0)
    model.fit(x[:16], y[:16], batch_size=8, epochs=1, shuffle=False, verbose=0)
    # Steps 2 and 3 are good (the same batches as above); step 4 sees NaN inputs.
    with pytest.raises(kerax.errors.NonFiniteLossError, match="training step 4"):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert model.optimizer.iterations == 4


def test_terminate_on_nan_stops_quietly(capsys):
    x, y = _nan_data()
    model = _model(steps_per_execution=2)
    h = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                  callbacks=[kerax.callbacks.TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert len(h.history.get("loss", [])) <= 1
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_metrics_with_data_shaped_state_and_array_results():
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype("float32")
    y = (rng.random((40, 3)) > 0.5).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[kerax.metrics.F1Score(), kerax.metrics.AUC(multi_label=True),
                           kerax.metrics.R2Score()])
    h = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert h.history["f1_score"][0].shape == (3,)
    standalone = kerax.metrics.F1Score()
    standalone.update_state(y, model.predict(x, verbose=0))
    loss, f1, auc, r2 = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(f1, standalone.result(), rtol=1e-5)


def test_small_cnn_trains_one_step_per_dispatch_on_cpu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 24).astype("int32")
    model = kerax.Sequential([
        kerax.Input((8, 8, 1)), kerax.layers.Conv2D(4, 3, activation="relu"),
        kerax.layers.MaxPooling2D(), kerax.layers.AveragePooling2D(pool_size=2, padding="same"),
        kerax.layers.Flatten(), kerax.layers.Dense(3)])
    model.compile("adam", kerax.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    if jax.default_backend() == "cpu":
        assert model._fit_steps_per_execution == 1  # no convolution inside a rolled loop


def test_shape_errors_show_the_users_batch_size():
    """The pre-compile check traces at the real batch size: the message shows the shapes
    of the user's batches, not of a probe."""
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(5)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((64, 4), "float32"), np.ones((64, 3), "float32")
    with pytest.raises(ValueError, match=r"y_true.shape=\(32, 3\) and y_pred.shape=\(32, 5\)"):
        model.fit(x, y, batch_size=32, verbose=0)
    with pytest.raises(ValueError, match=r"y_true.shape=\(10, 3\)"):
        model.evaluate(x[:10], y[:10], batch_size=32, verbose=0)


def test_train_on_batch_rejects_class_and_sample_weight_together():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="`sample_weight` and `class_weight` cannot be "
                                         "specified at the same time"):
        model.train_on_batch(x, y, sample_weight=np.ones(40), class_weight={0: 2.0})
