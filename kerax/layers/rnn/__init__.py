"""Recurrent layers: cells, the generic `RNN` over `jax.lax.scan`, and wrappers."""
