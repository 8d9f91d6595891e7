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

from kerax.layers.core.embedding import Embedding  # noqa: E402
from kerax.layers.core.identity import Identity  # noqa: E402
from kerax.layers.core.masking import Masking  # noqa: E402

__all__ += ["Embedding", "Identity", "Masking"]

from kerax.layers.attention import (AdditiveAttention, Attention,  # noqa: E402
                                    GroupQueryAttention, MultiHeadAttention)
from kerax.layers.core.einsum_dense import EinsumDense  # noqa: E402

__all__ += ["AdditiveAttention", "Attention", "EinsumDense", "GroupQueryAttention",
            "MultiHeadAttention"]
