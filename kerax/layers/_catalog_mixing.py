"""Public names of the image mixing layers (MixUp, CutMix), re-exported by `kerax.layers`."""

from kerax.layers.preprocessing.mixing import CutMix, MixUp

__all__ = ["CutMix", "MixUp"]
