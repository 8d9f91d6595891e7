"""Public names of the JAX interop layers (JaxLayer), re-exported by `kerax.layers`."""

__all__ = []
