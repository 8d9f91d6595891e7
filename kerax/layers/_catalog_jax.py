"""Public names of the JAX interop layers (JaxLayer), re-exported by `kerax.layers`."""

from kerax.layers.core.jax_layer import JaxLayer

__all__ = ["JaxLayer"]
