"""Our port of the keras.io guide "8-bit Integer Quantization in Keras", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries.

The idioms, in the guide's order: a small functional model trained briefly with `fit`,
its float outputs, `model.quantize("int8")` in place, its int8 outputs and their mean
squared difference (cell 0); `model.save(".keras")` of the quantized model,
`keras.saving.load_model` and the reloaded model's outputs (cell 1). Cell 2 quantizes a
KerasHub Gemma preset: KerasHub is not installed and its weights are a download.

The training cell starts kerax from Keras' weights (`sync_fit`) and has one batch per
epoch, so outputs before and after quantization are compared value for value.
"""

import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

NO_HUB = ("loads the gemma3_1b preset with KerasHub: keras_hub is not installed and the "
          "preset is a download")

CELLS = [
    # ports int8_quantization_in_keras, cell 0: post-training int8 quantization in place.
    Cell('''
import os
import numpy as np
import keras
from keras import layers

draw = np.random.default_rng(21)

features = keras.Input(shape=(12,))
h = layers.Dense(24, activation="relu")(features)
estimate = layers.Dense(1, name="estimate")(h)
regressor = keras.Model(features, estimate)

# A short training run, so the weights are not just their initial values.
regressor.compile(optimizer="adam", loss="mse")
train_x = draw.random((64, 12)).astype("float32")
train_y = draw.random((64, 1)).astype("float32")
regressor.fit(train_x, train_y, epochs=2, batch_size=64, verbose=0)  # one batch an epoch

probe = draw.random((16, 12)).astype("float32")
float_out = regressor(probe)

regressor.quantize("int8")  # kernels become int8 with per-output-channel scales
int8_out = regressor(probe)

gap = keras.ops.mean(keras.ops.square(float_out - int8_out))
print("float vs int8 mean squared difference: %.6f" % float(gap))
''', exact=True, sync_fit=True, stdout=True),
    # ports int8_quantization_in_keras, cell 1: the quantized model through a .keras file.
    Cell('''
regressor.save("regressor_int8.keras")
reloaded = keras.saving.load_model("regressor_int8.keras")
reloaded_out = reloaded(probe)
drift = keras.ops.mean(keras.ops.square(int8_out - reloaded_out))
print("int8 vs reloaded int8 mean squared difference: %.6f" % float(drift))
''', exact=True, stdout=True),
    # ports int8_quantization_in_keras, cell 2: a KerasHub model quantized, saved as
    # presets and reloaded, with the file sizes compared.
    Cell('''
from keras_hub.models import Gemma3CausalLM
''', skip=NO_HUB),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "int8_quantization",
                     slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
