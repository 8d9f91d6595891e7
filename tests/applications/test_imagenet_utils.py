"""`kerax.applications.imagenet_utils` against Keras 3's: preprocessing modes, the class
index fetched through `get_file` (from a local `file://` origin), and the argument checks
with Keras' messages."""

import hashlib
import json

import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.applications import imagenet_utils

MODES = ["caffe", "tf", "torch"]


def _kutils(keras):
    return keras.src.applications.imagenet_utils  # the internals are not public in Keras


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("data_format,shape", [
    ("channels_last", (2, 5, 4, 3)), ("channels_last", (5, 4, 3)),
    ("channels_first", (2, 3, 5, 4)), ("channels_first", (3, 5, 4)),
])
def test_preprocess_input_matches_keras(keras, rng, mode, data_format, shape):
    x = rng.uniform(0, 255, shape).astype("float32")
    expected = _kutils(keras).preprocess_input(x.copy(), data_format=data_format, mode=mode)
    got = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    tensor = imagenet_utils.preprocess_input(jnp.asarray(x), data_format=data_format,
                                             mode=mode)
    np.testing.assert_allclose(np.asarray(tensor), expected, rtol=1e-5, atol=1e-5)


def test_preprocess_input_numpy_is_in_place_and_casts_integers(keras):
    x = np.full((1, 2, 2, 3), 255.0, "float32")
    imagenet_utils.preprocess_input(x, mode="tf")
    np.testing.assert_array_equal(x, 1.0)  # as in Keras, float input is written over
    ints = np.full((1, 2, 2, 3), 255, "uint8")
    out = imagenet_utils.preprocess_input(ints, mode="torch")
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out, _kutils(keras).preprocess_input(ints.copy(), mode="torch"), rtol=1e-6)


@pytest.mark.parametrize("module,mode", [
    ("resnet", "caffe"), ("vgg16", "caffe"), ("vgg19", "caffe"), ("resnet_v2", "tf"),
    ("mobilenet_v2", "tf"),
])
def test_family_preprocess_input_modes(keras, rng, module, mode):
    x = rng.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    got = getattr(kerax.applications, module).preprocess_input(x.copy())
    expected = getattr(keras.applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("module", ["mobilenet_v3", "efficientnet"])
def test_family_preprocess_input_passes_through(module):
    x = np.arange(6.0)
    assert getattr(kerax.applications, module).preprocess_input(x) is x


def test_preprocess_input_rejects_bad_mode_and_data_format():
    x = np.ones((1, 2, 2, 3), "float32")
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or "
                                         "`torch`. Received: mode=keras"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match="Expected data_format to be one of "
                                         "`channels_first` or `channels_last`. Received: "
                                         "data_format=NHWC"):
        imagenet_utils.preprocess_input(x, data_format="NHWC")


@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A 1000-class index served from a `file://` origin, with its md5 as the hash."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    source = tmp_path / "origin" / "imagenet_class_index.json"
    source.parent.mkdir()
    source.write_text(json.dumps(index))
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", source.as_uri())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH",
                        hashlib.md5(source.read_bytes()).hexdigest())
    return tmp_path


def test_decode_predictions_fetches_the_class_index_into_the_models_cache(class_index):
    preds = np.zeros((2, 1000), "float32")
    preds[0, [3, 7, 1]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    decoded = kerax.applications.resnet.decode_predictions(preds, top=3)
    assert [r[:2] for r in decoded[0]] == [("n00000003", "class_3"),
                                           ("n00000007", "class_7"),
                                           ("n00000001", "class_1")]
    np.testing.assert_allclose([r[2] for r in decoded[0]], [0.5, 0.3, 0.2])
    assert decoded[1][0][:2] == ("n00000999", "class_999") and len(decoded[1]) == 3
    assert (class_index / "cache" / "models" / "imagenet_class_index.json").exists()


def test_decode_predictions_refuses_a_class_index_with_the_wrong_hash(class_index,
                                                                      monkeypatch):
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", "0" * 32)
    with pytest.raises(ValueError, match="hash"):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))


def test_decode_predictions_rejects_a_bad_shape():
    with pytest.raises(ValueError, match=r"expects a batch of predictions \(i.e. a 2D "
                                         r"array of shape \(samples, 1000\)\). Received "
                                         r"array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_keras_class_index_url_and_hash_are_keras():
    assert imagenet_utils.CLASS_INDEX_PATH == (
        "https://storage.googleapis.com/download.tensorflow.org/data/"
        "imagenet_class_index.json")
    assert imagenet_utils.CLASS_INDEX_HASH == "c2c37ea517e94d9795004a39431a14cb"


@pytest.mark.parametrize("args", [
    (None, 224, 32, "channels_last", False, None),
    (None, 224, 32, "channels_last", True, None),
    (None, 224, 32, "channels_first", True, "imagenet"),
    ((100, 120, 3), 224, 32, "channels_last", False, "imagenet"),
    ((1, 64, 64), 224, 32, "channels_first", False, None),
    ((224, 224, 3), 224, 32, "channels_last", True, "imagenet"),
])
def test_obtain_input_shape_matches_keras(keras, args):
    assert (imagenet_utils.obtain_input_shape(*args)
            == _kutils(keras).obtain_input_shape(*args))


@pytest.mark.parametrize("args,message", [
    (((200, 200, 3), 224, 32, "channels_last", True, "imagenet"),
     "When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
     "should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    (((32, 32), 224, 32, "channels_last", False, None),
     "`input_shape` must be a tuple of three integers."),
    (((32, 32, 1), 224, 32, "channels_last", False, "imagenet"),
     "The input must have 3 channels; Received `input_shape=(32, 32, 1)`"),
    (((3, 16, 64), 224, 32, "channels_first", False, None),
     "Input size must be at least 32x32; Received: input_shape=(3, 16, 64)"),
    (((None, None, 3), 224, 32, "channels_last", True, None),
     "If `include_top` is True, you should specify a static `input_shape`. Received: "
     "input_shape=(None, None, 3)"),
])
def test_obtain_input_shape_errors_are_keras(keras, args, message):
    with pytest.raises(ValueError) as expected:
        _kutils(keras).obtain_input_shape(*args)
    assert str(expected.value) == message
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("[", r"\[")):
        imagenet_utils.obtain_input_shape(*args)


def test_obtain_input_shape_warns_about_unusual_channels():
    with pytest.warns(UserWarning, match="usually expects 1 or 3 input channels"):
        imagenet_utils.obtain_input_shape((64, 64, 5), 224, 32, "channels_last", False)


@pytest.mark.parametrize("shape,kernel", [((32, 32, 3), 3), ((33, 31, 3), 5),
                                          ((None, None, 3), 3), ((16, 17, 3), (3, 5))])
def test_correct_pad_matches_keras(keras, shape, kernel):
    assert (imagenet_utils.correct_pad(kerax.Input(shape), kernel)
            == _kutils(keras).correct_pad(keras.Input(shape), kernel))


def test_validate_activation():
    imagenet_utils.validate_activation("relu", None)
    imagenet_utils.validate_activation("softmax", "imagenet")
    imagenet_utils.validate_activation(None, "/some/path.weights.h5")
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are "
                                         "allowed for the `classifier_activation`"):
        imagenet_utils.validate_activation("sigmoid", "imagenet")
