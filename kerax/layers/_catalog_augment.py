"""Public names of the image augmentation layers (RandomCrop, RandomGrayscale, ...), re-exported by `kerax.layers`."""

__all__ = []
