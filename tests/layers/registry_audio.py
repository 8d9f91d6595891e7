"""Conformance cases of `ReversibleEmbedding`, `STFTSpectrogram` and `MelSpectrogram`."""

from tests.layers.conformance import Case


def _hidden(rng):
    return [rng.standard_normal((2, 3, 4)).astype("float32")]


CASES = [
    Case("ReversibleEmbedding", dict(input_dim=7, output_dim=4), bad_input_shape=(2, 3, 5), call_kwargs=dict(reverse=True),
         make_inputs=_hidden, id="reverse_tied"),
    Case("ReversibleEmbedding", dict(input_dim=7, output_dim=4, tie_weights=False,
                                     logit_soft_cap=2.0),
         make_inputs=_hidden, call_kwargs=dict(reverse=True), id="reverse_untied_cap"),
    Case("ReversibleEmbedding", dict(input_dim=7, output_dim=4, mask_zero=True), (2, 3),
         input_dtype="int32", int_high=7, id="forward"),
    Case("STFTSpectrogram", dict(mode="magnitude", frame_length=8, frame_step=4), (2, 24, 2),
         bad_input_shape=(2, 24), atol=1e-4),
    Case("STFTSpectrogram", dict(mode="real", frame_length=8, frame_step=2, padding="same",
                                 data_format="channels_first", expand_dims=True),
         (2, 2, 16), id="real_channels_first"),
    Case("MelSpectrogram", dict(fft_length=32, sequence_stride=8, num_mel_bins=6,
                                sampling_rate=8000), (2, 64), bad_input_shape=(1, 2, 64),
         rtol=1e-4, atol=1e-4),
]
