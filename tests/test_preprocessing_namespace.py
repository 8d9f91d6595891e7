"""kerax.preprocessing against Keras 3's keras.preprocessing: names and outputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax


@pytest.mark.parametrize("path", ["", "image", "sequence"])
def test_same_public_names_as_keras(keras, path):
    theirs = keras.preprocessing if not path else getattr(keras.preprocessing, path)
    ours = kerax.preprocessing if not path else getattr(kerax.preprocessing, path)
    assert sorted(n for n in dir(theirs) if not n.startswith("_")) == ours.__all__


def test_names_are_the_utils_objects():
    p = kerax.preprocessing
    assert p.sequence.pad_sequences is kerax.utils.pad_sequences
    for n in ("load_img", "img_to_array", "array_to_img", "save_img"):
        assert getattr(p.image, n) is getattr(kerax.utils, n)
    for n in ("image_dataset_from_directory", "text_dataset_from_directory",
              "timeseries_dataset_from_array"):
        assert getattr(p, n) is getattr(kerax.utils, n)


def test_pad_sequences_matches_keras(keras):
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    for kw in ({}, {"maxlen": 2, "padding": "post", "truncating": "post", "value": -1}):
        np.testing.assert_array_equal(kerax.preprocessing.sequence.pad_sequences(seqs, **kw),
                                      keras.preprocessing.sequence.pad_sequences(seqs, **kw))


def test_image_round_trip_matches_keras(keras, tmp_path):
    pytest.importorskip("PIL.Image")
    x = np.random.default_rng(0).uniform(0, 255, (5, 6, 3)).astype("float32")
    ours, theirs = kerax.preprocessing.image, keras.preprocessing.image
    ours.save_img(tmp_path / "a.png", x)
    got = ours.img_to_array(ours.load_img(tmp_path / "a.png", target_size=(4, 4)))
    want = theirs.img_to_array(theirs.load_img(tmp_path / "a.png", target_size=(4, 4)))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.asarray(ours.array_to_img(x)),
                                  np.asarray(theirs.array_to_img(x)))


@pytest.mark.parametrize("shape,size,kw", [
    ((5, 7, 3), (3, 3), {}),
    ((2, 5, 7, 3), (4, 2), {"interpolation": "nearest"}),
    ((3, 5, 7), (4, 6), {"data_format": "channels_first", "interpolation": "bicubic"}),
    ((6, 4, 1), (6, 4), {}),
])
def test_smart_resize_matches_keras(keras, shape, size, kw):
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    got = kerax.preprocessing.image.smart_resize(x, size, **kw)
    want = keras.preprocessing.image.smart_resize(x, size, **kw)
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)


def test_smart_resize_integer_and_jax_inputs_as_keras(keras):
    x = np.arange(5 * 7 * 3).reshape(5, 7, 3).astype("uint8")
    got = kerax.preprocessing.image.smart_resize(x, (3, 3))
    want = keras.preprocessing.image.smart_resize(x, (3, 3))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)
    got = kerax.preprocessing.image.smart_resize(jnp.asarray(x, "float32"), (3, 3))
    assert isinstance(got, jax.Array)
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("call,error,match", [
    (lambda f: f(np.zeros((5, 7, 3)), (3,)), ValueError, r"tuple of 2 integers, but got: \(3,\)"),
    (lambda f: f(np.zeros((5, 7)), (3, 3)), ValueError, r"incorrect rank, of shape \(5, 7\)"),
    (lambda f: f(np.zeros((5, 7, 3)), (3, 3), foo=1), TypeError,
     r"unexpected keyword arguments: \['foo'\]"),
])
def test_smart_resize_errors_as_keras(keras, call, error, match):
    for f in (kerax.preprocessing.image.smart_resize, keras.preprocessing.image.smart_resize):
        with pytest.raises(error, match=match):
            call(f)
