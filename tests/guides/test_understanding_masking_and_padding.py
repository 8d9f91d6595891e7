"""Our port of the keras.io guide "Understanding masking & padding" (its Keras 3
version): each test runs one cell, written by us, that exercises the idioms the guide's
cell of the same number teaches, on Keras 3 and on kerax, and compares the two runs.

The idioms, in the guide's order: `keras.utils.pad_sequences(..., padding="post")`; the
mask that `Embedding(mask_zero=True)` and `Masking()` attach to their outputs
(`_keras_mask`); masks flowing to an `LSTM` in a Sequential and in a functional model;
a layer that calls `compute_mask` itself and passes `mask=` to an LSTM; a layer that
changes the mask in its own `compute_mask`; a layer that makes a mask from its input
values; `supports_masking = True` to let a mask pass through a custom layer; a layer
whose `call(inputs, mask=None)` consumes the mask.

Where a cell builds a model or layer with random weights and then calls it, Keras'
weights are copied into kerax between the two statements (`Sync`), so outputs and masks
are compared value for value.
"""

import numpy as np
import pytest

import kerax

from .harness import Cell, Sync, assert_cell, cell_params, close, run_guide

# ports understanding_masking_and_padding, cell 0: imports.
SETUP = '''
import numpy as np
import keras
from keras import layers, ops
'''

# ports understanding_masking_and_padding, cell 1: ragged token lists padded with zeros
# at the end.
PADDING = '''
token_ids = [
    [12, 7],
    [301, 4, 4, 90],
    [5, 66, 18, 2, 41, 9],
]
batch_ids = keras.utils.pad_sequences(token_ids, padding="post")  # zeros after the tokens
print(batch_ids)
'''

# ports understanding_masking_and_padding, cell 2: the two mask-making layers.
MASK_MAKERS = '''
lookup = layers.Embedding(input_dim=400, output_dim=6, mask_zero=True)
vectors = lookup(batch_ids)
print(vectors._keras_mask)

# Masking compares whole feature vectors with mask_value (0.0 by default): give each
# token id four identical float features and let the padded steps be all-zero.
per_step = ops.expand_dims(batch_ids, axis=2)  # (batch, steps, 1)
features = ops.cast(ops.tile(per_step, (1, 1, 4)), dtype="float32")
masked_features = layers.Masking()(features)
print(masked_features._keras_mask)
'''

# ports understanding_masking_and_padding, cell 3: a Sequential model whose LSTM gets
# the embedding's mask.
SEQUENTIAL = '''
model = keras.Sequential([
    layers.Embedding(input_dim=400, output_dim=6, mask_zero=True),
    layers.LSTM(5),
])
'''

# ports understanding_masking_and_padding, cell 4: the same as a functional model.
FUNCTIONAL = '''
ids = keras.Input(shape=(None,), dtype="int32")
embedded = layers.Embedding(input_dim=400, output_dim=6, mask_zero=True)(ids)
model = keras.Model(ids, layers.LSTM(5)(embedded))
'''

# ports understanding_masking_and_padding, cell 5: a mask computed by hand and passed to
# the consumer's call.
EXPLICIT_MASK = '''
class EncodeSkippingPads(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lookup = layers.Embedding(input_dim=400, output_dim=6, mask_zero=True)
        self.encoder = layers.LSTM(5)

    def call(self, ids):
        vectors = self.lookup(ids)
        keep = self.lookup.compute_mask(ids)  # any boolean (batch, steps) tensor works
        return self.encoder(vectors, mask=keep)


layer = EncodeSkippingPads()
ids = (np.random.random((6, 8)) * 40).astype("int32")  # a few ids are 0: padding
layer(ids)
'''

# ports understanding_masking_and_padding, cell 6: a layer that changes the time axis
# and therefore the mask.
SPLIT_MASK = '''
class HalveTime(layers.Layer):
    """Cuts a sequence in two halves along the time axis."""

    def call(self, sequence):
        return ops.split(sequence, 2, axis=1)

    def compute_mask(self, sequence, mask=None):
        # Each half gets the matching half of the mask (if there is one).
        return None if mask is None else ops.split(mask, 2, axis=1)


front, back = HalveTime()(masked_features)  # 6 steps: 3 + 3
print(front._keras_mask)
print(back._keras_mask)
'''

# ports understanding_masking_and_padding, cell 7: a layer that makes a mask from the
# values of its input.
MASK_FROM_VALUES_A = '''
class TinyLookup(layers.Layer):
    def __init__(self, vocabulary, width, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = vocabulary
        self.width = width
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.table = self.add_weight(
            shape=(self.vocabulary, self.width), initializer="random_normal",
            dtype="float32")

    def call(self, ids):
        return ops.take(self.table, ops.cast(ids, "int32"), axis=0)

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids, 0) if self.mask_zero else None


layer = TinyLookup(12, 3, mask_zero=True)
ids = (np.random.random((4, 5)) * 11).astype("int32")
'''

MASK_FROM_VALUES_B = '''
out = layer(ids)
mask = layer.compute_mask(ids)
print(mask)
'''

# ports understanding_masking_and_padding, cell 8: a custom layer that lets the mask
# through unchanged.
PASS_THROUGH = '''
class Squash(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the time axis is untouched: the mask still holds

    def call(self, inputs):
        return ops.tanh(inputs)
'''

# ports understanding_masking_and_padding, cell 9: the mask crosses that layer on its
# way to the LSTM.
PROPAGATION_A = '''
ids = keras.Input(shape=(None,), dtype="int32")
hidden = layers.Embedding(input_dim=400, output_dim=6, mask_zero=True)(ids)
hidden = Squash()(hidden)
print("mask after Squash:", hidden._keras_mask)
model = keras.Model(ids, layers.LSTM(5)(hidden))
'''

PROPAGATION_B = '''
out = model(np.random.randint(0, 400, size=(6, 12)))
'''

# ports understanding_masking_and_padding, cell 10: a layer whose call uses the mask.
CONSUMER_A = '''
class MaskedTimeSoftmax(layers.Layer):
    """Softmax over the time axis that gives padded steps zero weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, scores, mask=None):
        assert mask is not None, "expected the embedding's mask"
        keep = ops.expand_dims(ops.cast(mask, scores.dtype), -1)
        weights = ops.exp(scores) * keep
        return weights / ops.sum(weights, axis=1, keepdims=True)


ids = keras.Input(shape=(None,), dtype="int32")
scores = layers.Dense(1)(layers.Embedding(input_dim=9, output_dim=4, mask_zero=True)(ids))
model = keras.Model(ids, MaskedTimeSoftmax()(scores))
'''

CONSUMER_B = '''
out = model(np.random.randint(0, 9, size=(5, 7)))
'''

# Sequences with padding, to compare the masked models' outputs on (cells 3 and 4 build
# their models without calling them).
PADDED = np.array([[5, 8, 0, 0], [3, 0, 0, 0], [7, 2, 9, 4]], "int32")


def check_setup(k, x):
    assert x["keras"].Model is kerax.Model and x["ops"] is kerax.ops


def check_padding(k, x):
    close(x["batch_ids"], k["batch_ids"], 0, "pad_sequences")
    assert x["batch_ids"].dtype == k["batch_ids"].dtype
    assert x["__out__"] == k["__out__"]


def check_mask_makers(k, x):
    close(x["vectors"]._keras_mask, k["vectors"]._keras_mask, 0, "Embedding mask")
    close(x["masked_features"]._keras_mask, k["masked_features"]._keras_mask, 0,
          "Masking mask")
    close(x["masked_features"], k["masked_features"], 0, "Masking output")
    assert x["vectors"].shape == k["vectors"].shape


def check_masked_model(k, x):
    xm, km = x["model"], k["model"]
    if not km.built:  # the Sequential model has no Input: built by its first call
        km(PADDED)
        xm(PADDED)
    xm.set_weights(km.get_weights())
    close(xm(PADDED), km(PADDED), 1e-5, "masked LSTM model output")
    # The padded steps are skipped: the output equals that of the unpadded sequence.
    close(xm(PADDED[1:2, :1]), xm(PADDED[1:2]), 1e-5, "mask skips padding")


def check_explicit_mask(k, x):
    assert x["_"].shape == k["_"].shape == (6, 5)
    xl, kl = x["layer"], k["layer"]
    xl.set_weights(kl.get_weights())
    close(xl(k["ids"]), kl(k["ids"]), 1e-5, "output from Keras' weights")


def check_split(k, x):
    for name in ("front", "back"):
        close(x[name], k[name], 0, name)
        close(x[name]._keras_mask, k[name]._keras_mask, 0, name + "._keras_mask")


def check_mask_from_values(k, x):
    assert x["out"].shape == k["out"].shape == (4, 5, 3)
    close(x["mask"], k["mask"], 0, "TinyLookup mask")
    x["layer"].set_weights(k["layer"].get_weights())  # built by the call: now compare
    close(x["layer"](k["ids"]), k["layer"](k["ids"]), 1e-6, "TinyLookup output")


def check_pass_through(k, x):
    assert x["Squash"]().supports_masking


def check_propagation(k, x):
    close(x["out"], k["out"], 1e-5, "model output")
    assert x["model"].layers[2].supports_masking
    assert x["__out__"].startswith("mask after Squash:")


def check_consumer(k, x):
    close(x["out"], k["out"], 1e-5, "masked softmax model output")


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(PADDING, check=check_padding),
    Cell(MASK_MAKERS, check=check_mask_makers),
    Cell(SEQUENTIAL, check=check_masked_model),
    Cell(FUNCTIONAL, check=check_masked_model),
    Cell(EXPLICIT_MASK, check=check_explicit_mask),
    Cell(SPLIT_MASK, check=check_split),
    Cell(MASK_FROM_VALUES_A, MASK_FROM_VALUES_B, check=check_mask_from_values),
    Cell(PASS_THROUGH, check=check_pass_through),
    Cell(PROPAGATION_A, Sync("model"), PROPAGATION_B, check=check_propagation),
    Cell(CONSUMER_A, Sync("model"), CONSUMER_B, check=check_consumer),
]

@pytest.fixture(scope="module")
def results(keras):
    return run_guide("understanding_masking_and_padding", CELLS, None, None, keras)


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
