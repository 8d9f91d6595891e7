"""Callbacks against Keras 3: same decisions on the same logs, files, hooks, errors."""

import glob
import os
import struct
import types

import numpy as np
import pytest

import kerax
from kerax.callbacks import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
                             ModelCheckpoint, MonitorCallback, ReduceLROnPlateau)
from kerax.callbacks.swap_ema_weights import SwapEMAWeights

LOSSES = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.52, 0.53, 0.54, 0.55, 0.56, 0.2]


def _drive(cb, model, values, monitor="val_loss"):
    cb.set_model(model)
    cb.on_train_begin()
    trace = []
    for epoch, v in enumerate(values):
        cb.on_epoch_begin(epoch, {})
        logs = {monitor: v, "loss": v}
        cb.on_epoch_end(epoch, logs)
        trace.append((float(np.asarray(model.optimizer.learning_rate)),
                      getattr(model, "stop_training", False), getattr(cb, "wait", None)))
        if getattr(model, "stop_training", False):
            break
    return trace


def _fake(lib):
    return types.SimpleNamespace(optimizer=lib.optimizers.SGD(learning_rate=1.0),
                                 stop_training=False, metrics=[])


@pytest.mark.parametrize("kwargs", [
    {"factor": 0.5, "patience": 1},
    {"factor": 0.1, "patience": 2, "cooldown": 2, "min_lr": 0.005},
    {"factor": 0.5, "patience": 1, "min_delta": 0.05, "mode": "min"},
    {"factor": 0.5, "patience": 2, "mode": "max"},
])
def test_reduce_lr_on_plateau_matches_keras(keras, kwargs):
    ours = _drive(ReduceLROnPlateau(**kwargs), _fake(kerax), LOSSES)
    theirs = _drive(keras.callbacks.ReduceLROnPlateau(**kwargs), _fake(keras), LOSSES)
    np.testing.assert_allclose([t[0] for t in ours], [t[0] for t in theirs], rtol=1e-7)
    assert [t[2] for t in ours] == [t[2] for t in theirs]


@pytest.mark.parametrize("kwargs", [
    {"patience": 0},
    {"patience": 2},
    {"patience": 2, "min_delta": 0.05},
    {"patience": 3, "baseline": 0.6},
    {"patience": 1, "start_from_epoch": 4},
    {"patience": 2, "mode": "max"},
])
def test_early_stopping_matches_keras(keras, kwargs):
    ours, theirs = EarlyStopping(**kwargs), keras.callbacks.EarlyStopping(**kwargs)
    a = _drive(ours, _fake(kerax), LOSSES)
    b = _drive(theirs, _fake(keras), LOSSES)
    assert [t[1:] for t in a] == [t[1:] for t in b]
    assert (ours.best, ours.best_epoch, ours.stopped_epoch) == (
        theirs.best, theirs.best_epoch, theirs.stopped_epoch)


def test_early_stopping_restores_best_weights_in_fit():
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    model.compile(optimizer=kerax.optimizers.SGD(0.05), loss="mse")
    seen = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    # mode="max" on a falling loss: epoch 0 is the best, training stops at epoch 2.
    es = EarlyStopping(monitor="loss", mode="max", patience=2, restore_best_weights=True)
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    h = model.fit(x, x.sum(1, keepdims=True), epochs=10, verbose=0, callbacks=[record, es])
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 2
    for got, want in zip(model.get_weights(), seen[0]):
        np.testing.assert_array_equal(got, want)


def test_monitor_auto_mode():
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy", "mae"])
    model.fit(np.ones((4, 2)), np.ones((4, 2)), verbose=0)
    for monitor, op in [("val_accuracy", np.greater), ("mae", np.less), ("loss", np.less)]:
        cb = MonitorCallback(monitor=monitor)
        cb.set_model(model)
        cb._set_monitor_op()
        assert cb.monitor_op is op, monitor
    cb = MonitorCallback(monitor="val_whatever")
    cb.set_model(model)
    with pytest.raises(ValueError, match="monitor=val_whatever.*Pass `mode='max'`"):
        cb._set_monitor_op()


def test_learning_rate_scheduler_matches_keras(keras):
    for schedule in (lambda epoch, lr: lr * 0.5 if epoch > 1 else lr,
                     lambda epoch: 0.1 / (epoch + 1)):
        got = _drive(LearningRateScheduler(schedule), _fake(kerax), LOSSES[:5])
        want = _drive(keras.callbacks.LearningRateScheduler(schedule), _fake(keras), LOSSES[:5])
        np.testing.assert_allclose([g[0] for g in got], [w[0] for w in want], rtol=1e-7)
    cb = LearningRateScheduler(lambda epoch: "fast")
    cb.set_model(_fake(kerax))
    with pytest.raises(ValueError, match="should be a float. Got: fast"):
        cb.on_epoch_begin(0)


def test_schedules_and_reductions_reach_the_training_step():
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    model.compile(optimizer=kerax.optimizers.SGD(1.0), loss="mse")
    sched = LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
    h = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[sched])
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.05, 0.025], rtol=1e-6)


@pytest.mark.parametrize("separator, append", [(",", False), (";", True)])
def test_csv_logger_matches_keras(keras, tmp_path, separator, append):
    files = {}
    for name, cls in (("ours", CSVLogger), ("keras", keras.callbacks.CSVLogger)):
        path = str(tmp_path / f"{name}.csv")
        for run in range(2):  # a second fit appends (or overwrites)
            cb = cls(path, separator=separator, append=append)
            cb.on_train_begin()
            for epoch in range(2):
                cb.on_epoch_end(epoch, {"loss": 0.5 / (epoch + 1), "mae": [1, 2][epoch]})
            cb.on_train_end()
        files[name] = open(path).read()
    assert files["ours"] == files["keras"]


def _tiny(name="m"):
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1, name="d")], name=name)
    model.compile(optimizer=kerax.optimizers.SGD(0.05), loss="mse", steps_per_execution=1)
    return model


def test_model_checkpoint_formats_names_and_saves_best_only(tmp_path):
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    y = x.sum(1, keepdims=True)
    every = ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{loss:.3f}.weights.h5"),
                            save_weights_only=True)
    best = ModelCheckpoint(str(tmp_path / "best-{epoch}.weights.h5"), monitor="loss",
                           mode="max", save_best_only=True, save_weights_only=True)
    batches = ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.weights.h5"), save_freq=3,
                              save_weights_only=True)
    record = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    seen, model = [], _tiny()
    h = model.fit(x, y, batch_size=4, epochs=3, verbose=0,
                  callbacks=[record, every, best, batches])
    restored = _tiny()
    restored.load_weights(str(tmp_path / "best-1.weights.h5"))
    for got, want in zip(restored.get_weights(), seen[0]):
        np.testing.assert_array_equal(got, want)
    names = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*")))
    expected = [f"e{e + 1:02d}-{loss:.3f}.weights.h5" for e, loss in
                enumerate(h.history["loss"])]
    assert [n for n in names if n.startswith("e")] == expected
    assert [n for n in names if n.startswith("best")] == ["best-1.weights.h5"]
    # 4 batches per epoch, one per execution: saves after global batches 3, 6, 9, 12.
    assert sorted(n for n in names if n[0] == "b" and n[1].isdigit()) == [
        "b1-3.weights.h5", "b2-2.weights.h5", "b3-1.weights.h5", "b3-4.weights.h5"]


@pytest.mark.parametrize("kwargs, match", [
    ({"filepath": "w.h5", "save_weights_only": True}, "must end in `.weights.h5`"),
    ({"filepath": "model.pt"}, "must end in `.keras`"),
    ({"filepath": "m.keras", "save_freq": "batch"}, "Unrecognized save_freq: batch"),
])
def test_model_checkpoint_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(**kwargs)


def test_model_checkpoint_unknown_format_key(tmp_path):
    cb = ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cb._get_file_path(0, None, {"loss": 1.0})


def test_reduce_lr_factor_error():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ReduceLROnPlateau(factor=1.5)


def test_lambda_callback_and_execution_boundaries():
    events = []
    cb = LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                        on_epoch_end=lambda e, logs: events.append(("epoch", e, "loss" in logs)),
                        on_train_batch_end=lambda b, logs: events.append(("batch", b)),
                        on_test_end=lambda logs: events.append("test"))
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=2)
    model.fit(np.ones((20, 2)), np.ones((20, 1)), batch_size=4, epochs=1, verbose=0,
              validation_data=(np.ones((4, 2)), np.ones((4, 1))), callbacks=[cb])
    # 5 steps in executions of 2, 2, 1: batch hooks at execution boundaries only, with
    # Keras 3's index `begin + 2 - 1` (5 for the last, one-step execution).
    assert events == ["begin", ("batch", 1), ("batch", 3), ("batch", 5), "test",
                      ("epoch", 0, True)]


def test_swap_ema_weights_evaluates_with_the_average():
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    model.compile(optimizer=kerax.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5),
                  loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    raw = model.get_weights()
    ema = model.optimizer.finalize_variable_values(model.variables["params"])
    plain = model.evaluate(x, y, verbose=0)
    swapped = model.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])
    for got, want in zip(model.get_weights(), raw):  # swapped back afterwards
        np.testing.assert_array_equal(got, want)
    model.variables = {"params": ema, "state": model.variables["state"]}
    assert swapped == model.evaluate(x, y, verbose=0) != plain
    no_ema = _tiny()
    no_ema.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        no_ema.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])


def test_swap_ema_on_epoch_keeps_the_average_at_the_end():
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1, name="d")])
    model.compile(optimizer=kerax.optimizers.SGD(0.1, use_ema=True), loss="mse")
    model.fit(x, x.sum(1, keepdims=True), epochs=2, verbose=0)
    ema = model.optimizer.finalize_variable_values(model.variables["params"])["d"]
    # Without swapping the model ends with its raw weights; with swap_on_epoch, the EMA.
    assert not np.array_equal(model.get_weights()[0], ema["kernel"])
    averages = []  # the EMA at each epoch's end, read before SwapEMAWeights runs
    record = LambdaCallback(on_epoch_end=lambda e, logs: averages.append(
        model.optimizer.finalize_variable_values(model.variables["params"])["d"]))
    model.fit(x, x.sum(1, keepdims=True), epochs=2, verbose=0,
              callbacks=[record, SwapEMAWeights(swap_on_epoch=True)])
    np.testing.assert_array_equal(model.get_weights()[0], averages[-1]["kernel"])
    np.testing.assert_array_equal(model.get_weights()[1], averages[-1]["bias"])
    assert not np.array_equal(averages[0]["kernel"], averages[1]["kernel"])


def _read_events(directory):
    from tensorboardX.proto import event_pb2

    scalars, histograms = {}, set()
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        data = open(path, "rb").read()
        pos = 0
        while pos < len(data):  # TFRecord: length, crc, payload, crc
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 16 + length
            for v in event.summary.value:
                if v.HasField("histo"):
                    histograms.add(v.tag)
                else:
                    scalars.setdefault(v.tag, []).append((event.step, v.simple_value))
    return scalars, histograms


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    from kerax.callbacks.tensorboard import TensorBoard

    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = _tiny()
    tb = TensorBoard(log_dir=str(tmp_path), histogram_freq=1, update_freq=2)
    h = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=(x, y),
                  callbacks=[tb])
    train, hist = _read_events(tmp_path / "train")
    val, _ = _read_events(tmp_path / "validation")
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], h.history["loss"],
                               rtol=1e-6)
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    np.testing.assert_allclose([v for _, v in val["epoch_loss"]], h.history["val_loss"],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.05, 0.05])
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]
    assert "evaluation_loss_vs_iterations" in val
    # Keras names histograms by `weight.path`: "m/d/kernel" for a layer built in model "m".
    assert {"m/d/kernel/histogram", "m/d/bias/histogram"} <= hist


def test_tensorboard_without_tensorboardx_says_how_to_install(monkeypatch):
    import sys

    from kerax.callbacks.tensorboard import TensorBoard

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        TensorBoard()


def test_public_names_match_keras(keras):
    ours = {n for n in dir(kerax.callbacks) if n[0].isupper()}
    theirs = {n for n in dir(keras.callbacks) if n[0].isupper()}
    assert theirs - ours == {"RemoteMonitor"}
