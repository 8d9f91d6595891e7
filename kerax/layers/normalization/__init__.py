"""Normalization layers: batch, layer, group, RMS and unit normalization."""

from kerax.layers.normalization.batch_normalization import BatchNormalization
from kerax.layers.normalization.group_normalization import GroupNormalization
from kerax.layers.normalization.layer_normalization import LayerNormalization
from kerax.layers.normalization.rms_normalization import RMSNormalization
from kerax.layers.normalization.unit_normalization import UnitNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization",
           "RMSNormalization", "UnitNormalization"]
