"""EfficientNetV2 B0 to B3, S, M and L (Tan & Le, 2021), as Keras 3 builds them.

Preprocessing is part of the model (inputs in [0, 255], unless
`include_preprocessing=False`), so `preprocess_input` passes its input through.

Example:
>>> import kerax
>>> model = kerax.applications.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3),
...                                             classes=10)
>>> model.name, model.output.shape
('efficientnetv2-b0', (None, 10))
"""

import copy
import math

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils
from kerax.applications.efficientnet import CONV_KERNEL_INITIALIZER
from kerax.applications.efficientnet import DENSE_KERNEL_INITIALIZER

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/")
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stages(*rows):
    """Keras' block arguments from rows of (kernel_size, num_repeat, input_filters,
    output_filters, expand_ratio, se_ratio, strides, conv_type)."""
    keys = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
            "se_ratio", "strides", "conv_type")
    return [dict(zip(keys, row)) for row in rows]


_B = _stages((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1),
             (3, 2, 32, 48, 4, 0, 2, 1), (3, 3, 48, 96, 4, 0.25, 2, 0),
             (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0))
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages(
        (3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1),
        (3, 4, 48, 64, 4, 0, 2, 1), (3, 6, 64, 128, 4, 0.25, 2, 0),
        (3, 9, 128, 160, 6, 0.25, 1, 0), (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "efficientnetv2-m": _stages(
        (3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "efficientnetv2-l": _stages(
        (3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
    "efficientnetv2-b0": _B, "efficientnetv2-b1": _B, "efficientnetv2-b2": _B,
    "efficientnetv2-b3": _B,
}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Round number of filters based on depth multiplier."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth,
                   int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Round number of repeats based on depth multiplier."""
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters, kernel_size, name, strides=1, **kwargs):
    return layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                         kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kwargs)


def _bn(bn_momentum, name):
    axis = 3 if backend.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=axis, momentum=bn_momentum, name=name)


def _squeeze_excite(x, input_filters, filters, se_ratio, activation, name):
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = ((1, 1, filters) if backend.image_data_format() == "channels_last"
                else (filters, 1, 1))
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = _conv(filters_se, 1, f"{name}se_reduce", activation=activation)(se)
    se = _conv(filters, 1, f"{name}se_expand", activation="sigmoid")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability,
              name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:  # Keras drops at this rate (it is named the other way)
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                               name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,
                se_ratio=0.0, bn_momentum=0.9, activation="swish",
                survival_probability=0.8, name=None):
    """MBConv block: Mobile Inverted Residual Bottleneck."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, f"{name}expand_conv", use_bias=False)(x)
            x = _bn(bn_momentum, f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="same",
                                   depthwise_initializer=CONV_KERNEL_INITIALIZER,
                                   use_bias=False, name=f"{name}dwconv2")(x)
        x = _bn(bn_momentum, f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, f"{name}project_conv", use_bias=False)(x)
        x = _bn(bn_momentum, f"{name}project_bn")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)
    return apply


def FusedMBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3,
                     strides=1, se_ratio=0.0, bn_momentum=0.9, activation="swish",
                     survival_probability=0.8, name=None):
    """Fuses the proj conv1x1 and depthwise_conv into a conv2d."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, f"{name}expand_conv", strides=strides,
                      use_bias=False)(x)
            x = _bn(bn_momentum, f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        expanded = expand_ratio != 1
        x = _conv(output_filters, 1 if expanded else kernel_size, f"{name}project_conv",
                  strides=1 if expanded else strides, use_bias=False)(x)
        x = _bn(bn_momentum, f"{name}project_bn")(x)
        if not expanded:
            x = layers.Activation(activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)
    return apply


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                   drop_connect_rate=0.2, depth_divisor=8, min_depth=8, bn_momentum=0.9,
                   activation="swish", blocks_args="default", name="efficientnetv2",
                   include_top=True, weights="imagenet", input_tensor=None,
                   input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", include_preprocessing=True,
                   weights_name=None):
    """An EfficientNetV2 scaled by `width_coefficient` and `depth_coefficient`;
    `blocks_args="default"` takes the stages of the variant called `name`."""
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[name]
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top,
        weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1

    def filters(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        if name.split("-")[-1].startswith("b") and input_shape[bn_axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)  # the B variants: V1's preprocessing
            x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                                     variance=[0.229**2, 0.224**2, 0.225**2],
                                     axis=bn_axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    x = _conv(filters(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2,
              use_bias=False)(x)
    x = _bn(bn_momentum, "stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. "
                             f"Received: num_repeat={args['num_repeat']}")
        args["input_filters"] = filters(args["input_filters"])
        args["output_filters"] = filters(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)(x)
            b += 1

    x = _conv(filters(1280), 1, "top_conv", use_bias=False)(x)
    x = _bn(bn_momentum, "top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    x = _common.head(x, include_top, pooling, classes, classifier_activation, weights,
                     ("avg_pool", "avg_pool", "max_pool"), dropout_rate,
                     kernel_initializer=DENSE_KERNEL_INITIALIZER)
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        BASE_WEIGHTS_PATH + name + (".h5" if include_top else "_notop.h5"),
        WEIGHTS_HASHES[weights_name][0 if include_top else 1]))


def _constructor(suffix, width, depth, size):
    def constructor(include_top=True, weights="imagenet", input_tensor=None,
                    input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", include_preprocessing=True,
                    name=f"efficientnetv2-{suffix}"):
        return EfficientNetV2(width, depth, size, name=name, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing,
                              weights_name=suffix if suffix.startswith("b") else "-" + suffix)
    constructor.__name__ = constructor.__qualname__ = f"EfficientNetV2{suffix.upper()}"
    constructor.__doc__ = (
        f"Instantiates the EfficientNetV2{suffix.upper()} architecture (default input "
        f"{size}x{size}; inputs in [0, 255]).\n\n    Args as in Keras: `include_top`, "
        "`weights` (`None`, `\"imagenet\"` or a path), `input_tensor`, `input_shape`, "
        "`pooling`, `classes`, `classifier_activation`, `include_preprocessing`, `name`. "
        "Returns a `Model`.\n    ")
    return constructor


EfficientNetV2B0 = _constructor("b0", 1.0, 1.0, 224)
EfficientNetV2B1 = _constructor("b1", 1.0, 1.1, 240)
EfficientNetV2B2 = _constructor("b2", 1.1, 1.2, 260)
EfficientNetV2B3 = _constructor("b3", 1.2, 1.4, 300)
EfficientNetV2S = _constructor("s", 1.0, 1.0, 384)
EfficientNetV2M = _constructor("m", 1.0, 1.0, 480)
EfficientNetV2L = _constructor("l", 1.0, 1.0, 480)


preprocess_input, decode_predictions = _common.preprocessing(None)
