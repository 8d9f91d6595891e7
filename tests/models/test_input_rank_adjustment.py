"""Keras' input rank adjustment in functional and Sequential models, vs Keras 3: a
trailing axis of size 1 is added or squeezed; other rank differences are errors that
name the input, the expected and the received shape."""

import warnings

import numpy as np
import pytest

import kerax

# (Input shape, data shape): Keras adds/squeezes a trailing 1, or accepts a same-rank mismatch.
ACCEPTED = [((6, 6, 1), (3, 6, 6)), ((6, 6), (3, 6, 6, 1)), ((6,), (3, 6, 1)),
            ((6, 1), (3, 6)), ((6, 6, 1), (3, 6, 6, 2))]
REJECTED = [((6, 6), (3, 6)), ((6, 6, 1), (3, 6)), ((6, 6, 2), (3, 6, 6))]


def _model(lib, kind, shape):
    if kind == "functional":
        x = lib.Input(shape, name="img")
        return lib.Model(x, lib.layers.Activation("linear", name="d")(x))
    return lib.Sequential([lib.Input(shape), lib.layers.Activation("linear", name="d")])


def _conv_model(lib, kind):
    layers = [lib.layers.Conv2D(2, 3, name="conv"), lib.layers.Flatten(),
              lib.layers.Dense(1, name="out")]
    if kind == "sequential":
        return lib.Sequential([lib.Input((6, 6, 1))] + layers)
    x = y = lib.Input((6, 6, 1))
    for layer in layers:
        y = layer(y)
    return lib.Model(x, y)


@pytest.mark.parametrize("kind", ["functional", "sequential"])
@pytest.mark.parametrize("shape,data", ACCEPTED)
def test_accepted_ranks_match_keras(keras, kind, shape, data):
    x = np.arange(np.prod(data), dtype="float32").reshape(data)
    kmodel, model = _model(keras, kind, shape), _model(kerax, kind, shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(kmodel.predict(x, verbose=0))
    got = model.predict(x, verbose=0)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(got), expected)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(kmodel(x)))


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_mnist_style_data_without_channel_axis_fits_like_keras(keras, kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6, 6)).astype("float32")  # (n, 28, 28) for Input((28, 28, 1))
    y = rng.standard_normal((8, 1)).astype("float32")
    kmodel, model = _conv_model(keras, kind), _conv_model(kerax, kind)
    model.set_weights(kmodel.get_weights())
    for m in (kmodel, model):
        m.compile(optimizer="sgd", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kh = kmodel.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        kev = kmodel.evaluate(x, y, verbose=0)
        kpred = kmodel.predict(x, verbose=0)
    h = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), kev, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), kpred, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["functional", "sequential"])
@pytest.mark.parametrize("shape,data", REJECTED)
def test_rejected_ranks_name_the_input_and_both_shapes(keras, kind, shape, data):
    x = np.ones(data, "float32")
    kmodel, model = _model(keras, kind, shape), _model(kerax, kind, shape)
    with pytest.raises(ValueError, match="Invalid input shape for input"):
        kmodel(x)
    expected = str((None,) + shape)
    pattern = (r"Invalid input shape for input with name '\w+' and path ''\. Expected shape "
               + expected.replace("(", r"\(").replace(")", r"\)")
               + r", but input has incompatible shape \(3, ")
    with pytest.raises(ValueError, match=pattern):
        model(x)
    with pytest.raises(ValueError, match="Invalid input shape for input with name"):
        model.predict(x, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="Invalid input shape for input with name"):
        model.fit(x, np.ones((3,) + shape, "float32"), verbose=0)
    with pytest.raises(ValueError, match="Invalid input shape for input with name"):
        model.evaluate(x, np.ones((3,) + shape, "float32"), verbose=0)


def test_dict_inputs_are_adjusted_per_input_and_errors_give_the_path():
    inputs = {"a": kerax.Input((4, 1), name="a"), "b": kerax.Input((4,), name="b")}
    out = kerax.layers.Add()([kerax.layers.Flatten()(inputs["a"]), inputs["b"]])
    model = kerax.Model(inputs, out)
    got = model({"a": np.ones((2, 4), "float32"), "b": np.ones((2, 4, 1), "float32")})
    np.testing.assert_array_equal(np.asarray(got), 2 * np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"name 'b' and path 'b'\. Expected shape \(None, 4\)"):
        model({"a": np.ones((2, 4, 1), "float32"), "b": np.ones((2, 4, 4), "float32")})
