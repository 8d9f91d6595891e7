"""Conformance cases for the merge layers and `Lambda` (see conformance.py)."""

import jax.numpy as jnp

from kerax.saving import register_keras_serializable
from tests.layers.conformance import Case

TWO = [(2, 4), (2, 4)]
THREE = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]


@register_keras_serializable(package="kerax_tests")
def scaled_tanh(x, scale=1.0):
    return jnp.tanh(x) * scale


CASES = [
    Case("Add", {}, TWO),
    Case("Add", {}, THREE, id="three"),
    Case("Add", {}, [(2, 3, 4), (2, 1, 4)], id="broadcast", training_parity=False),
    Case("Subtract", {}, TWO),
    Case("Multiply", {}, THREE),
    Case("Average", {}, TWO),
    Case("Maximum", {}, THREE),
    Case("Minimum", {}, TWO),
    Case("Concatenate", {}, [(2, 3), (2, 5)]),
    Case("Concatenate", dict(axis=1), [(2, 2, 4), (2, 3, 4)], id="axis1"),
    Case("Dot", dict(axes=1), TWO),
    Case("Dot", dict(axes=(2, 2)), [(2, 3, 4), (2, 5, 4)], id="3d"),
    Case("Dot", dict(axes=1, normalize=True), TWO, id="cosine"),
    Case("Dot", dict(axes=[1, 2]), [(2, 3, 4), (2, 5, 3)], id="mixed-axes"),
    Case("Lambda", dict(function=scaled_tanh, arguments={"scale": 2.0}), (2, 4)),
]
