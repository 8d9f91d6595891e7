"""The training engine: compiled pure steps, the epoch loop, and data adapters."""
