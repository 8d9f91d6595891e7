"""Host-side string layers (NumPy/Python), for `kerax.layers` to re-export."""

from kerax.layers.preprocessing.text.hashed_crossing import HashedCrossing
from kerax.layers.preprocessing.text.integer_lookup import IntegerLookup
from kerax.layers.preprocessing.text.string_lookup import StringLookup
from kerax.layers.preprocessing.text.text_vectorization import TextVectorization

__all__ = ["HashedCrossing", "IntegerLookup", "StringLookup", "TextVectorization"]
