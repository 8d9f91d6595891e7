"""Public names of the image augmentation layers (RandomCrop, RandomGrayscale, ...), re-exported by `kerax.layers`."""

from kerax.layers.preprocessing.color_augment import (
    RandomGrayscale,
    RandomInvert,
    RandomPosterization,
    Solarization,
)
from kerax.layers.preprocessing.random_crop import RandomCrop

__all__ = [
    "RandomCrop",
    "RandomGrayscale",
    "RandomInvert",
    "RandomPosterization",
    "Solarization",
]
