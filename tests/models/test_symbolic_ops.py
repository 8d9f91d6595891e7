"""`kerax.ops` and Python operators on symbolic tensors, compared with Keras 3."""

import json
import re

import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.errors import UnknownIdentifierError
from kerax.layers.core.op_layer import OpLayer
from kerax.ops import symbolic


def _build(lib):
    """The same functional model written against `lib` (kerax or keras)."""
    a = lib.Input((4,), name="a")
    b = lib.Input((4,), name="b")
    h = lib.layers.Dense(4, name="dense")(a)
    x = h + b                                   # KerasTensor + KerasTensor
    x = x * 2.0 + 1                             # scalars on either side
    x = 1.0 - (-x) / 3.0
    first = x[:, :2]                            # slicing
    cat = lib.ops.concatenate([first, b], axis=-1)
    m = lib.ops.mean(cat, axis=1, keepdims=True)
    out = lib.layers.Dense(1, name="head")(cat) + m ** 2
    return lib.Model([a, b], out)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(6, 4)).astype("float32") for _ in range(2)], \
        rng.normal(size=(6, 1)).astype("float32")


@pytest.fixture(scope="module")
def pair(keras):
    kx, ks = _build(kerax), _build(keras)
    kx.set_weights(ks.get_weights())
    return kx, ks


def test_predict_and_fit_match_keras(pair, data, keras):
    kx, ks = pair
    xs, y = data
    np.testing.assert_allclose(kx.predict(xs, verbose=0), ks.predict(xs, verbose=0),
                               rtol=1e-5, atol=1e-5)
    kx2, ks2 = _build(kerax), _build(keras)
    kx2.set_weights(ks.get_weights())
    ks2.set_weights(ks.get_weights())
    kx2.compile(optimizer="sgd", loss="mse")
    ks2.compile(optimizer="sgd", loss="mse")
    hx = kx2.fit(xs, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    hs = ks2.fit(xs, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(hx.history["loss"], hs.history["loss"], rtol=1e-5)
    for w1, w2 in zip(kx2.get_weights(), ks2.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("expr", [
    "a + b", "a - 1", "2.0 * a", "a / b", "1 / a", "-a", "abs(a)", "a ** 2", "a // 2",
    "a % 2", "a > b", "a <= 0.5", "a != b", "a[:, 1]", "a[..., :2]", "a[:, None]",
    "a @ w", "round(a)",
])
def test_operators_match_keras(expr, keras):
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(3, 4)).astype("float32") for _ in range(2)]
    w = rng.normal(size=(4, 2)).astype("float32")
    outs = []
    for lib in (kerax, keras):
        a, b = lib.Input((4,)), lib.Input((4,))
        y = eval(expr, {"a": a, "b": b, "w": w})
        outs.append((y.shape, np.asarray(lib.Model([a, b], y).predict(xs, verbose=0))))
    assert outs[0][0] == outs[1][0]
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6)
    assert outs[0][1].dtype == outs[1][1].dtype


def test_shapes_follow_unknown_dims():
    x = kerax.Input((None, 3))
    assert kerax.ops.mean(x, axis=0).shape == (None, 3)
    assert kerax.ops.sum(x, axis=(0, 1)).shape == (3,)
    assert (x + 1).shape == (None, None, 3)


def test_summary_and_config_round_trip(pair, data, tmp_path, capsys, monkeypatch):
    kx, _ = pair
    xs, _ = data
    monkeypatch.setenv("COLUMNS", "200")  # else, as in Keras, long names wrap in the cell
    kx.summary()
    text = capsys.readouterr().out
    assert re.search(r"concatenate(_\d+)? \(OpLayer\)", text) and "get_item" in text
    config = json.loads(json.dumps(kx.get_config()))
    clone = kerax.Model.from_config(config)
    clone.set_weights(kx.get_weights())
    np.testing.assert_allclose(clone.predict(xs, verbose=0), kx.predict(xs, verbose=0))
    path = str(tmp_path / "ops.keras")
    kx.save(path)
    loaded = kerax.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), kx.predict(xs, verbose=0))


def test_loads_a_keras_file_with_op_nodes(keras, data, tmp_path):
    a, b = keras.Input((4,)), keras.Input((4,))
    x = keras.ops.add(a, b) * 2.0
    y = keras.ops.concatenate([keras.ops.mean(x[:, :2], axis=1, keepdims=True), -a], -1)
    model = keras.Model([a, b], y)
    path = str(tmp_path / "keras_ops.keras")
    model.save(path)
    xs, _ = data
    loaded = kerax.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)


def test_unknown_op_name_in_config_is_refused():
    x = kerax.Input((3,))
    config = json.loads(json.dumps(kerax.Model(x, x + 1).get_config()))
    op = next(l for l in config["layers"] if l["class_name"] == "OpLayer")
    op["config"]["op"] = "os.system"
    with pytest.raises(UnknownIdentifierError, match="Unknown op identifier: 'os.system'"):
        kerax.Model.from_config(config)
    with pytest.raises(UnknownIdentifierError, match="Did you mean: 'add'"):
        OpLayer("addd")


def test_unsavable_argument_is_a_clear_error():
    x = kerax.Input((3,))
    y = kerax.ops.add(x, 1j)  # a complex constant has no JSON form
    with pytest.raises(TypeError, match="Cannot save the call of op 'add'"):
        y._keras_history[0].get_config()


def test_iteration_and_bool_are_refused():
    x = kerax.Input((3,))
    with pytest.raises(NotImplementedError, match="Iterating over a symbolic tensor"):
        list(x)
    with pytest.raises(TypeError, match="cannot be used as a Python bool"):
        bool(x > 0)


def test_eager_ops_unchanged():
    x = jnp.arange(3.0)
    assert kerax.ops.add(x, x).tolist() == [0.0, 2.0, 4.0]
    assert kerax.ops.concatenate([x, x]).shape == (6,)
    assert kerax.ops.add is kerax.ops.numpy.add
    assert symbolic.get_op("add") is kerax.ops.add.__wrapped__
    assert OpLayer("add")(x, 1.0).tolist() == [1.0, 2.0, 3.0]


def test_op_on_symbolic_tensor_without_a_registered_symbolic_call(monkeypatch):
    # `kerax.layers` registers `OpLayer` with `kerax.ops.symbolic` (ops sit below layers);
    # without it, an op on a KerasTensor says what is missing instead of failing obscurely.
    x = kerax.Input((3,))
    monkeypatch.setattr(symbolic, "_SYMBOLIC_CALL", [])
    with pytest.raises(RuntimeError, match=r"kerax\.ops\.add was called on a symbolic tensor.*"
                                           r"no symbolic call is registered.*import kerax"):
        kerax.ops.add(x, 1.0)


def test_op_layer_is_the_registered_symbolic_call():
    x = kerax.Input((3,))
    y = kerax.ops.add(x, 1.0)
    assert isinstance(y._keras_history[0], OpLayer) and y.shape == (None, 3)
