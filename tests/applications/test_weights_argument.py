"""`weights=` and the other constructor arguments: Keras' URLs and hashes through
`kerax.utils.get_file` (tested on a local `file://` origin, never the network), weight
files given by path, and Keras' argument errors."""

import hashlib

import h5py
import numpy as np
import pytest

import kerax
from kerax.applications import _common
from kerax.applications import mobilenet_v3

SHAPE = (32, 32, 3)


def _legacy_h5(path):
    """A file laid out as Keras 2 wrote weights (`layer_names` at the root)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"conv"])
        group = f.create_group("conv")
        group.attrs["weight_names"] = np.array([b"conv/kernel:0"])
        group.create_dataset("conv/kernel:0", data=np.zeros((3, 3, 3, 8), "float32"))
    return path


def _keras_legacy_weights(keras, path, **kwargs):
    """Keras 3 writes a `weights=None` MobileNetV3Small's weights in the legacy Keras 2
    layout of its published ImageNet files; returns the Keras model."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(0)
    ref = keras.applications.MobileNetV3Small(weights=None, **kwargs)
    rng = np.random.default_rng(1)
    ref.set_weights([np.abs(w + 0.2 * rng.standard_normal(w.shape).astype(w.dtype))
                     if w.ndim == 1 else w for w in ref.get_weights()])
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, ref)
    return ref


def test_imagenet_weights_come_from_keras_url_through_get_file(keras, tmp_path, monkeypatch):
    name = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    origin = tmp_path / "origin"
    origin.mkdir()
    source = origin / name
    ref = _keras_legacy_weights(keras, source, include_top=False, input_shape=SHAPE)
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mobilenet_v3, "BASE_WEIGHT_PATH", origin.as_uri() + "/")
    digest = hashlib.md5(source.read_bytes()).hexdigest()
    monkeypatch.setitem(mobilenet_v3.WEIGHTS_HASHES, "small_224_1.0_float",
                        ("unused", digest))
    with pytest.warns(UserWarning, match="Weights for input shape"):
        model = kerax.applications.MobileNetV3Small(include_top=False, input_shape=SHAPE)
    # Downloaded (hash checked) into the `models` cache, then loaded layer by layer.
    assert (tmp_path / "cache" / "models" / name).read_bytes() == source.read_bytes()
    x = np.random.default_rng(0).uniform(0, 255, (2,) + SHAPE).astype("float32")
    expected = np.asarray(ref.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), expected,
                               rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_legacy_h5_path_loads_keras_written_weights(keras, tmp_path):
    path = str(tmp_path / "mnv3.h5")
    ref = _keras_legacy_weights(keras, path, alpha=0.75, input_shape=SHAPE,
                                classifier_activation=None)
    model = kerax.applications.MobileNetV3Small(weights=path, alpha=0.75, input_shape=SHAPE,
                                                classifier_activation=None)
    x = np.random.default_rng(0).uniform(0, 255, (2,) + SHAPE).astype("float32")
    expected = np.asarray(ref.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), expected,
                               rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_imagenet_weights_with_the_wrong_hash_are_refused(tmp_path, monkeypatch):
    name = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    origin = tmp_path / "origin"
    origin.mkdir()
    _legacy_h5(origin / name)
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mobilenet_v3, "BASE_WEIGHT_PATH", origin.as_uri() + "/")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="hash"):
        kerax.applications.MobileNetV3Small(include_top=False, input_shape=SHAPE)
    assert not (tmp_path / "cache" / "models" / name).exists()


def test_legacy_h5_path_for_another_architecture_gets_a_clear_error(tmp_path):
    path = str(_legacy_h5(tmp_path / "old.h5"))
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights"):
        kerax.applications.MobileNetV2(weights=path, input_shape=SHAPE, alpha=0.35)


BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


@pytest.mark.parametrize("build,url,file_hash", [
    (lambda: kerax.applications.ResNet50(include_top=False, input_shape=SHAPE),
     BASE + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "4d473c1dd8becc155b73f8504c6f6626"),
    (lambda: kerax.applications.ResNet101V2(input_shape=(224, 224, 3)),
     BASE + "resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels.h5",
     "6343647c601c52e1368623803854d971"),
    (lambda: kerax.applications.VGG19(include_top=False, input_shape=SHAPE),
     BASE + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "253f8cb515780f3b799900260a226db6"),
    pytest.param(  # slow: EfficientNet's truncated-normal init compiles once per shape
        lambda: kerax.applications.EfficientNetB0(include_top=False, input_shape=SHAPE),
        "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
        "50bc09e76180e00e4465e1a485ddc09d", marks=pytest.mark.slow),
    (lambda: kerax.applications.MobileNetV2(include_top=False, input_shape=(96, 96, 3),
                                            alpha=0.35),
     BASE + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5",
     None),
    (lambda: kerax.applications.MobileNet(input_shape=(128, 128, 3), alpha=0.75),
     BASE + "mobilenet/mobilenet_7_5_128_tf.h5", None),
    (lambda: kerax.applications.DenseNet121(include_top=False, input_shape=SHAPE),
     BASE + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "30ee3e1110167f948a6b9946edeeb738"),
    (lambda: kerax.applications.MobileNetV3Large(input_shape=(224, 224, 3), alpha=0.75),
     BASE + "mobilenet_v3/weights_mobilenet_v3_large_224_0.75_float.h5",
     "765b44a33ad4005b3ac83185abf1d0eb"),
])
def test_imagenet_weights_use_keras_urls_and_hashes(monkeypatch, build, url, file_hash):
    calls = []

    def get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        raise RuntimeError("no download in tests")

    monkeypatch.setattr(_common.file_utils, "get_file", get_file)
    with pytest.raises(RuntimeError, match="no download"):
        build()
    assert calls == [(url.rpartition("/")[2], url, "models", file_hash)]


def test_input_tensor_is_used_as_the_model_input():
    inputs = kerax.Input(SHAPE)
    x = kerax.layers.Rescaling(2.0)(inputs)
    model = kerax.applications.ResNet50V2(weights=None, include_top=False, input_tensor=x,
                                          pooling="avg")
    assert model.inputs[0] is inputs and model.output.shape == (None, 2048)
    assert isinstance(model.layers[1], kerax.layers.Rescaling)


@pytest.mark.parametrize("build,message", [
    (lambda: kerax.applications.ResNet50(weights="nowhere.h5"),
     "The `weights` argument should be either `None` (random initialization), "
     "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
     "loaded.  Received: weights=nowhere.h5"),
    (lambda: kerax.applications.VGG16(classes=10),
     "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
     "Received classes=10"),
    (lambda: kerax.applications.ResNet50(weights=None, input_shape=(16, 16, 3),
                                         include_top=False),
     "Input size must be at least 32x32; Received: input_shape=(16, 16, 3)"),
    (lambda: kerax.applications.MobileNetV2(alpha=0.3, include_top=False),
     "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
     "`1.0`, `1.3` or `1.4` only; Received `alpha=0.3`"),
    (lambda: kerax.applications.MobileNetV3Small(alpha=0.5),
     "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
     "minimalistic or `1.0` for minimalistic only."),
    (lambda: kerax.applications.MobileNetV3Large(weights=None, input_shape=(16, 64, 3)),
     "Input size must be at least 32x32; Received `input_shape=(16, 64, 3)`"),
    (lambda: kerax.applications.MobileNetV3Small(classifier_activation="relu",
                                                 input_shape=(224, 224, 3)),
     "Only `None` and `softmax` activations are allowed for the `classifier_activation` "
     "argument when using pretrained weights"),
    (lambda: kerax.applications.ResNet50(weights=None, input_tensor=np.ones((1, 32, 32, 3)),
                                         include_top=False),
     "`input_tensor` must be a symbolic tensor"),
])
def test_argument_errors(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.")):
        build()
