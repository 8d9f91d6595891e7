"""Public names of the extra image augmentation layers, re-exported by `kerax.layers`."""

from kerax.layers.preprocessing.augment_more import (
    RandomColorDegeneration,
    RandomColorJitter,
    RandomErasing,
    RandomGaussianBlur,
    RandomShear,
)
from kerax.layers.preprocessing.pipeline import Pipeline

__all__ = ["Pipeline", "RandomColorDegeneration", "RandomColorJitter", "RandomErasing",
           "RandomGaussianBlur", "RandomShear"]
