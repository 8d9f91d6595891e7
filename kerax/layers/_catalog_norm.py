"""Public names of the normalization, regularization, embedding/masking and attention
families, re-exported by `kerax.layers`."""

from kerax.layers.normalization import (BatchNormalization, GroupNormalization,
                                        LayerNormalization, RMSNormalization,
                                        UnitNormalization)
from kerax.layers.regularization import (ActivityRegularization, AlphaDropout,
                                         GaussianDropout, GaussianNoise, SpatialDropout1D,
                                         SpatialDropout2D, SpatialDropout3D)

__all__ = ["ActivityRegularization", "AlphaDropout", "BatchNormalization", "GaussianDropout",
           "GaussianNoise", "GroupNormalization", "LayerNormalization", "RMSNormalization",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "UnitNormalization"]
