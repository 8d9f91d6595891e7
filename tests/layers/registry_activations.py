"""Conformance cases for ReLU, LeakyReLU, PReLU, ELU and Softmax.

ReLU, LeakyReLU, ELU and Softmax accept any rank, so they have no wrong-rank case.
"""

import numpy as np

from tests.layers.conformance import Case

MASK = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 1]], bool)


def _variant(layer, kwargs, shape, id, **extra):
    return Case(layer, kwargs, shape, id=id, training_parity=False, vmap=False, **extra)


CASES = [
    Case("ReLU", {}, (2, 5)),
    _variant("ReLU", dict(max_value=0.8, negative_slope=0.1, threshold=0.2), (2, 3, 4),
             "all-options"),
    Case("LeakyReLU", {}, (2, 5)),
    _variant("LeakyReLU", dict(negative_slope=0.05), (2, 5), "slope"),
    Case("PReLU", dict(alpha_initializer="ones"), (2, 4, 3), bad_input_shape=(2, 4)),
    _variant("PReLU", dict(alpha_initializer="random_uniform", shared_axes=[1, 2]),
             (2, 4, 4, 3), "shared-axes", bad_input_shape=(2, 4, 4, 5)),
    Case("ELU", dict(alpha=0.5), (2, 5)),
    Case("Softmax", {}, (2, 5)),
    _variant("Softmax", dict(axis=1), (2, 5), "mask", call_kwargs={"mask": MASK}),
    _variant("Softmax", dict(axis=(1, 2)), (2, 3, 4), "tuple-axis"),
    _variant("Softmax", {}, (2, 5), "float-mask",
             call_kwargs={"mask": MASK.astype("float32")}),
]
