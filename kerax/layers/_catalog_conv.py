"""Convolution, pooling, reshaping and activation layers, for `kerax.layers` to re-export."""

from kerax.layers.activations.elu import ELU
from kerax.layers.activations.leaky_relu import LeakyReLU
from kerax.layers.activations.prelu import PReLU
from kerax.layers.activations.relu import ReLU
from kerax.layers.activations.softmax import Softmax
from kerax.layers.convolutional.conv import Conv1D, Conv2D, Conv3D
from kerax.layers.convolutional.conv_transpose import (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
from kerax.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from kerax.layers.convolutional.separable_conv import SeparableConv1D, SeparableConv2D
from kerax.layers.pooling.average_pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D)
from kerax.layers.pooling.global_average_pooling import (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
from kerax.layers.pooling.global_max_pooling import (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)
from kerax.layers.pooling.max_pooling import MaxPooling1D, MaxPooling2D, MaxPooling3D
from kerax.layers.reshaping.cropping import Cropping1D, Cropping2D, Cropping3D
from kerax.layers.reshaping.permute import Permute
from kerax.layers.reshaping.repeat_vector import RepeatVector
from kerax.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from kerax.layers.reshaping.zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D

# Keras 3's other names for the same classes.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Permute", "RepeatVector", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
]
