"""`weights=` and the other constructor arguments: Keras' URLs and hashes through
`kerax.utils.get_file` (tested on a local `file://` origin, never the network), weight
files given by path, and Keras' argument errors."""

import hashlib
import re

import h5py
import numpy as np
import pytest

import kerax
from kerax.applications import _common
from kerax.applications import convnext
from kerax.applications import efficientnet_v2
from kerax.applications import mobilenet_v3
from kerax.applications import nasnet

SHAPE = (32, 32, 3)


def _legacy_h5(path):
    """A file laid out as Keras 2 wrote weights (`layer_names` at the root)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"conv"])
        group = f.create_group("conv")
        group.attrs["weight_names"] = np.array([b"conv/kernel:0"])
        group.create_dataset("conv/kernel:0", data=np.zeros((3, 3, 3, 8), "float32"))
    return path


def _keras_legacy_weights(keras, path, name="MobileNetV3Small", **kwargs):
    """Keras 3 writes a `weights=None` application's weights in the legacy Keras 2 layout
    of its published ImageNet files; returns the Keras model."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(0)
    ref = getattr(keras.applications, name)(weights=None, **kwargs)
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


def test_convnext_imagenet_weights_are_checked_with_keras_sha256(keras, tmp_path,
                                                                monkeypatch):
    # ConvNeXt's published hashes are sha256 (the others md5); its nested Sequential
    # stem and LayerScale weights come through the legacy layout too.
    name = "convnext_tiny_notop.h5"
    origin = tmp_path / "origin"
    origin.mkdir()
    source = origin / name
    ref = _keras_legacy_weights(keras, source, "ConvNeXtTiny", include_top=False,
                                input_shape=SHAPE)
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(convnext, "BASE_WEIGHTS_PATH", origin.as_uri() + "/")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setitem(convnext.WEIGHTS_HASHES, "convnext_tiny", ("unused", digest))
    model = kerax.applications.ConvNeXtTiny(include_top=False, input_shape=SHAPE)
    assert (tmp_path / "cache" / "models" / name).read_bytes() == source.read_bytes()
    x = np.random.default_rng(0).uniform(0, 255, (2,) + SHAPE).astype("float32")
    expected = np.asarray(ref.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), expected,
                               rtol=1e-4, atol=1e-4 * np.abs(expected).max())

    monkeypatch.setitem(convnext.WEIGHTS_HASHES, "convnext_tiny", ("unused", "0" * 64))
    (tmp_path / "cache" / "models" / name).unlink()
    with pytest.raises(ValueError, match="hash"):
        kerax.applications.ConvNeXtTiny(include_top=False, input_shape=SHAPE)


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


def _requested(monkeypatch, build):
    """The `get_file` calls `build()` makes (the first one stops it)."""
    calls = []

    def get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        raise RuntimeError("no download in tests")

    monkeypatch.setattr(_common.file_utils, "get_file", get_file)
    with pytest.raises(RuntimeError, match="no download"):
        build()
    return calls


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
    (lambda: kerax.applications.ConvNeXtTiny(include_top=False, input_shape=SHAPE),
     BASE + "convnext/convnext_tiny_notop.h5",
     "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    pytest.param(
        lambda: kerax.applications.ConvNeXtXLarge(input_shape=(224, 224, 3)),
        BASE + "convnext/convnext_xlarge.h5",
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        marks=pytest.mark.slow),
    (lambda: kerax.applications.EfficientNetV2B0(include_top=False, input_shape=SHAPE),
     BASE + "efficientnet_v2/efficientnetv2-b0_notop.h5",
     "893217f2bb855e2983157299931e43ff"),
    pytest.param(
        lambda: kerax.applications.EfficientNetV2S(input_shape=(384, 384, 3)),
        BASE + "efficientnet_v2/efficientnetv2-s.h5", "e1d88a8495beba45748fedd0cecbe016",
        marks=pytest.mark.slow),
])
def test_imagenet_weights_use_keras_urls_and_hashes(monkeypatch, build, url, file_hash):
    assert _requested(monkeypatch, build) == [
        (url.rpartition("/")[2], url, "models", file_hash)]


@pytest.mark.parametrize("build,file_name,url,file_hash", [
    (lambda: kerax.applications.NASNetMobile(include_top=False, input_shape=SHAPE),
     "nasnet_mobile_no_top.h5", BASE + "nasnet/NASNet-mobile-no-top.h5",
     "1ed92395b5b598bdda52abe5c0dbfd63"),
    pytest.param(
        lambda: kerax.applications.NASNetLarge(), "nasnet_large.h5",
        BASE + "nasnet/NASNet-large.h5", "11577c9a518f0070763c2b964a382f17",
        marks=pytest.mark.slow),
])
def test_nasnet_weights_use_keras_file_names(monkeypatch, build, file_name, url,
                                             file_hash):
    assert _requested(monkeypatch, build) == [(file_name, url, "models", file_hash)]


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
    (lambda: kerax.applications.ConvNeXtTiny(name="mynet", include_top=False,
                                             input_shape=SHAPE),
     'Model name "mynet" does not match weights variant "convnext_tiny". When using '
     'imagenet weights, model name must contain the weights variant (e.g., '
     '"convnext_tiny").'),
    (lambda: convnext.ConvNeXt([1, 1, 1, 1], [8, 8, 8, 8], name="convnext_tiny",
                               weights="imagenet", include_top=False, input_shape=SHAPE,
                               weights_name="convnext_tiny"),
     "Architecture configuration does not match convnext_tiny variant."),
    (lambda: kerax.applications.NASNetMobile(input_shape=(None, None, 3),
                                             include_top=False),
     "When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
     "input_shape argument must be static (no None entries). Got: "
     "`input_shape=(None, None, 3)`."),
    (lambda: nasnet.NASNet(input_shape=SHAPE, penultimate_filters=100, weights=None,
                           include_top=False),
     "For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
     "(`filter_multiplier` ** 2). Current value: 100"),
    (lambda: efficientnet_v2.EfficientNetV2(
        1.0, 1.0, 224, weights=None, input_shape=SHAPE, blocks_args=[dict(
            kernel_size=3, num_repeat=0, input_filters=32, output_filters=16,
            expand_ratio=1, se_ratio=0, strides=1, conv_type=1)]),
     "The number of repeats in `EfficientNetV2` must be > 0. Received: num_repeat=0"),
])
def test_argument_errors(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
