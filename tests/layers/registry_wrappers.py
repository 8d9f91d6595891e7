"""Conformance cases for `Wrapper` and `SpectralNormalization` (nested layers built fresh
from kerax and from Keras with `registry_rnn.wrapped`)."""

from tests.layers.conformance import Case
from tests.layers.registry_rnn import wrapped

CASES = [
    # Keras' Wrapper is abstract (calling it fails); kerax's runs the wrapped layer.
    Case("Wrapper", **wrapped(lambda L: {"layer": L.Dense(3)}), skip=("keras_parity",)),
    Case("SpectralNormalization", **wrapped(lambda L: {"layer": L.Dense(3)}),
         bad_input_shape=(2, 5)),
    Case("SpectralNormalization", **wrapped(lambda L: {"layer": L.Conv2D(2, 3),
                                                          "power_iterations": 2}),
         input_shape=(2, 5, 5, 2), id="conv2d"),
    # As in Keras, the output is cast to the input's dtype (int for Embedding).
    Case("SpectralNormalization", **wrapped(lambda L: {"layer": L.Embedding(10, 3)}),
         input_shape=(2, 5), input_dtype="int32", id="embedding", grad=False),
]
