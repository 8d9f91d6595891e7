"""Xception (Chollet, 2017), as Keras 3 builds it.

Example:
>>> from kerax.applications import xception
>>> xception.Xception.__name__, xception.preprocess_input.__doc__.split("`")[1]
('Xception', 'imagenet_utils.preprocess_input')
"""

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                "xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _sep_bn(x, filters, name, axis):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=axis, name=f"{name}_bn")(x)


def _shortcut(x, filters, axis):
    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)
    return layers.BatchNormalization(axis=axis)(residual)


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """Instantiates the Xception architecture (default input 299x299, at least 71x71;
    inputs preprocessed by `xception.preprocess_input`). Arguments as in Keras:
    `include_top`, `weights`, `input_tensor`, `input_shape`, `pooling`, `classes`,
    `classifier_activation`, `name`. Returns a `Model`."""
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 1 if backend.image_data_format() == "channels_first" else -1

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False,
                      name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    residual = _shortcut(x, 128, axis)
    x = _sep_bn(x, 128, "block2_sepconv1", axis)
    x = layers.Activation("relu", name="block2_sepconv2_act")(x)
    x = _sep_bn(x, 128, "block2_sepconv2", axis)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block2_pool")(x)
    x = layers.add([x, residual])
    for block, filters in ((3, 256), (4, 728)):
        residual = _shortcut(x, filters, axis)
        for i in (1, 2):
            x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
            x = _sep_bn(x, filters, f"block{block}_sepconv{i}", axis)
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same",
                                name=f"block{block}_pool")(x)
        x = layers.add([x, residual])
    for block in range(5, 13):  # middle flow
        residual = x
        for i in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
            x = _sep_bn(x, 728, f"block{block}_sepconv{i}", axis)
        x = layers.add([x, residual])
    residual = _shortcut(x, 1024, axis)
    for i, filters in ((1, 728), (2, 1024)):
        x = layers.Activation("relu", name=f"block13_sepconv{i}_act")(x)
        x = _sep_bn(x, filters, f"block13_sepconv{i}", axis)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])
    for i, filters in ((1, 1536), (2, 2048)):
        x = _sep_bn(x, filters, f"block14_sepconv{i}", axis)
        x = layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)

    x = _common.head(x, include_top, pooling, classes, classifier_activation, weights,
                     ("avg_pool", None, None))
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP,
        WEIGHTS_HASHES[0 if include_top else 1]))


preprocess_input, decode_predictions = _common.preprocessing("tf")
