"""The functional API: graphs of layer calls, shared layers, nesting, config, errors."""

import io
import contextlib

import jax
import numpy as np
import pytest

import kerax
from kerax.errors import UnsafeModelError


def _two_headed(keras):
    inputs = {"image": keras.Input((8, 8, 1), name="image"), "meta": keras.Input((3,), name="meta")}
    x = keras.layers.Flatten(name="flatten")(inputs["image"])
    x = keras.layers.Concatenate(name="concatenate")([x, inputs["meta"]])
    shared = keras.layers.Dense(16, activation="relu", name="shared")
    outputs = {"digit": keras.layers.Dense(10, name="digit")(shared(x)),
               "parity": keras.layers.Dense(1, activation="sigmoid", name="parity")(shared(x))}
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {"image": rng.standard_normal((6, 8, 8, 1)).astype("float32"),
            "meta": rng.standard_normal((6, 3)).astype("float32")}


def test_shared_layer_has_one_set_of_params():
    model = _two_headed(kerax)
    assert sorted(model.variables["params"]) == ["digit", "parity", "shared"]
    assert model.variables["params"]["shared"]["kernel"].shape == (67, 16)
    assert [l.name for l in model.layers] == [
        "image", "flatten", "meta", "concatenate", "shared", "digit", "parity"]
    assert model.get_layer("shared") is model.layers[4]
    assert model.get_layer(index=0).name == "image"


def test_keras_parity_outputs_layers_and_weight_order(keras, data):
    model, kmodel = _two_headed(kerax), _two_headed(keras)
    assert [l.name for l in model.layers] == [l.name for l in kmodel.layers]
    assert [w.shape for w in model.get_weights()] == [tuple(w.shape) for w in kmodel.get_weights()]
    model.set_weights(kmodel.get_weights())
    got, expected = model(data), kmodel(data)
    for k in ("digit", "parity"):
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-5, atol=1e-5)
    assert model.output_names == kmodel.output_names
    assert model.output_shape == kmodel.output_shape


def test_pure_apply_and_jit(data):
    model = _two_headed(kerax)
    variables = model.init(jax.random.PRNGKey(0), data)
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(
        dict(model.variables))  # `model.variables` is Keras' list; `dict()` is its tree
    out, _ = jax.jit(model.apply)(variables, data)
    assert out["digit"].shape == (6, 10) and out["parity"].shape == (6, 1)


def test_config_matches_keras_format_and_round_trips(keras):
    model, kmodel = _two_headed(kerax), _two_headed(keras)
    config, kconfig = model.get_config(), kmodel.get_config()
    assert config["input_layers"] == kconfig["input_layers"]
    assert config["output_layers"] == kconfig["output_layers"]
    for ours, theirs in zip(config["layers"], kconfig["layers"]):
        assert ours["name"] == theirs["name"] and ours["class_name"] == theirs["class_name"]
        assert kerax.utils.__name__ and len(ours["inbound_nodes"]) == len(theirs["inbound_nodes"])
    assert config["layers"][4]["inbound_nodes"][1]["args"][0]["config"]["keras_history"] == [
        "concatenate", 0, 0]
    clone = kerax.Model.from_config(config)
    assert clone.get_config() == config
    from_keras = kerax.Model.from_config(kconfig)
    assert [l.name for l in from_keras.layers] == [l.name for l in kmodel.layers]


def test_list_inputs_outputs_and_nested_model():
    a, b = kerax.Input((4,), name="a"), kerax.Input((4,), name="b")
    inner_in = kerax.Input((4,))
    inner = kerax.Model(inner_in, kerax.layers.Dense(3, name="inner_dense")(inner_in),
                        name="inner")
    s = kerax.layers.Subtract()([inner(a), inner(b)])
    model = kerax.Model([a, b], [s, kerax.layers.Dot(axes=1)([a, b])])
    assert sorted(model.variables["params"]) == ["inner"]
    x = np.ones((2, 4), "float32")
    y = np.arange(8, dtype="float32").reshape(2, 4)
    diff, dot = model([x, y])
    np.testing.assert_allclose(diff, inner(x) - inner(y), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dot[:, 0], (x * y).sum(1), rtol=1e-6)
    config = model.get_config()
    assert config["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == [
        "a", 0, 0]
    assert kerax.Model.from_config(config).get_config() == config


def test_feature_extractor_shares_weights():
    x = kerax.Input((4,))
    h = kerax.layers.Dense(5, name="hidden")(x)
    model = kerax.Model(x, kerax.layers.Dense(1, name="head")(h))
    extractor = kerax.Model(model.inputs, model.get_layer("hidden").output)
    model.compile("sgd", "mse")
    data = np.ones((4, 4), "float32")
    before = np.asarray(extractor(data))
    model.fit(data, np.ones((4, 1)), epochs=1, verbose=0)
    after = np.asarray(extractor(data))
    assert not np.allclose(before, after)
    np.testing.assert_allclose(extractor.get_weights()[0], model.get_weights()[0])
    assert model.get_layer("hidden").input is x


def test_summary_has_connected_to_column(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras wraps cells to the console's width
    texts = []
    for lib in (kerax, keras):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            _two_headed(lib).summary()
        texts.append(buf.getvalue())
    text = texts[0]
    # the same table and totals (the model's auto-generated name depends on earlier tests)
    assert text.split("\n", 1)[1] == texts[1].split("\n", 1)[1]
    assert "Connected to" in text
    assert "│ concatenate[0][0… │\n" in text and "│ concatenate[0][0] │\n" in text
    assert "shared[1][0]" in text and "│ flatten[0][0],    │" in text


def test_lambda_in_a_graph_and_unsafe_loading():
    x = kerax.Input((3,))
    model = kerax.Model(x, kerax.layers.Lambda(lambda t: t * 3.0)(x))
    np.testing.assert_allclose(model(np.ones((1, 3))), 3 * np.ones((1, 3)))
    layer_config = model.get_config()["layers"][1]["config"]
    with pytest.raises(UnsafeModelError, match="Python lambda"):
        kerax.layers.Lambda.from_config(layer_config)
    clone = kerax.layers.Lambda.from_config(layer_config, safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 3))), 3 * np.ones((1, 3)))


def test_merge_function_forms():
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    L = kerax.layers
    np.testing.assert_allclose(L.add([a, b]), a + b)
    np.testing.assert_allclose(L.subtract([a, b]), a - b)
    np.testing.assert_allclose(L.multiply([a, b]), a * b)
    np.testing.assert_allclose(L.average([a, b]), (a + b) / 2)
    np.testing.assert_allclose(L.maximum([a, b]), b)
    np.testing.assert_allclose(L.minimum([a, b]), a)
    assert L.concatenate([a, b]).shape == (2, 6)
    assert L.dot([a, b], axes=1).shape == (2, 1)


# ------------------------------------------------------------------------------ errors --
def test_disconnected_graph_error():
    a, b = kerax.Input((4,), name="a_in"), kerax.Input((4,), name="b_in")
    y = kerax.layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected.*'b_in'.*not one of the model's"):
        kerax.Model(a, y)


def test_output_not_symbolic_error():
    a = kerax.Input((4,))
    with pytest.raises(ValueError, match="outputs` of a functional model must be symbolic"):
        kerax.Model(a, np.ones((2, 4)))
    with pytest.raises(ValueError, match="inputs` of a functional model must be symbolic"):
        kerax.Model(np.ones((2, 4)), a)


def test_duplicate_layer_names_error():
    a = kerax.Input((4,))
    y = kerax.layers.Dense(2, name="same")(kerax.layers.Dense(2, name="same")(a))
    with pytest.raises(ValueError, match='name "same" is used 2 times'):
        kerax.Model(a, y)


def test_missing_input_key_error(data):
    model = _two_headed(kerax)
    with pytest.raises(ValueError, match="Missing data for input 'meta'"):
        model({"image": data["image"], "metadata": data["meta"]})
    with pytest.raises(ValueError, match="expects a dict of inputs"):
        model([data["image"], data["meta"]])


def test_wrong_number_of_inputs_error():
    a, b = kerax.Input((4,), name="a"), kerax.Input((4,), name="b")
    model = kerax.Model([a, b], kerax.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model([np.ones((1, 4))] * 3)


def test_layer_output_before_any_call_error():
    with pytest.raises(AttributeError, match="never been called on a symbolic input"):
        kerax.layers.Dense(2).output


@pytest.mark.parametrize("make, inputs, match", [
    (lambda: kerax.layers.Subtract(), [(2, 3)] * 3, "exactly 2 inputs"),
    (lambda: kerax.layers.Add(), [], "at least 1 inputs"),
    (lambda: kerax.layers.Concatenate(), [(2, 3, 1), (2, 4, 2)], "matching shapes except"),
    (lambda: kerax.layers.Dot(axes=1), [(2, 3), (2, 4)], "incompatible input shapes"),
    (lambda: kerax.layers.Dot(axes=1), [(2, 3)], "exactly 2 inputs"),
    (lambda: kerax.layers.Multiply(), [(2, 3), (2, 4)], "broadcast together"),
])
def test_merge_errors(make, inputs, match):
    with pytest.raises(ValueError, match=match):
        make()([np.ones(s, "float32") for s in inputs])


def test_dot_bad_axes_error():
    with pytest.raises(ValueError, match="Invalid format for argument `axes`"):
        kerax.layers.Dot(axes=(1, 2, 3))


# ------------------------------------------------------------ per-output compile --
def _compile(model, keras):
    model.compile(
        keras.optimizers.SGD(0.1),
        loss={"digit": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              "parity": "binary_crossentropy"},
        loss_weights={"digit": 1.0, "parity": 0.5},
        metrics={"digit": ["accuracy"], "parity": ["accuracy"]},
        weighted_metrics={"parity": ["mae"]})


def test_multi_output_fit_matches_keras(keras, data):
    rng = np.random.default_rng(1)
    y = {"digit": rng.integers(0, 10, 6), "parity": rng.integers(0, 2, (6, 1)).astype("float32")}
    model, kmodel = _two_headed(kerax), _two_headed(keras)
    model.set_weights(kmodel.get_weights())
    _compile(model, kerax)
    _compile(kmodel, keras)
    got = model.fit(data, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    expected = kmodel.fit(data, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected)
    assert {"digit_loss", "parity_loss", "digit_accuracy", "parity_accuracy",
            "parity_mae"} <= set(got)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-4, atol=1e-5, err_msg=k)
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_list_outputs_list_losses():
    a = kerax.Input((3,))
    model = kerax.Model(a, [kerax.layers.Dense(1, name="o1")(a), kerax.layers.Dense(2, name="o2")(a)])
    model.compile("sgd", loss=["mse", "mae"], loss_weights=[1.0, 2.0], metrics=[["mae"], []])
    logs = model.evaluate(np.ones((4, 3)), [np.ones((4, 1)), np.zeros((4, 2))], verbose=0,
                          return_dict=True)
    assert set(logs) == {"loss", "o1_loss", "o2_loss", "o1_mae"}
    np.testing.assert_allclose(logs["loss"], logs["o1_loss"] + 2 * logs["o2_loss"], rtol=1e-5)


def test_fit_wrong_target_key_and_loss_key_errors(data):
    model = _two_headed(kerax)
    model.compile("sgd", loss={"digit": "mse", "parity": "mse"})
    y = {"digit": np.zeros((6, 10)), "parity_": np.zeros((6, 1))}
    with pytest.raises(ValueError, match="Missing data for output 'parity'"):
        model.fit(data, y, verbose=0)
    with pytest.raises(ValueError, match="Missing data for input 'meta'"):
        model.fit({"image": data["image"]}, {"digit": y["digit"], "parity": y["parity_"]},
                  verbose=0)
    model.compile("sgd", loss={"digits": "mse"})
    with pytest.raises(ValueError, match="entry for 'digits', which is not an output"):
        model.fit(data, {"digit": y["digit"], "parity": y["parity_"]}, verbose=0)
    model.compile("sgd", loss=["mse"])
    with pytest.raises(ValueError, match="list of 1 entries, but the model has 2 outputs"):
        model.fit(data, {"digit": y["digit"], "parity": y["parity_"]}, verbose=0)


def test_to_json_model_from_json_and_clone_model(keras):
    model = _two_headed(kerax)
    clone = kerax.models.model_from_json(model.to_json())
    assert clone.get_config() == model.get_config()
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])
    cloned = kerax.models.clone_model(model)
    assert [w.shape for w in cloned.get_weights()] == [w.shape for w in model.get_weights()]
    from_keras = kerax.models.model_from_json(_two_headed(keras).to_json())
    assert [l.name for l in from_keras.layers] == [l.name for l in model.layers]


def test_symbolic_call_error_shows_the_unknown_batch_axis():
    with pytest.raises(kerax.errors.LayerShapeError,
                       match=r"Conv2D 'bad_conv': expected rank 4, received input of shape "
                             r"\(None, 3\)"):
        kerax.layers.Conv2D(2, 3, name="bad_conv")(kerax.Input((3,)))


def test_dict_inputs_written_out_of_sorted_order_match_keras(keras):
    """`model.inputs` is in sorted-key order; a dict written unsorted must still map by key."""
    def build(lib):
        inputs = {"zeta": lib.Input((3,), name="zeta"), "alpha": lib.Input((2,), name="alpha")}
        x = lib.layers.Concatenate()([inputs["zeta"], inputs["alpha"]])
        return lib.Model(inputs, lib.layers.Dense(2)(x))

    km, xm = build(keras), build(kerax)
    xm.set_weights(km.get_weights())
    x = {"zeta": np.arange(6.0).reshape(2, 3), "alpha": -np.arange(4.0).reshape(2, 2)}
    assert [t.name for t in xm.inputs] == [t.name for t in km.inputs]
    np.testing.assert_allclose(xm.predict(x, verbose=0), km.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(xm(x), km(x), atol=1e-6)


@pytest.mark.parametrize("text,match", [
    ("[1, 2]", r"expects a JSON object with a 'class_name'.*received a JSON list"),
    ('{"config": {}}', r"received a JSON object without a string 'class_name'"),
    ("{not json", r"the string is not valid JSON"),
    ("[" * 200_000 + "]" * 200_000, r"nested deeper than Python can parse"),
    ('{"class_name": "Sequential", "config": ' + "[" * 300 + "]" * 300 + "}",
     r"deeper than 256 levels"),
])
def test_model_from_json_names_what_is_wrong(text, match):
    with pytest.raises(ValueError, match=match):
        kerax.models.model_from_json(text)
