"""Graph attributes on every model kind, vs Keras 3: `model.inputs`/`outputs`,
`input_shape`/`output_shape`, each layer's `input`/`output`, and the feature-extraction
idiom `Model(model.inputs, model.get_layer(name).output)`."""

import warnings

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype("float32")
KINDS = ["seq_input", "seq_input_shape", "seq_called", "seq_build", "seq_fit", "functional",
         "seq_in_functional", "functional_in_seq"]


def _stack(lib, first_kwargs=None):
    layers = lib.layers
    return [layers.Conv2D(2, 3, name="conv1", **(first_kwargs or {})),
            layers.Flatten(name="flat"), layers.Dense(3, name="d")]


def _model(lib, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about `input_shape=`
        if kind == "seq_input":
            return lib.Sequential([lib.Input((8, 8, 1))] + _stack(lib))
        if kind == "seq_input_shape":
            return lib.Sequential(_stack(lib, {"input_shape": (8, 8, 1)}))
        if kind == "seq_called":
            model = lib.Sequential(_stack(lib))
            model(X)
            return model
        if kind == "seq_build":
            model = lib.Sequential(_stack(lib))
            model.build((None, 8, 8, 1))
            return model
        if kind == "seq_fit":
            model = lib.Sequential(_stack(lib))
            model.compile(optimizer="sgd", loss="mse")
            model.fit(X, np.zeros((2, 3), "float32"), epochs=1, verbose=0)
            return model
        x = lib.Input((8, 8, 1))
        if kind == "functional":
            y = x
            for layer in _stack(lib):
                y = layer(y)
            return lib.Model(x, y)
        if kind == "seq_in_functional":
            return lib.Model(x, lib.Sequential(_stack(lib), name="inner")(x))
        y = x
        for layer in _stack(lib):
            y = layer(y)
        inner = lib.Model(x, y, name="inner")
        return lib.Sequential([lib.Input((8, 8, 1)), inner, lib.layers.Dense(2, name="top")])


def _outcome(fn):
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001 - the exception type is what is compared
        return type(e).__name__
    if isinstance(value, list):
        return [getattr(v, "shape", v) for v in value]
    return tuple(getattr(value, "shape", value))


def _observe(model):
    seen = {
        "inputs": _outcome(lambda: model.inputs),
        "outputs": _outcome(lambda: model.outputs),
        "input": _outcome(lambda: model.input),
        "output": _outcome(lambda: model.output),
        "input_shape": _outcome(lambda: model.input_shape),
        "output_shape": _outcome(lambda: model.output_shape),
        "layers": [type(layer).__name__ for layer in model.layers],
    }
    for i, layer in enumerate(model.layers):
        for attr in ("input", "output", "input_shape", "output_shape"):
            seen[f"{i}.{attr}"] = _outcome(lambda: getattr(layer, attr))
    return seen


def _shapes(outputs):
    return [np.asarray(o).shape for o in (outputs if isinstance(outputs, list) else [outputs])]


@pytest.mark.parametrize("kind", KINDS)
def test_graph_attributes_match_keras(keras, kind):
    kmodel, model = _model(keras, kind), _model(kerax, kind)
    expected, got = _observe(kmodel), _observe(model)
    if kind == "seq_fit":
        # Keras records the first batch's size (2); kerax builds with an unknown batch.
        expected = {k: _unknown_batch(v) for k, v in expected.items()}
        got = {k: _unknown_batch(v) for k, v in got.items()}
    assert got == expected


def _unknown_batch(value):
    if isinstance(value, list):
        return [_unknown_batch(v) for v in value]
    if isinstance(value, tuple) and value and value[0] in (2, None):
        return (None,) + value[1:]
    return value


@pytest.mark.parametrize("kind", KINDS)
def test_feature_extractor_matches_keras(keras, kind):
    kmodel, model = _model(keras, kind), _model(kerax, kind)
    model.set_weights(kmodel.get_weights())
    nested = kind in ("seq_in_functional", "functional_in_seq")
    name = kmodel.layers[-1].name if nested else "conv1"
    kext = keras.Model(inputs=kmodel.inputs, outputs=kmodel.get_layer(name).output)
    ext = kerax.Model(inputs=model.inputs, outputs=model.get_layer(name).output)
    np.testing.assert_allclose(np.asarray(ext.predict(X, verbose=0)),
                               np.asarray(kext.predict(X, verbose=0)), rtol=1e-5, atol=1e-6)
    if kind == "functional_in_seq":
        # The inner model's output belongs to the inner model's own Input: disconnected.
        with pytest.raises(ValueError):
            keras.Model(inputs=kmodel.inputs, outputs=[l.output for l in kmodel.layers])
        with pytest.raises(ValueError, match="Graph disconnected"):
            kerax.Model(inputs=model.inputs, outputs=[l.output for l in model.layers])
        return
    kall = keras.Model(inputs=kmodel.inputs, outputs=[l.output for l in kmodel.layers])
    every = kerax.Model(inputs=model.inputs, outputs=[l.output for l in model.layers])
    for a, b in zip(every.predict(X, verbose=0), kall.predict(X, verbose=0)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert _shapes(every(X)) == _shapes(kall(X))


def test_unbuilt_sequential_has_no_inputs_yet():
    model = kerax.Sequential([kerax.layers.Dense(2)], name="lazy")
    for attr, what in [("inputs", "inputs"), ("outputs", "outputs"),
                       ("input_shape", "input shape"), ("output_shape", "output shape")]:
        with pytest.raises(AttributeError, match=f"Sequential model 'lazy' has no defined {what}"):
            getattr(model, attr)


def test_layers_have_no_shape_attributes_and_input_layer_no_input(keras):
    for lib in (keras, kerax):
        x = lib.Input((3,))
        dense = lib.layers.Dense(2)
        lib.Model(x, dense(x))
        assert not hasattr(dense, "output_shape") and not hasattr(dense, "input_shape")
        assert x._keras_history[0].input == []


def test_sequential_add_and_pop_keep_the_input_tensor(keras):
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="a")])
        first = model.inputs[0]
        model.add(lib.layers.Dense(2, name="b"))
        assert model.inputs[0] is first and model.output_shape == (None, 2)
        model.pop()
        assert model.inputs[0] is first and model.output_shape == (None, 3)
        ext = lib.Model(model.inputs, model.get_layer("a").output)
        assert ext.output_shape == (None, 3)


def test_sequential_inside_subclassed_model_gets_its_graph_on_access():
    class Wrapper(kerax.Model):
        def __init__(self):
            super().__init__()
            self.body = kerax.Sequential([kerax.layers.Dense(3, name="h"),
                                          kerax.layers.Dense(1, name="o")])

        def call(self, x):
            return self.body(x)

    model = Wrapper()
    model(np.ones((2, 4), "float32"))
    assert model.body.input_shape == (None, 4)
    ext = kerax.Model(model.body.inputs, model.body.get_layer("h").output)
    np.testing.assert_allclose(
        np.asarray(ext(np.ones((2, 4), "float32"))),
        np.ones((2, 4), "float32") @ model.body.get_layer("h").get_weights()[0], rtol=1e-6)


@pytest.mark.parametrize("how", ["build", "call", "input", "unbuilt"])
def test_sequential_config_records_the_build_input_like_keras(keras, how):
    def make(lib):
        if how == "input":
            return lib.Sequential([lib.Input((5,)), lib.layers.Dense(3, name="a")], name="s")
        model = lib.Sequential([lib.layers.Dense(3, name="a"), lib.layers.Dense(2, name="b")],
                               name="s")
        if how == "build":
            model.build((None, 5))
        elif how == "call":
            model(np.ones((2, 5), "float32"))
        return model

    def summary(config):
        return (sorted(config), config.get("build_input_shape"),
                [(l["class_name"], l["config"].get("batch_shape")) for l in config["layers"]])

    kconfig, config = make(keras).get_config(), make(kerax).get_config()
    assert summary(config) == summary(kconfig)
    restored = kerax.Sequential.from_config(kconfig)
    assert restored.built == (how != "unbuilt")
    if restored.built:
        assert restored.input_shape == keras.Sequential.from_config(kconfig).input_shape
