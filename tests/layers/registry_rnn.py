"""Conformance cases for the recurrent layers (sequences of length 5, 3 features, 4 units)."""

from collections.abc import Mapping

import numpy as np

from tests.layers.conformance import Case

SEQ = (2, 5, 3)
_CELL_STATES = {"LSTMCell": 2, "GRUCell": 1, "SimpleRNNCell": 1}


class Fresh(Mapping):
    """Constructor kwargs built anew on every `**` expansion (layers can't be shared).

    `make(lib)` receives `kerax.layers` or `keras.layers`.
    """

    def __init__(self, make, keras=False):
        self.make, self.keras = make, keras

    def _lib(self):
        if self.keras:
            import keras

            return keras.layers
        import kerax.layers

        return kerax.layers

    def _kwargs(self):
        return self.make(self._lib())

    def __getitem__(self, key):
        return self._kwargs()[key]

    def __iter__(self):
        return iter(self._kwargs())

    def __len__(self):
        return len(self._kwargs())

    def __repr__(self):
        return "Fresh(...)"


def wrapped(make):
    """Case kwargs for a wrapper: the same layers built from kerax and from Keras."""
    return dict(kwargs=Fresh(make), keras_kwargs=Fresh(make, keras=True))


def _states(units, n):
    rng = np.random.default_rng(1)
    return [rng.standard_normal((2, units)).astype("float32") for _ in range(n)]


def _masked(rng):
    return [rng.standard_normal(SEQ).astype("float32")]


MASK = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)

# Gradients through the scan are checked once per layer (the basic case), to keep the
# suite fast; the variants share the same step function.
_NG = dict(grad=False)
CASES = []
for _name in ("SimpleRNN", "LSTM", "GRU"):
    CASES += [
        Case(_name, dict(units=4), SEQ, bad_input_shape=(2, 3)),
        Case(_name, dict(units=4, return_sequences=True, return_state=True, go_backwards=True),
             SEQ, id="seq_state_backwards", bad_input_shape=(2, 5, 3, 1), **_NG),
    ]
    _cell = _name + "Cell"
    CASES.append(Case(_cell, dict(units=4), (2, 3), bad_input_shape=(2, 5, 3),
                      call_kwargs={"states": _states(4, _CELL_STATES[_cell])}))
CASES += [
    Case("GRU", dict(units=4, reset_after=False, return_sequences=True), SEQ,
         id="reset_before", **_NG),
    Case("LSTM", dict(units=4, return_sequences=True), SEQ, id="mask",
         call_kwargs={"mask": MASK}, **_NG),
    Case("GRU", dict(units=4, return_sequences=True, unroll=True), SEQ, id="unroll", **_NG),
    Case("LSTM", dict(units=4, return_sequences=True, unroll=True), SEQ, id="unroll_mask",
         call_kwargs={"mask": MASK}, **_NG),
    Case("SimpleRNN", dict(units=4, return_sequences=True, zero_output_for_mask=True), SEQ,
         id="zero_output_mask", call_kwargs={"mask": MASK}, **_NG),
    # Keras' parity harness calls the layer three times, carrying the state: see
    # test_rnn_stateful_masking_dropout.py::test_stateful_matches_keras_across_calls.
    Case("LSTM", dict(units=4, stateful=True), SEQ, id="stateful", skip=("keras_parity",),
         **_NG),
    Case("LSTM", dict(units=4, dropout=0.3, recurrent_dropout=0.2), SEQ, id="dropout",
         training_parity=False, **_NG),
    Case("RNN", **wrapped(lambda L: dict(cell=L.GRUCell(4), return_sequences=True)),
         input_shape=SEQ, bad_input_shape=(2, 3), **_NG),
    Case("RNN", **wrapped(lambda L: dict(cell=[L.LSTMCell(4), L.SimpleRNNCell(3)],
                                         return_state=True)),
         input_shape=SEQ, id="stacked_list", **_NG),
]

_BI = lambda **kw: lambda L: dict(layer=L.LSTM(4, return_sequences=True), **kw)  # noqa: E731
CASES += [
    Case("StackedRNNCells", **wrapped(lambda L: dict(cells=[L.LSTMCell(4), L.GRUCell(3)])),
         input_shape=(2, 3), call_kwargs={"states": [_states(4, 2), _states(3, 1)]}),
    Case("Bidirectional", **wrapped(_BI()), input_shape=SEQ, bad_input_shape=(2, 3), **_NG),
    Case("Bidirectional", **wrapped(lambda L: dict(layer=L.GRU(4, return_state=True),
                                                   merge_mode="sum")),
         input_shape=SEQ, id="sum_state", **_NG),
    Case("Bidirectional", **wrapped(_BI(merge_mode="ave")), input_shape=SEQ, id="ave_mask",
         call_kwargs={"mask": MASK}, **_NG),
    Case("Bidirectional", **wrapped(_BI(merge_mode="mul")), input_shape=SEQ, id="mul", **_NG),
    Case("Bidirectional", **wrapped(_BI(merge_mode=None)), input_shape=SEQ, id="none", **_NG),
    Case("Bidirectional", **wrapped(lambda L: dict(
        layer=L.SimpleRNN(4), backward_layer=L.GRU(3, go_backwards=True))),
         input_shape=SEQ, id="backward_layer", **_NG),
    Case("TimeDistributed", **wrapped(lambda L: dict(layer=L.Dense(4))), input_shape=SEQ,
         bad_input_shape=(2, 3)),
]

# ConvLSTM: tiny images, 3 steps; gradients through the convolutional scan once (2D).
CASES += [
    Case("ConvLSTM2D", dict(filters=2, kernel_size=3), (2, 3, 5, 5, 2),
         bad_input_shape=(2, 5, 5, 2)),
    Case("ConvLSTM2D", dict(filters=2, kernel_size=2, strides=2, padding="same",
                            return_sequences=True, return_state=True, go_backwards=True),
         (2, 3, 5, 5, 2), id="same_strides_state", **_NG),
    Case("ConvLSTM2D", dict(filters=2, kernel_size=3, dilation_rate=2,
                            data_format="channels_first", return_sequences=True),
         (2, 3, 2, 6, 6), id="channels_first_dilated", **_NG),
    Case("ConvLSTM1D", dict(filters=3, kernel_size=3, padding="same"), (2, 3, 6, 2),
         bad_input_shape=(2, 6, 2), **_NG),
    Case("ConvLSTM3D", dict(filters=2, kernel_size=2), (2, 3, 4, 4, 4, 2),
         bad_input_shape=(2, 4, 4, 4, 2), **_NG),
]
