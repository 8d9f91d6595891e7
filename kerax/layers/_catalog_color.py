"""Public names of the colour and contrast image layers, re-exported by `kerax.layers`."""

from kerax.layers.preprocessing.color_jitter import RandomHue, RandomSaturation, RandomSharpness
from kerax.layers.preprocessing.contrast_equalization import AutoContrast, Equalization

__all__ = ["AutoContrast", "Equalization", "RandomHue", "RandomSaturation", "RandomSharpness"]
