"""Conformance cases for the convolution layers (see conformance.py).

Each layer's first case runs every generic check; `_variant` cases cover one more option
(strides, "same", dilation, groups, channels_first, output_padding) with Keras parity,
jit and config only, to keep the suite fast.
"""

from tests.layers.conformance import Case

CF = "channels_first"
IMG, SEQ, VOL = (2, 6, 6, 3), (2, 8, 3), (1, 4, 4, 4, 2)


def _variant(layer, kwargs, shape, id, **extra):
    return Case(layer, kwargs, shape, id=id, training_parity=False, grad=False, vmap=False,
                **extra)


def _alias(name, kwargs, shape):
    """A Keras alias (the same class under another name): no second Keras comparison."""
    return Case(name, kwargs, shape, id="alias", grad=False, vmap=False,
                skip=("keras_parity",))


CASES = [
    Case("Conv1D", dict(filters=4, kernel_size=3), SEQ, bad_input_shape=(8, 3)),
    _variant("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2),
             SEQ, "causal-dilated"),
    _variant("Conv1D", dict(filters=4, kernel_size=2, strides=2, groups=2, data_format=CF),
             (2, 4, 7), "strided-groups-cf"),
    Case("Conv2D", dict(filters=4, kernel_size=3), IMG, bad_input_shape=(6, 6, 3)),
    Case("Conv2D", dict(filters=4, kernel_size=3, lora_rank=2), IMG, id="lora"),
    _variant("Conv2D", dict(filters=4, kernel_size=3, strides=2, padding="same",
                            activation="relu"), IMG, "strided-same"),
    _variant("Conv2D", dict(filters=2, kernel_size=(2, 3), dilation_rate=2, use_bias=False),
             IMG, "dilated-nobias"),
    _variant("Conv2D", dict(filters=6, kernel_size=3, groups=3, padding="same"), IMG,
             "groups"),
    _variant("Conv2D", dict(filters=4, kernel_size=3, data_format=CF), (2, 3, 6, 6),
             "channels-first", bad_input_shape=(2, 3, 6)),
    Case("Conv3D", dict(filters=2, kernel_size=2), VOL, bad_input_shape=(1, 4, 4, 2)),
    _variant("Conv3D", dict(filters=2, kernel_size=2, strides=2, padding="same",
                            data_format=CF), (1, 2, 5, 5, 5), "strided-cf"),
    Case("Conv1DTranspose", dict(filters=4, kernel_size=3), SEQ, bad_input_shape=(8, 3)),
    Case("Conv2DTranspose", dict(filters=4, kernel_size=3), IMG, bad_input_shape=(6, 6, 3)),
    _variant("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same"),
             IMG, "strided-same"),
    _variant("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=1),
             IMG, "output-padding"),
    _variant("Conv2DTranspose", dict(filters=2, kernel_size=4, strides=(2, 3),
                                     padding="same", output_padding=(1, 0)),
             IMG, "same-output-padding"),
    _variant("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2,
                                     data_format=CF), (2, 3, 5, 5), "dilated-cf"),
    Case("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (1, 3, 3, 3, 2),
         bad_input_shape=(1, 3, 3, 2)),
    Case("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), SEQ,
         bad_input_shape=(8, 3)),
    Case("DepthwiseConv2D", dict(kernel_size=3), IMG, bad_input_shape=(6, 6, 3)),
    _variant("DepthwiseConv2D", dict(kernel_size=3, strides=2, padding="same",
                                     depth_multiplier=2, data_format=CF),
             (2, 3, 6, 6), "strided-cf"),
    _variant("DepthwiseConv2D", dict(kernel_size=2, dilation_rate=2), IMG, "dilated"),
    Case("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2), SEQ,
         bad_input_shape=(8, 3)),
    Case("SeparableConv2D", dict(filters=4, kernel_size=3), IMG, bad_input_shape=(6, 6, 3)),
    _variant("SeparableConv2D", dict(filters=4, kernel_size=3, strides=2, padding="same",
                                     data_format=CF), (2, 3, 6, 6), "strided-cf"),
    _alias("Convolution1D", dict(filters=2, kernel_size=2), SEQ),
    _alias("Convolution2D", dict(filters=2, kernel_size=2), IMG),
    _alias("Convolution3D", dict(filters=2, kernel_size=2), VOL),
    _alias("Convolution1DTranspose", dict(filters=2, kernel_size=2), SEQ),
    _alias("Convolution2DTranspose", dict(filters=2, kernel_size=2), IMG),
    _alias("Convolution3DTranspose", dict(filters=2, kernel_size=2), VOL),
    _alias("SeparableConvolution1D", dict(filters=2, kernel_size=2), SEQ),
    _alias("SeparableConvolution2D", dict(filters=2, kernel_size=2), IMG),
]
