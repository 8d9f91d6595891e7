"""Sequential: structure, summary, nesting, weights moved from Keras, config round trip."""

import jax.numpy as jnp
import numpy as np
import pytest

import kerax


def _mlp():
    return kerax.Sequential([kerax.Input((6,)), kerax.layers.Dense(4, activation="relu"),
                             kerax.layers.Dense(2)], name="mlp")


def test_add_pop_layers_get_layer():
    model = kerax.Sequential()
    model.add(kerax.Input((3,)))
    model.add(kerax.layers.Dense(5, name="hidden"))
    model.add(kerax.layers.Dense(1, name="out"))
    assert [l.name for l in model.layers] == ["hidden", "out"]
    assert model.get_layer("out") is model.get_layer(index=1)
    assert model.variables["params"]["out"]["kernel"].shape == (5, 1)
    popped = model.pop()
    assert popped.name == "out" and model(np.ones((2, 3))).shape == (2, 5)
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="unique names"):
        model.add(kerax.layers.Dense(2, name="hidden"))
    with pytest.raises(ValueError, match="Only instances of `kerax.layers.Layer`"):
        model.add("dense")


def test_lazy_build_and_input_shape_shorthand():
    lazy = kerax.Sequential([kerax.layers.Dense(3), kerax.layers.Dense(1)])
    assert lazy.variables == [] and not lazy.built  # as Keras 3: an empty list until built
    assert lazy(np.ones((4, 7))).shape == (4, 1)
    shorthand = kerax.Sequential([kerax.layers.Dense(3, input_shape=(7,))])
    assert shorthand.variables["params"][shorthand.layers[0].name]["kernel"].shape == (7, 3)
    built = kerax.Sequential([kerax.layers.Dense(2)])
    built.build((None, 5))
    assert built.count_params() == 12


def test_summary_matches_keras_totals(keras, capsys):
    model = _mlp()
    kmodel = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                               keras.layers.Dense(2)])
    model.summary()
    ours = capsys.readouterr().out
    kmodel.summary()
    theirs = capsys.readouterr().out
    assert 'Model: "mlp"' in ours
    for line in theirs.splitlines():
        if "params:" in line:
            assert line.strip() in ours
    assert "(None, 4)" in ours and "(None, 2)" in ours


def test_nested_sequential_and_weights_from_keras(keras):
    inner = kerax.Sequential([kerax.layers.Dense(4, activation="tanh")], name="inner")
    outer = kerax.Sequential([kerax.Input((3,)), inner, kerax.layers.Dense(1)])
    kinner = keras.Sequential([keras.layers.Dense(4, activation="tanh")])
    kouter = keras.Sequential([keras.Input((3,)), kinner, keras.layers.Dense(1)])
    outer.set_weights(kouter.get_weights())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(outer.predict(x, verbose=0), kouter.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert outer.variables["params"]["inner"][inner.layers[0].name]["kernel"].shape == (3, 4)
    inner.trainable = False
    outer.compile("sgd", "mse")
    before = inner.get_weights()
    outer.fit(x, np.ones((5, 1)), verbose=0)
    for a, b in zip(before, inner.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_and_pure_apply():
    model = _mlp()
    clone = kerax.Sequential.from_config(model.get_config())
    assert [type(l).__name__ for l in clone.layers] == ["Dense", "Dense"]
    assert clone.get_config()["layers"][1]["config"]["units"] == 4
    y, state = model.apply(model.variables, jnp.ones((2, 6)))
    assert y.shape == (2, 2) and state == {}


def _summary_shapes(text):
    return [line.split("│")[2].strip() for line in text.splitlines()
            if line.startswith("│") and "(" in line.split("│")[2]]


@pytest.mark.parametrize("how", ["fit", "predict"])
def test_built_by_fit_records_the_first_batch_as_keras(keras, capsys, how):
    """Without an `Input`, Keras (on JAX) builds on the first batch and records its size:
    `summary()` shows `(2, 16)`, `input_shape` is `(2, 8)`, and the saved config too."""
    x, y = np.ones((6, 8), "float32"), np.ones((6, 1), "float32")
    shapes, configs = [], []
    for lib in (keras, kerax):
        model = lib.Sequential([lib.layers.Dense(16, activation="relu"), lib.layers.Dense(1)])
        model.compile("sgd", "mse")
        if how == "fit":
            model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        else:
            model.predict(x, batch_size=4, verbose=0)
        model.summary()
        shapes.append(_summary_shapes(capsys.readouterr().out))
        config = model.get_config()
        configs.append((tuple(model.input_shape), tuple(model.output_shape),
                        tuple(model.get_build_config()["input_shape"]),
                        tuple(config["build_input_shape"]),
                        tuple(config["layers"][0]["config"]["batch_shape"])))
    assert shapes[1] == shapes[0] == ((["(2, 16)", "(2, 1)"]) if how == "fit"
                                      else ["(4, 16)", "(4, 1)"])
    assert configs[1] == configs[0]


def test_input_added_by_the_first_call_has_the_first_layers_compute_dtype(keras):
    """Keras' Sequential adds `InputLayer(dtype=first_layer.compute_dtype)`: float32 for
    float64 or integer data, float16 under "mixed_float16" (kerax took the data's)."""
    cases = [(lambda k: [k.layers.Dense(2)], np.ones((2, 3))),
             (lambda k: [k.layers.Dense(2, dtype="mixed_float16")], np.ones((2, 3), "float32")),
             (lambda k: [k.layers.Embedding(5, 2)], np.ones((2, 3), "int32"))]
    for make, x in cases:
        dtypes = []
        for lib in (keras, kerax):
            model = lib.Sequential(make(lib))
            y = model(x)
            dtypes.append((model.inputs[0].dtype, str(np.asarray(y).dtype),
                           model.get_config()["layers"][0]["config"]["dtype"]))
        assert dtypes[1] == dtypes[0]


def _next_functional_name(lib, steps):
    lib.utils.clear_session()
    steps(lib)
    x = lib.Input((2,))
    return lib.Model(x, lib.layers.Dense(1)(x)).name


@pytest.mark.parametrize("steps", [
    lambda lib: lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)]),
    lambda lib: lib.Sequential([lib.layers.Dense(2)])(np.ones((1, 3))),
    lambda lib: lib.Sequential([lib.layers.Dense(2)]).build((None, 3)),
    lambda lib: lib.Sequential([lib.layers.Dense(2)]),  # never built
], ids=["with_input", "first_call", "build", "unbuilt"])
def test_building_a_sequential_model_takes_a_functional_name_as_keras(keras, steps):
    """Keras' Sequential builds a Functional, which takes the next "functional" name."""
    assert _next_functional_name(kerax, steps) == _next_functional_name(keras, steps)
