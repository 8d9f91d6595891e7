"""Preprocessing layers that work on arrays (no TensorFlow), inside the compiled step."""
