"""Convolution, pooling, reshaping and activation layers, for `kerax.layers` to re-export."""

from kerax.layers.convolutional.conv import Conv1D, Conv2D, Conv3D
from kerax.layers.convolutional.conv_transpose import (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
from kerax.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from kerax.layers.convolutional.separable_conv import SeparableConv1D, SeparableConv2D

# Keras 3's other names for the same classes.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
]
