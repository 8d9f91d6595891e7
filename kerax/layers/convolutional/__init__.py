"""Convolution layers: Conv, transposed, depthwise and separable convolutions."""
