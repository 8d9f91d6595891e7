"""Wrapper layers (`Wrapper`, `SpectralNormalization`), for `kerax.layers` to re-export."""

from kerax.layers.core.wrapper import Wrapper
from kerax.layers.normalization.spectral_normalization import SpectralNormalization

__all__ = ["SpectralNormalization", "Wrapper"]
