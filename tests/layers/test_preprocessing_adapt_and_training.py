"""Preprocessing layers beyond the generic conformance checks: adapt, training mode, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
import kerax.layers as L
from kerax.errors import UnknownIdentifierError

RNG = np.random.default_rng(0)
IMG = RNG.uniform(0, 255, (2, 6, 5, 3)).astype("float32")


@pytest.mark.parametrize("axis", [-1, None, (1, 2)])
def test_normalization_adapt_matches_keras(keras, axis):
    data = RNG.standard_normal((8, 3, 2)).astype("float32") * 3 + 1
    layer, klayer = L.Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    layer.adapt([data[:5], data[5:]])
    klayer.adapt(data)
    for a, b in zip(layer.get_weights(), klayer.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(data), klayer(data), rtol=1e-4, atol=1e-5)


def test_normalization_invert_round_trip():
    data = RNG.standard_normal((6, 3)).astype("float32")
    norm, inv = L.Normalization(), L.Normalization(invert=True)
    norm.adapt(data)
    inv.adapt(data)
    np.testing.assert_allclose(inv(norm(data)), data, rtol=1e-5, atol=1e-5)


def test_discretization_adapt_matches_keras(keras):
    data = RNG.standard_normal((50, 2)).astype("float32")
    layer, klayer = L.Discretization(num_bins=4), keras.layers.Discretization(num_bins=4)
    layer.adapt([data[:30], data[30:]])
    # Keras' adapt() needs TensorFlow only to test for tf.data; its algorithm is numpy.
    klayer.reset_state()
    for batch in (data[:30], data[30:]):
        klayer.update_state(batch)
    klayer.finalize_state()
    np.testing.assert_allclose(layer.bin_boundaries, klayer.bin_boundaries, rtol=1e-6)
    np.testing.assert_array_equal(layer(data), klayer(data))


def test_category_encoding_count_weights_match_keras(keras):
    ids = np.array([[0, 1, 1, 3]])
    w = np.array([[0.5, 1.0, 2.0, 1.5]], "float32")
    got = L.CategoryEncoding(4, output_mode="count")(ids, count_weights=w)
    want = keras.layers.CategoryEncoding(4, output_mode="count")(ids, count_weights=w)
    np.testing.assert_allclose(got, want)


RANDOM = [L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.2, 0.1),
          L.RandomTranslation(0.2, 0.2, fill_mode="constant"), L.RandomContrast(0.5),
          L.RandomBrightness(0.3)]


@pytest.mark.parametrize("layer", RANDOM, ids=lambda l: type(l).__name__)
def test_random_layers_in_training(layer):
    run = jax.jit(lambda x, k: layer.apply({}, x, training=True, rng=k)[0])
    a, b = run(IMG, jax.random.PRNGKey(1)), run(IMG, jax.random.PRNGKey(1))
    c = run(IMG, jax.random.PRNGKey(2))
    assert a.shape == IMG.shape and a.dtype == jnp.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert float(a.min()) >= -1e-3 and float(a.max()) <= 255 + 1e-3
    np.testing.assert_array_equal(layer.apply({}, IMG)[0], IMG)
    with pytest.raises(ValueError, match="needs a random key in training mode"):
        layer.apply({}, IMG, training=True)


def test_random_flip_and_rotation_invariants():
    flipped, _ = L.RandomFlip("horizontal").apply({}, IMG, training=True,
                                                  rng=jax.random.PRNGKey(3))
    for i in range(2):
        assert (np.array_equal(flipped[i], IMG[i]) or
                np.array_equal(flipped[i], IMG[i, :, ::-1]))
    full_turn = L.RandomRotation((1.0, 1.0), interpolation="nearest")
    y, _ = full_turn.apply({}, IMG, training=True, rng=jax.random.PRNGKey(0))
    np.testing.assert_allclose(y, IMG, atol=1e-3)


def test_preprocessing_errors():
    with pytest.raises(UnknownIdentifierError, match="Unknown interpolation identifier"):
        L.Resizing(2, 2, interpolation="area")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="num_tokens must be set"):
        L.CategoryEncoding()
    with pytest.raises(UnknownIdentifierError, match="Unknown output_mode identifier"):
        L.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        L.CategoryEncoding(3, sparse=True)
    with pytest.raises(ValueError, match="count_weights` is not used"):
        L.CategoryEncoding(3)(np.array([[1]]), count_weights=np.ones((1, 1)))
    with pytest.raises(ValueError, match="call `adapt\\(dataset\\)`"):
        L.Discretization(num_bins=3)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Cannot adapt a Discretization"):
        L.Discretization(bin_boundaries=[0.0]).adapt(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Both `num_bins` and `bin_boundaries`"):
        L.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="adapt\\(\\) received an empty iterable"):
        L.Normalization().adapt([])
    with pytest.raises(ValueError, match="range \\[-1.0, 1.0\\]"):
        L.RandomBrightness(1.5)
    with pytest.raises(UnknownIdentifierError, match="Unknown fill_mode identifier"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(UnknownIdentifierError, match="Unknown RandomFlip mode identifier"):
        L.RandomFlip("diagonal")


@pytest.mark.parametrize("name,kwargs", [("RandomFlip", {"mode": "horizontal"}),
                                         ("RandomGrayscale", {"factor": 1.0}),
                                         ("RandomCrop", {"height": 3, "width": 3})])
def test_eager_call_trains_by_default_like_keras(keras, name, kwargs):
    """Keras 3's image preprocessing layers default to training=True when called eagerly;
    inside a model, predict runs them at inference."""
    x = np.random.default_rng(0).uniform(0, 255, (8, 5, 5, 3)).astype("float32")

    def changed(lib):
        layer = getattr(lib.layers, name)(seed=3, **kwargs)
        out = np.asarray(layer(x))
        return out.shape != x.shape or not np.allclose(out, x)

    assert changed(kerax) and changed(keras)
    model = kerax.Sequential([kerax.Input((5, 5, 3)), getattr(kerax.layers, name)(**kwargs)])
    inference = model.predict(x, verbose=0)
    explicit = getattr(kerax.layers, name)(**kwargs)(x, training=False)
    np.testing.assert_allclose(inference, np.asarray(explicit))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, dict(interpolation="nearest"),
                                    dict(interpolation="bicubic"),
                                    dict(crop_to_aspect_ratio=True)])
def test_resizing_keeps_integer_dtype_like_keras(keras, dtype, kwargs):
    # Keras rounds integer images half to even and saturates them into their own dtype
    # (bicubic overshoots past 255 on uint8); float images come back in float32.
    low = 0 if dtype == "uint8" else -120
    x = np.random.default_rng(1).uniform(low, 255 if dtype == "uint8" else 120,
                                          (2, 5, 7, 3)).astype(dtype)
    ours = np.asarray(L.Resizing(3, 4, **kwargs)(x))
    theirs = np.asarray(keras.layers.Resizing(3, 4, **kwargs)(x))
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
