"""Public names of the adaptive pooling layers, re-exported by `kerax.layers`."""

__all__ = []
