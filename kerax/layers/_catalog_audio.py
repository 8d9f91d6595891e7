"""Public names of the audio layers and `ReversibleEmbedding`, re-exported by
`kerax.layers`."""

from kerax.layers.core.reversible_embedding import ReversibleEmbedding
from kerax.layers.preprocessing.spectrogram import MelSpectrogram, STFTSpectrogram

__all__ = ["MelSpectrogram", "ReversibleEmbedding", "STFTSpectrogram"]
