"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention."""

from kerax.layers.attention.additive_attention import AdditiveAttention
from kerax.layers.attention.attention import Attention
from kerax.layers.attention.grouped_query_attention import (GroupedQueryAttention,
                                                            GroupQueryAttention)
from kerax.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]
