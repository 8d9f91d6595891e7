"""JaxLayer against Keras 3's `keras.layers.JaxLayer` on the same functions and weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.layers import JaxLayer

X = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(8, 3)
Y = np.linspace(0.0, 1.0, 16, dtype=np.float32).reshape(8, 2)


# ---------------------------------------------------------------- model functions --
def dense_call(params, inputs):
    return jnp.tanh(inputs @ params["w"] + params["b"])


def running_mean_call(params, state, inputs, training):
    """Centres by a running mean that training updates (BatchNormalization-like)."""
    mean = state["mean"]
    if training:
        mean = 0.9 * mean + 0.1 * jnp.mean(inputs, axis=0)
        state = {"count": state["count"] + 1, "mean": mean}
    return (inputs - mean) @ params["w"], state


def dropout_call(params, rng, inputs, training):
    x = inputs @ params["w"]
    if training:
        keep = jax.random.bernoulli(rng, 0.5, x.shape)
        x = jnp.where(keep, x / 0.5, 0.0)
    return x


def random_init(rng, inputs):
    """Draws from `rng` (so Keras and kerax give different values: compare shapes)."""
    return {"b": jnp.zeros(2), "w": jax.random.normal(rng, (inputs.shape[-1], 2))}


def fixed_init(inputs, training):
    """Depends on the input shape only (so Keras and kerax give the same values)."""
    d = inputs.shape[-1]
    params = {"w": jnp.linspace(-0.5, 0.5, d * 2).reshape(d, 2)}
    return params, {"count": 0, "mean": jnp.zeros(d)}


def pair_call(params, inputs):
    a, b = inputs
    return jnp.concatenate([a, b], axis=-1) @ params


def _params():
    return {"b": np.array([0.1, -0.2], np.float32),
            "w": np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(3, 2)}


def _state():
    return {"count": 0, "mean": np.zeros(3, np.float32)}


CASES = {
    "params": lambda L: L(dense_call, params=_params()),
    "params_state": lambda L: L(running_mean_call, params={"w": _params()["w"]},
                                state=_state()),
    "rng": lambda L: L(dropout_call, params={"w": _params()["w"]}, seed=7),
    "init_fn_state": lambda L: L(running_mean_call, init_fn=fixed_init),
}


@pytest.fixture
def keras(keras, monkeypatch):
    """Keras, whose JaxLayer build asks TensorFlow `inside_function()` (not installed
    here; always False on the JAX backend): answered without TensorFlow."""
    from keras.src.utils import jax_layer

    class _NoTF:
        @staticmethod
        def inside_function():
            return False

    monkeypatch.setattr(jax_layer, "tf", _NoTF)
    return keras


def _pair(keras, case):
    return CASES[case](keras.layers.JaxLayer), CASES[case](JaxLayer)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- Keras parity --
@pytest.mark.parametrize("case", sorted(CASES))
def test_eager_calls_match_keras(keras, case):
    theirs, ours = _pair(keras, case)
    for training in (False, True, True, False):
        _close(ours(X, training=training), theirs(X, training=training))
    mine, ref = ours.get_weights(), theirs.get_weights()
    assert [w.shape for w in mine] == [w.shape for w in ref]
    assert [w.dtype for w in mine] == [w.dtype for w in ref]
    for a, b in zip(mine, ref):
        _close(a, b)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)


def test_init_fn_with_rng_matches_keras_shapes_then_outputs(keras):
    theirs = keras.layers.JaxLayer(dense_call, init_fn=random_init)
    ours = JaxLayer(dense_call, init_fn=random_init)
    theirs(X), ours(X)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert np.std(ours.get_weights()[1]) > 0.1  # `init_fn` received a usable key
    ours.set_weights(theirs.get_weights())
    _close(ours(X), theirs(X))


def test_weights_order_dtypes_and_config_leaves_match_keras(keras):
    params = {"w": np.ones((3, 2)), "i": np.array([1, 2], np.int32), "n": 3, "f": 1.5,
              "t": True, "tag": "not a weight"}

    def call(params, inputs):
        assert params["tag"] == "not a weight"
        return inputs @ params["w"] * params["f"]

    theirs = keras.layers.JaxLayer(call, params=params)
    ours = JaxLayer(call, params=params)
    got, ref = ours.get_weights(), theirs.get_weights()
    assert [(w.shape, w.dtype) for w in got] == [(w.shape, w.dtype) for w in ref]
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    # Keras 3.15 fails to call with a non-array leaf ('str' has no `.value`); kerax passes
    # it through, as Keras' docstring describes.
    _close(ours(X), X @ np.ones((3, 2)) * 1.5)


def test_set_weights_round_trip():
    layer = CASES["params_state"](JaxLayer)
    new = [w + 1 for w in layer.get_weights()]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    params, state = layer.variables["params"], layer.variables["state"]
    np.testing.assert_array_equal(params["w"], new[0])
    assert int(state["count"]) == 1


def test_state_updates_only_in_training():
    layer = CASES["params_state"](JaxLayer)
    v = layer.variables
    _, s = layer.apply(v, X, training=False)
    assert int(s["count"]) == 0
    _, s = layer.apply(v, X, training=True)
    assert int(s["count"]) == 1
    _close(s["mean"], 0.1 * X.mean(axis=0))


def test_rng_comes_from_the_seed_state():
    layer = CASES["rng"](JaxLayer)
    v = layer.variables
    np.testing.assert_array_equal(v["state"]["seed_generator"], [7, 0])
    y1, s1 = layer.apply(v, X, training=True)
    y2, s2 = layer.apply({**v, "state": s1}, X, training=True)
    np.testing.assert_array_equal(s2["seed_generator"], [7, 2])
    assert not np.allclose(y1, y2)
    y0, s0 = layer.apply(v, X, training=False)
    _close(y0, X @ _params()["w"])
    np.testing.assert_array_equal(s0["seed_generator"], [7, 0])
    assert layer.get_weights()[0].shape == (3, 2) and len(layer.get_weights()) == 1


def test_params_and_state_views_have_the_call_fn_structure():
    layer = JaxLayer(running_mean_call, init_fn=fixed_init)
    assert layer.params is None and layer.state is None
    layer(X, training=True)
    assert sorted(layer.params) == ["w"] and sorted(layer.state) == ["count", "mean"]
    assert int(layer.state["count"]) == 1
    _close(layer.state["mean"], 0.1 * X.mean(axis=0))


# ------------------------------------------------------------------------ training --
def _model(lib, kind):
    mean_layer = lib.layers.JaxLayer(running_mean_call, params={"w": _params()["w"]},
                                     state=_state())
    drop_layer = lib.layers.JaxLayer(dropout_call, params={"w": np.eye(2, dtype="float32")},
                                     seed=3)
    if kind == "sequential":
        return lib.Sequential([lib.Input((3,)), mean_layer, drop_layer])
    if kind == "subclassed":
        class Net(lib.Model):
            def __init__(self):
                super().__init__()
                self.mean_layer, self.drop_layer = mean_layer, drop_layer

            def call(self, x, training=False):
                return self.drop_layer(self.mean_layer(x, training=training),
                                       training=training)

        return Net()
    a, b = lib.Input((3,)), lib.Input((3,))
    pair = lib.layers.JaxLayer(pair_call, params=np.linspace(-1, 1, 12).reshape(6, 2)
                               .astype("float32"))
    return lib.Model([a, b], lib.layers.Add()([drop_layer(mean_layer(a)), pair([a, b])]))


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_fit_matches_keras(keras, kind):
    losses, weights = [], []
    for lib in (keras, kerax):
        model = _model(lib, kind)
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        x = [X, X[::-1]] if kind == "functional" else X
        hist = model.fit(x, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        losses.append(hist.history["loss"])
        weights.append(model.get_weights())
        losses[-1].append(model.evaluate(x, Y, verbose=0))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert len(weights[0]) == len(weights[1])
    for a, b in zip(*weights):
        _close(a, b)


# --------------------------------------------------------------- pure transforms --
def test_jit_grad_vmap_of_apply():
    layer = CASES["params"](JaxLayer)
    v = layer.init(jax.random.PRNGKey(0), X)
    eager, _ = layer.apply(v, X)
    jitted, _ = jax.jit(lambda v, x: layer.apply(v, x))(v, X)
    _close(jitted, eager)

    def loss(params):
        return jnp.sum(layer.apply({"params": params, "state": {}}, X)[0] ** 2)

    grads = jax.grad(loss)(v["params"])
    w, b = _params()["w"], _params()["b"]
    expected = jax.grad(lambda w, b: jnp.sum(dense_call({"w": w, "b": b}, X) ** 2),
                        argnums=(0, 1))(w, b)
    _close(grads["w"], expected[0])
    _close(grads["b"], expected[1])
    batched, _ = jax.vmap(lambda x: layer.apply(v, x), in_axes=0)(X[:, None, :])
    _close(batched[:, 0, :], eager)


def test_init_accepts_shape_structs_and_pytree_inputs():
    layer = JaxLayer(pair_call, init_fn=lambda inputs: jnp.ones((6, 2)))
    spec = jax.ShapeDtypeStruct((2, 3), jnp.float32)
    v = layer.init(jax.random.PRNGKey(0), (spec, spec))
    y, _ = layer.apply(v, (X, X))
    _close(y, np.concatenate([X, X], -1) @ np.ones((6, 2)))


# --------------------------------------------------------------------------- errors --
def test_error_call_fn_without_inputs():
    with pytest.raises(ValueError, match=r"Missing required argument in `call_fn`: `inputs`"):
        JaxLayer(lambda params, x: x, params={})


def test_error_unknown_call_fn_argument():
    with pytest.raises(ValueError, match=r"Unsupported argument in `call_fn`: `deterministic`"):
        JaxLayer(lambda params, inputs, deterministic: inputs, params={})


def test_error_unknown_init_fn_argument():
    with pytest.raises(ValueError, match=r"Unsupported argument in `init_fn`: `params`"):
        JaxLayer(dense_call, init_fn=lambda params, inputs: params)


def test_error_no_params_nor_init_fn():
    with pytest.raises(ValueError, match=r"`init_fn`, `params` and `state` cannot all be "
                                         r"`None`.*Pass the initial weights"):
        JaxLayer(dense_call)


def test_no_weights_needed_when_call_fn_takes_none():
    layer = JaxLayer(lambda inputs: inputs * 2.0)
    _close(layer(X), X * 2.0)
    assert layer.get_weights() == []


def test_error_from_call_fn_names_the_layer():
    layer = JaxLayer(dense_call, params=_params(), name="jl")
    with pytest.raises(TypeError, match=r"JaxLayer 'jl': `call_fn` failed for inputs of "
                                        r"shape \(2, 5\): .*dot_general"):
        layer(np.ones((2, 5), np.float32))


def test_error_that_cannot_be_rebuilt_gets_a_note_naming_the_layer():
    def call(inputs):
        return inputs if inputs.sum() > 0 else -inputs  # Python `if` on a traced value

    layer = JaxLayer(call, name="jl_note")
    v = layer.init(jax.random.PRNGKey(0), X)
    with pytest.raises(jax.errors.TracerBoolConversionError) as info:
        jax.jit(lambda v, x: layer.apply(v, x))(v, X)
    assert "JaxLayer 'jl_note': `call_fn` failed for inputs of shape (8, 3)." in \
        info.value.__notes__


def test_error_from_init_fn_names_the_layer():
    def init_fn(inputs):
        raise KeyError("boom")

    layer = JaxLayer(dense_call, init_fn=init_fn, name="jl_init")
    with pytest.raises(KeyError, match=r"JaxLayer 'jl_init': `init_fn` failed"):
        layer(X)


def test_error_state_structure_mismatch():
    def call(params, state, inputs):
        return inputs, {"other": 1.0}

    layer = JaxLayer(call, params={}, state={"mean": np.zeros(3)}, name="jl_s")
    with pytest.raises(ValueError, match=r"Structure mismatch in JaxLayer 'jl_s'"):
        layer(X)


def test_error_rng_without_seed_state():
    layer = CASES["rng"](JaxLayer)
    params = layer.variables["params"]
    with pytest.raises(ValueError, match=r"needs its seed state 'seed_generator'"):
        layer.apply({"params": params, "state": {}}, X, training=True)


def test_error_stateful_call_fn_returning_outputs_only():
    layer = JaxLayer(lambda params, state, inputs: inputs, params={}, state={"a": 1.0},
                     name="jl_t")
    with pytest.raises(ValueError, match=r"'jl_t': `call_fn` takes a `state` argument, so it "
                                         r"must return a tuple"):
        layer(X)


def test_error_stateful_init_fn_returning_params_only():
    layer = JaxLayer(running_mean_call, init_fn=lambda inputs: {"w": jnp.ones((3, 2))},
                     name="jl_i")
    with pytest.raises(ValueError, match=r"'jl_i': `call_fn` takes a `state` argument, so "
                                         r"`init_fn` must return a tuple"):
        layer(X)


# --------------------------------------------------------------------------- config --
def test_get_config_matches_keras(keras):
    theirs = keras.layers.JaxLayer(running_mean_call, init_fn=fixed_init, name="cfg")
    ours = JaxLayer(running_mean_call, init_fn=fixed_init, name="cfg")
    a, b = ours.get_config(), theirs.get_config()
    assert sorted(a) == sorted(b)
    for k in ("name", "trainable", "dtype", "native_serialization_platforms"):
        assert a[k] == b[k], k
    assert a["call_fn"]["config"] == "running_mean_call"
    assert a["init_fn"]["config"] == "fixed_init"


def test_from_config_round_trip_with_custom_objects():
    layer = JaxLayer(running_mean_call, init_fn=fixed_init)
    objects = {"running_mean_call": running_mean_call, "fixed_init": fixed_init}
    again = JaxLayer.from_config(layer.get_config(), custom_objects=objects)
    assert again.call_fn is running_mean_call and again.init_fn is fixed_init
    _close(again(X), layer(X))


def test_from_config_of_a_lambda_needs_unsafe_mode():
    layer = JaxLayer(lambda inputs: inputs + 1.0)
    config = layer.get_config()
    with pytest.raises(kerax.errors.UnsafeModelError, match="safe_mode=False"):
        JaxLayer.from_config(config)
    again = JaxLayer.from_config(config, safe_mode=False)
    _close(again(X), X + 1.0)


@pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`")
def test_from_config_reads_a_keras_written_lambda(keras):
    config = keras.layers.JaxLayer(lambda inputs: inputs * 3.0).get_config()
    again = JaxLayer.from_config(config, safe_mode=False)
    _close(again(X), X * 3.0)


def test_from_config_without_weights_is_refused_as_in_keras(keras):
    config = JaxLayer(dense_call, params=_params()).get_config()
    assert "params" not in config
    with pytest.raises(ValueError, match="cannot all be `None`"):
        JaxLayer.from_config(config, custom_objects={"dense_call": dense_call})


def test_model_save_and_load(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), JaxLayer(running_mean_call, init_fn=fixed_init),
                              JaxLayer(lambda inputs: inputs * 2.0)])
    model.layers[0].set_weights([w + 0.5 for w in model.layers[0].get_weights()])
    path = str(tmp_path / "m.keras")
    model.save(path)
    objects = {"running_mean_call": running_mean_call, "fixed_init": fixed_init}
    with pytest.raises(kerax.errors.UnsafeModelError, match="Python lambda"):
        kerax.models.load_model(path, custom_objects=objects)
    loaded = kerax.models.load_model(path, custom_objects=objects, safe_mode=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    _close(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
