"""MobileNetV2 (Sandler et al., 2018), as Keras 3 builds it.

Example:
>>> import kerax
>>> model = kerax.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3),
...                                        alpha=0.35, classes=10)
>>> model.name, model.output.shape
('mobilenetv2_0.35_32', (None, 10))
"""

import warnings

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)


def _spatial(shape):
    return (shape[1], shape[2]) if backend.image_data_format() == "channels_first" else (
        shape[0], shape[1])


def _default_size(input_shape, input_tensor):
    if input_shape is None and input_tensor is not None:
        rows, cols = _spatial(tuple(input_tensor.shape)[1:])
    elif input_shape is not None:
        rows, cols = _spatial(input_shape)
    else:
        return 224
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=None):
    """Instantiates the MobileNetV2 architecture (inputs preprocessed by
    `mobilenet_v2.preprocess_input`, to [-1, 1]).

    Args as in Keras: `input_shape`, `alpha` (width multiplier; with ImageNet weights
    one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4), `include_top`, `weights` (`None`,
    `"imagenet"` or a path), `input_tensor`, `pooling`, `classes`,
    `classifier_activation`, `name` (default `mobilenetv2_{alpha:0.2f}_{rows}`).
    Returns a `Model`.
    """
    _common.check_weights(weights, include_top, classes)
    if input_shape is not None and input_tensor is not None:
        _common.image_input(input_tensor, input_shape)  # must be symbolic
        axis = 1 if backend.image_data_format() == "channels_first" else 2
        if input_tensor.shape[axis] != input_shape[1]:
            raise ValueError(
                f"input_tensor.shape[{axis}] must equal input_shape[1]; Received "
                f"`input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=_default_size(input_shape, input_tensor), min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top,
        weights=weights)
    rows, cols = _spatial(input_shape)
    if weights == "imagenet":
        if alpha not in [0.35, 0.5, 0.75, 1.0, 1.3, 1.4]:
            raise ValueError(
                "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, "
                f"`0.75`, `1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[96, 128, 160, 192, 224]. Weights for input shape (224, 224) "
                          "will be loaded as the default.", stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1

    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2),
                      padding="same", use_bias=False, name="Conv1")(img_input)
    x = _bn(channel_axis, "bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    blocks = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
              (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
              (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]
    for block_id, (filters, stride, expansion) in enumerate(blocks):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn(channel_axis, "Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = _common.head(x, include_top, pooling, classes, classifier_activation, weights)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    suffix = "" if include_top else "_no_top"
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        f"{BASE_WEIGHT_PATH}mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_"
        f"{rows}{suffix}.h5"))


def _bn(axis, name):
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[channel_axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = _bn(channel_axis, f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3),
                                 name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None,
                               use_bias=False, padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = _bn(channel_axis, f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = _bn(channel_axis, f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # do not round down by more than 10%
        new_v += divisor
    return new_v


preprocess_input, decode_predictions = _common.preprocessing("tf")
