"""A repeated `predict` on an array of the same shape and dtype runs the plan the first call
checked and made (`kerax.trainer.predict_plan`): the same outputs bit for bit, the same
progress bar, callbacks and state as the full path, the errors of the full path for new
shapes, and the weights as they are now."""

import gc
import io
import re

import numpy as np
import pytest

import kerax
from kerax.errors import LayerShapeError
from kerax.trainer import compile_cache, predict_plan
from kerax.utils import progbar as progbar_lib


def _mlp(lib, seed=0):
    lib.utils.set_random_seed(seed)
    return lib.Sequential([lib.Input((6,)), lib.layers.Dense(16, activation="relu"),
                           lib.layers.Dense(3)])


@pytest.mark.parametrize("n, batch_size", [(1, None), (5, None), (32, None), (64, None),
                                           (100, 32), (7, 4), (64, 64)])
def test_repeated_predict_is_bit_identical_to_the_full_path_and_close_to_keras(
        keras, rng, n, batch_size):
    x = rng.normal(size=(n, 6)).astype("float32")
    model, theirs = _mlp(kerax), _mlp(keras)
    theirs.set_weights(model.get_weights())
    first = model.predict(x, batch_size=batch_size, verbose=0)  # checks, plans, keeps
    again = [model.predict(x, batch_size=batch_size, verbose=0) for _ in range(2)]
    # A callback takes the full path every time.
    full = model.predict(x, batch_size=batch_size, verbose=0,
                         callbacks=[kerax.callbacks.Callback()])
    for out in again + [full]:
        assert out.dtype == first.dtype and out.shape == (n, 3)
        np.testing.assert_array_equal(out, first)
    np.testing.assert_allclose(first, theirs.predict(x, batch_size=batch_size, verbose=0),
                               rtol=1e-5, atol=1e-6)
    again[0][0, 0] = 7.0  # a fresh, writable array every call
    np.testing.assert_array_equal(again[1], first)


def test_the_plan_is_kept_per_shape_dtype_and_batch_size(rng):
    model = _mlp(kerax)
    x = rng.normal(size=(3, 6)).astype("float32")
    model.predict(x, verbose=0)
    model.predict(x, batch_size=2, verbose=0)
    model.predict(x.astype("float64"), verbose=0)
    model.predict(x[:2], verbose=0)
    kept = [k for k in model._programs if k[0] == "predict_plan"]
    assert len(kept) == 4
    model.compile(optimizer="sgd", loss="mse")  # compile resets the programs
    assert not [k for k in model._programs if k[0] == "predict_plan"]


def test_fewer_examples_than_a_batch_run_at_a_power_of_two_rows(rng):
    model = _mlp(kerax)
    for n, rows in [(1, 1), (3, 4), (20, 32)]:
        model.predict(rng.normal(size=(n, 6)).astype("float32"), verbose=0)
        plan = model._programs[predict_plan.key(
            model, np.zeros((n, 6), "float32"), None, None, None)]
        assert plan.plan[0].shape == (1, rows)
        assert plan.pad == (rows if rows > n else None)


def test_1_to_32_examples_compile_one_program_per_power_of_two_rows(keras, rng):
    model, theirs = _mlp(kerax), _mlp(keras)
    theirs.set_weights(model.get_weights())
    x = rng.normal(size=(32, 6)).astype("float32")
    with compile_cache.track() as stats:
        outs = {n: model.predict(x[:n], verbose=0) for n in range(1, 33)}
    assert stats.compiles <= 6  # rows 1, 2, 4, 8, 16, 32 (not one per n)
    with compile_cache.track() as stats:
        again = {n: model.predict(x[:n], verbose=0) for n in (1, 3, 5, 17, 31, 32)}
    assert stats.compiles == 0
    for n, out in again.items():
        np.testing.assert_array_equal(out, outs[n])
    for n in (17, 31):  # padded rows change nothing in the real ones (of a 32-row batch)
        np.testing.assert_array_equal(outs[n], outs[32][:n])
    for n in (1, 3, 5, 17, 31, 32):
        assert outs[n].shape == (n, 3)
        np.testing.assert_allclose(outs[n], theirs.predict(x[:n], verbose=0),
                                   rtol=1e-5, atol=1e-6)


def test_pad_rows_copies_the_first_example_on_the_host():
    x = {"a": np.arange(6).reshape(3, 2), "b": np.arange(3)}
    padded = predict_plan.pad_rows(x, 4)
    np.testing.assert_array_equal(padded["a"], [[0, 1], [2, 3], [4, 5], [0, 1]])
    np.testing.assert_array_equal(padded["b"], [0, 1, 2, 0])
    assert predict_plan.pad_rows(x, 3) is x


def test_progress_bar_is_printed_on_every_call_as_keras_does(keras, rng, capsys):
    x = rng.normal(size=(1, 6)).astype("float32")
    printed = {}
    for lib in (kerax, keras):
        model = _mlp(lib)
        lines = []
        for verbose in ("auto", "auto", 1, 0, 0, 2, "auto"):
            model.predict(x, verbose=verbose)
            out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
            lines.append(out.replace("\x08", "").split("\r")[-1].strip().split(" ")[:2])
        printed[lib.__name__] = lines
    # "1/1 ━━━━ 0s 2ms/step" for "auto" and 1, nothing for 0, "1/1 - 0s - 2ms/step" for 2.
    assert printed["kerax"] == printed["keras"]
    assert printed["kerax"] == [["1/1", "━" * 20]] * 3 + [[""]] * 2 + [["1/1", "-"]] + [
        ["1/1", "━" * 20]]


def _recorder(lib):
    class Recorder(lib.callbacks.Callback):
        calls = []

        def on_predict_begin(self, logs=None):
            self.calls.append("begin")

        def on_predict_batch_begin(self, batch, logs=None):
            self.calls.append(("batch_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            self.calls.append(("batch_end", batch, np.shape(logs["outputs"])))

        def on_predict_end(self, logs=None):
            self.calls.append("end")

    return Recorder()


def test_callbacks_still_see_every_hook_on_repeated_calls(keras, rng):
    x = rng.normal(size=(10, 6)).astype("float32")
    calls = {}
    for lib in (kerax, keras):
        model = _mlp(lib)
        recorder = _recorder(lib)
        model.predict(x, batch_size=4, verbose=0)  # a plan kept without callbacks
        model.predict(x, batch_size=4, verbose=0, callbacks=[recorder])
        model.predict(x, batch_size=4, verbose=0, callbacks=[recorder])
        calls[lib.__name__] = recorder.calls
    assert calls["kerax"] == calls["keras"]
    assert calls["kerax"][:3] == ["begin", ("batch_begin", 0), ("batch_end", 0, (4, 3))]


def test_a_new_shape_after_a_kept_plan_gets_the_full_paths_error(rng):
    model = _mlp(kerax)
    x = rng.normal(size=(2, 6)).astype("float32")
    model.predict(x, verbose=0)
    model.predict(x, verbose=0)
    with pytest.raises((ValueError, LayerShapeError), match=r"\(2, 7\)"):
        model.predict(np.ones((2, 7), "float32"), verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.predict(x, batch_size=0, verbose=0)


def test_new_weights_from_set_weights_and_fit_are_used(rng):
    model = _mlp(kerax)
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(size=(4, 6)).astype("float32")
    y = rng.normal(size=(4, 3)).astype("float32")
    before = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)
    model.fit(x, y, epochs=2, verbose=0)
    after_fit = model.predict(x, verbose=0)
    assert not np.allclose(after_fit, before)
    np.testing.assert_allclose(after_fit, np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((4, 3)))
    model.layers[-1].bias.assign(np.ones(3, "float32"))
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.ones((4, 3)))


def test_state_a_layer_assigns_in_call_is_kept_on_repeated_calls(keras, rng):
    x = rng.normal(size=(5, 6)).astype("float32")
    counts = []
    for lib in (kerax, keras):
        class Counter(lib.layers.Layer):
            def build(self, shape):
                self.count = self.add_weight(shape=(), initializer="zeros",
                                             trainable=False, name="count")

            def call(self, x):
                self.count.assign(self.count + 1.0)
                return x

        counter = Counter()
        model = lib.Sequential([lib.Input((6,)), counter, lib.layers.Dense(2)])
        for _ in range(3):
            model.predict(x, batch_size=2, verbose=0)
            model.predict(x[:1], verbose=0)
        counts.append(float(np.asarray(counter.count)))
    assert counts[0] == counts[1] == 12.0


def test_a_layer_shared_with_another_model_is_read_where_it_was_last_set(keras, rng):
    x = rng.normal(size=(2, 6)).astype("float32")
    got = {}
    for lib in (kerax, keras):
        dense = lib.layers.Dense(3)
        first = lib.Sequential([lib.Input((6,)), dense])
        outs = [first.predict(x, verbose=0) for _ in range(2)]
        calls = [np.asarray(first(x)) for _ in range(5)]
        second = lib.Sequential([lib.Input((6,)), dense])
        second.set_weights([np.ones((6, 3), "float32"), np.zeros(3, "float32")])
        outs.append(first.predict(x, verbose=0))
        calls.append(np.asarray(first(x)))
        got[lib.__name__] = (outs, calls)
    for lib in ("kerax", "keras"):
        outs, calls = got[lib]
        np.testing.assert_allclose(outs[-1], np.repeat(x.sum(1, keepdims=True), 3, 1),
                                   rtol=1e-5)
        np.testing.assert_allclose(calls[-1], outs[-1], rtol=1e-5)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("n, batch_size", [(1, None), (10, 4)])
def test_a_kept_plans_progress_bar_prints_what_the_full_path_prints(
        monkeypatch, rng, terminal, n, batch_size):
    monkeypatch.setattr(progbar_lib.time, "time", lambda: 1000.0)  # a stopped clock
    model = _mlp(kerax)
    x = rng.normal(size=(n, 6)).astype("float32")
    printed = []
    for callbacks in (None, None, [kerax.callbacks.Callback()]):  # full, kept, full
        for verbose in ("auto", 2):
            out = _Terminal() if terminal else io.StringIO()
            monkeypatch.setattr(progbar_lib.sys, "stdout", out)
            model.predict(x, batch_size=batch_size, verbose=verbose, callbacks=callbacks)
            printed.append(out.getvalue())
    steps = -(-n // (batch_size or 32))
    assert printed[:2] == printed[2:4] == printed[4:]
    assert re.sub(r"\x1b\[[0-9;]*m", "", printed[0]).split("\r")[-1] == (
        f"{steps}/{steps} {'━' * 20} 0s 0s/step\n")
    assert printed[1] == f"{steps}/{steps} - 0s - 0s/step\n"


def test_a_kept_plans_progress_bar_leaves_nothing_to_the_garbage_collector(rng, capsys):
    model = _mlp(kerax)
    x = rng.normal(size=(3, 6)).astype("float32")
    for verbose in (0, 1):
        model.predict(x, verbose=verbose)
    gc.collect()
    gc.disable()  # (each call's objects must go by reference counting alone)
    try:
        for verbose in (0, 1, 2) * 3:
            model.predict(x, verbose=verbose)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_the_real_rows_of_joined_outputs():
    masks = [np.array([[True, True, True, False]])]
    assert predict_plan.real_rows(masks) == slice(0, 3)
    assert predict_plan.real_rows([np.ones((2, 4), bool)]) == slice(0, 8)
    holes = [np.array([[True, False]]), np.array([[True, True]])]
    np.testing.assert_array_equal(predict_plan.real_rows(holes), [True, False, True, True])
