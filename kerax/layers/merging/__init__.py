"""Merge layers: combine a list of inputs into one (`Add`, `Concatenate`, `Dot`, ...)."""
