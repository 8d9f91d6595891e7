"""InceptionV3 (Szegedy et al., 2016), as Keras 3 builds it (layers created in Keras'
order, so weights line up by position).

Example:
>>> from kerax.applications import inception_v3
>>> inception_v3.InceptionV3.__name__
'InceptionV3'
"""

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def _axis():
    return 1 if backend.image_data_format() == "channels_first" else 3


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Convolution (no bias), BatchNormalization (no scale), ReLU."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=f"{name}_conv" if name else None)(x)
    x = layers.BatchNormalization(axis=_axis(), scale=False,
                                  name=f"{name}_bn" if name else None)(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, specs):
    """`conv2d_bn` applied in turn for each `(filters, rows, cols[, strides, padding])`."""
    for spec in specs:
        filters, rows, cols, *rest = spec
        strides, padding = rest if rest else ((1, 1), "same")
        x = conv2d_bn(x, filters, rows, cols, padding=padding, strides=strides)
    return x


def _avg_branch(x, filters):
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def _mixed_35(x, pool_filters, name):
    branches = [_chain(x, [(64, 1, 1)]),
                _chain(x, [(48, 1, 1), (64, 5, 5)]),
                _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
                _avg_branch(x, pool_filters)]
    return layers.concatenate(branches, axis=_axis(), name=name)


def _mixed_17(x, width, name):
    branches = [_chain(x, [(192, 1, 1)]),
                _chain(x, [(width, 1, 1), (width, 1, 7), (192, 7, 1)]),
                _chain(x, [(width, 1, 1), (width, 7, 1), (width, 1, 7), (width, 7, 1),
                           (192, 1, 7)]),
                _avg_branch(x, 192)]
    return layers.concatenate(branches, axis=_axis(), name=name)


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    """Instantiates the InceptionV3 architecture (default input 299x299, at least 75x75;
    inputs preprocessed by `inception_v3.preprocess_input`). Arguments as in Keras:
    `include_top`, `weights`, `input_tensor`, `input_shape`, `pooling`, `classes`,
    `classifier_activation`, `name`. Returns a `Model`."""
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = _axis()
    valid = ((2, 2), "valid")

    x = _chain(img_input, [(32, 3, 3, *valid), (32, 3, 3, (1, 1), "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid")])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _mixed_35(x, 32, "mixed0")
    x = _mixed_35(x, 64, "mixed1")
    x = _mixed_35(x, 64, "mixed2")
    x = layers.concatenate([_chain(x, [(384, 3, 3, *valid)]),
                            _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, *valid)]),
                            layers.MaxPooling2D((3, 3), strides=(2, 2))(x)],
                           axis=axis, name="mixed3")
    x = _mixed_17(x, 128, "mixed4")
    x = _mixed_17(x, 160, "mixed5")
    x = _mixed_17(x, 160, "mixed6")
    x = _mixed_17(x, 192, "mixed7")
    x = layers.concatenate([_chain(x, [(192, 1, 1), (320, 3, 3, *valid)]),
                            _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1),
                                       (192, 3, 3, *valid)]),
                            layers.MaxPooling2D((3, 3), strides=(2, 2))(x)],
                           axis=axis, name="mixed8")
    for i in range(2):
        branch1x1 = conv2d_bn(x, 320, 1, 1)
        branch3x3 = conv2d_bn(x, 384, 1, 1)
        branch3x3 = layers.concatenate([conv2d_bn(branch3x3, 384, 1, 3),
                                        conv2d_bn(branch3x3, 384, 3, 1)],
                                       axis=axis, name=f"mixed9_{i}")
        branch3x3dbl = _chain(x, [(448, 1, 1), (384, 3, 3)])
        branch3x3dbl = layers.concatenate([conv2d_bn(branch3x3dbl, 384, 1, 3),
                                           conv2d_bn(branch3x3dbl, 384, 3, 1)], axis=axis)
        x = layers.concatenate([branch1x1, branch3x3, branch3x3dbl, _avg_branch(x, 192)],
                               axis=axis, name=f"mixed{9 + i}")

    x = _common.head(x, include_top, pooling, classes, classifier_activation, weights,
                     ("avg_pool", None, None))
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP,
        WEIGHTS_HASHES[0 if include_top else 1]))


preprocess_input, decode_predictions = _common.preprocessing("tf")
