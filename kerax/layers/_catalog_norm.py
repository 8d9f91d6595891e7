"""Public names of the normalization, regularization, embedding/masking and attention
families, re-exported by `kerax.layers`."""

from kerax.layers.normalization import (BatchNormalization, GroupNormalization,
                                        LayerNormalization, RMSNormalization,
                                        UnitNormalization)

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization",
           "RMSNormalization", "UnitNormalization"]
