"""`predict`'s kept plan for a model with several inputs (and outputs): a list, tuple or
dict of arrays runs the plan the first call made, with the full path's outputs bit for
bit and Keras 3's outputs on the same weights, the full path's errors for a new shape,
and Keras' warning on every call for a dict with keys the model does not take."""

import warnings

import numpy as np
import pytest

import kerax
from kerax.trainer import inputs as inputs_lib
from kerax.trainer import predict_plan


def _two_inputs(lib, outputs="one"):
    lib.utils.set_random_seed(0)
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    h = lib.layers.Dense(8, activation="relu")(lib.layers.Concatenate()([a, b]))
    y = lib.layers.Dense(4, name="y")(h)
    if outputs == "one":
        return lib.Model([a, b], y)
    z = lib.layers.Dense(1, name="z")(h)
    return lib.Model([a, b], [y, z] if outputs == "list" else {"y": y, "z": z})


def _data(rng, n):
    return (rng.normal(size=(n, 3)).astype("float32"),
            rng.normal(size=(n, 2)).astype("float32"))


def _as(kind, a, b):
    return {"list": [a, b], "tuple": (a, b), "dict": {"b": b, "a": a}}[kind]


def _kept(model):
    return [k for k in model._programs if isinstance(k, tuple) and k[0] == "predict_plan"]


@pytest.mark.parametrize("kind, outputs", [("list", "one"), ("tuple", "list"),
                                           ("dict", "dict"), ("dict", "list")])
@pytest.mark.parametrize("n, batch_size", [(1, None), (40, 16)])
def test_several_inputs_run_the_kept_plan_with_the_full_paths_outputs_and_keras(
        keras, rng, outputs, kind, n, batch_size):
    model, theirs = _two_inputs(kerax, outputs), _two_inputs(keras, outputs)
    theirs.set_weights(model.get_weights())
    a, b = _data(rng, n)
    first = model.predict(_as(kind, a, b), batch_size=batch_size, verbose=0)
    assert len(_kept(model)) == 1
    again = model.predict(_as(kind, a, b), batch_size=batch_size, verbose=0)
    by_batch = model.predict_on_batch(_as(kind, a, b))
    full = model.predict(_as(kind, a, b), batch_size=batch_size, verbose=0,
                         callbacks=[kerax.callbacks.Callback()])  # (never kept)
    want = theirs.predict(_as(kind, a, b), batch_size=batch_size, verbose=0)
    assert type(first) is type(want)
    for got in (again, full):
        assert type(got) is type(first)
        for x, y in zip(kerax.tree.flatten(got), kerax.tree.flatten(first)):
            assert x.dtype == y.dtype and x.flags.writeable
            np.testing.assert_array_equal(x, y)
    for x, y, z in zip(kerax.tree.flatten(first), kerax.tree.flatten(want),
                       kerax.tree.flatten(by_batch)):
        assert x.shape[0] == n
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(z, y, rtol=1e-5, atol=1e-6)


def test_a_kept_plan_is_run_without_opening_the_input_again(monkeypatch, rng):
    model = _two_inputs(kerax, "list")
    a, b = _data(rng, 7)
    first = model.predict({"a": a, "b": b}, verbose=0)
    monkeypatch.setattr(inputs_lib, "open_input", _refuse)
    again = model.predict({"a": a, "b": b}, verbose=0)
    for x, y in zip(again, first):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(AssertionError, match="the full path"):  # another structure
        model.predict([a, b], verbose=0)


def _refuse(*args, **kwargs):
    raise AssertionError("the full path ran")


def test_a_kept_plan_is_per_structure_shape_and_dtype(rng):
    model = _two_inputs(kerax)
    a, b = _data(rng, 4)
    for x in ([a, b], (a, b), {"a": a, "b": b}, [a[:3], b[:3]], [a, b.astype("float64")]):
        model.predict(x, verbose=0)
        model.predict(x, verbose=0)
    assert len(_kept(model)) == 5


def test_a_new_shape_gets_the_full_paths_error(rng):
    model = _two_inputs(kerax)
    a, b = _data(rng, 4)
    model.predict([a, b], verbose=0)
    model.predict([a, b], verbose=0)
    with pytest.raises(ValueError, match=r"different numbers of samples: \[3, 4\]"):
        model.predict([a, b[:3]], verbose=0)
    with pytest.raises(ValueError, match=r"received input of shape \(4, 8\)"):  # (as Keras)
        model.predict([a, np.ones((4, 5), "float32")], verbose=0)


def test_a_dict_with_keys_the_model_does_not_take_warns_on_every_call(rng):
    model = _two_inputs(kerax)
    a, b = _data(rng, 3)
    x = {"a": a, "b": b, "c": b}
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = model.predict(x, verbose=0)
        assert any("extra keys ['c']" in str(w.message) for w in caught)
        np.testing.assert_array_equal(out, model.predict({"a": a, "b": b}, verbose=0))
    assert len(_kept(model)) == 1  # ({"a", "b"} only)


def test_a_dict_keyed_by_a_single_inputs_name_gets_its_array(keras, rng):
    model = kerax.Sequential([kerax.Input((3,), name="x"), kerax.layers.Dense(2)])
    a, _ = _data(rng, 5)
    outs = [model.predict({"x": a}, verbose=0) for _ in range(3)]
    for out in outs:
        np.testing.assert_array_equal(out, model.predict(a, verbose=0))


def test_signature_of_inputs():
    a, b = np.zeros((2, 3), "float32"), np.zeros((2, 1), "int32")
    assert predict_plan.signature(a)[2] == 2
    assert predict_plan.signature({"a": a, "b": b})[1] == (((2, 3), a.dtype),
                                                           ((2, 1), b.dtype))
    assert predict_plan.signature([a, [b]])[2] == 2  # (nested: as the full path takes it)
    for other in ([a, b[:1]], [a, "text"], [], {1: a}, [np.zeros((0, 3))],
                  np.array(["a", "b"]), np.float32(1.0)):
        assert predict_plan.signature(other) is None
