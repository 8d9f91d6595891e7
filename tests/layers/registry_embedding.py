import numpy as np

from tests.layers.conformance import Case


def _padded_steps(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    x[1, 1] = 0.0
    return [x]


CASES = [
    Case("Embedding", dict(input_dim=10, output_dim=3), (2, 5), input_dtype="int32"),
    Case("Embedding", dict(input_dim=10, output_dim=3, lora_rank=2), (2, 5),
         input_dtype="int32", id="lora"),
    Case("Embedding", dict(input_dim=6, output_dim=4, mask_zero=True,
                           embeddings_initializer="glorot_uniform"),
         (2, 3, 2), input_dtype="int32", int_high=6, id="mask_zero"),
    Case("Masking", {}, make_inputs=_padded_steps),
    Case("Masking", dict(mask_value=1.5), make_inputs=lambda rng: [
        np.where(rng.random((2, 4, 3)) < 0.5, 1.5, 0.3).astype("float32")], id="value"),
    Case("Identity", {}, (2, 3)),
]
