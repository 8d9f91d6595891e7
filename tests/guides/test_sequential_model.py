"""Our own port of the keras.io guide "The Sequential model", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. The guide draws no data.
"""

import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

CELLS = [
    # ports sequential_model, cell 0
    Cell("""
import keras
from keras import layers
from keras import ops
"""),
    # ports sequential_model, cell 1
    Cell("""
# three named Dense layers stacked, then run once on a batch of ones
stack = keras.Sequential(
    [
        layers.Dense(5, activation="relu", name="first"),
        layers.Dense(4, activation="relu", name="second"),
        layers.Dense(2, name="third"),
    ]
)
batch = ops.ones((2, 6))
out = stack(batch)
"""),
    # ports sequential_model, cell 2
    Cell("""
# the same computation written as nested layer calls
first = layers.Dense(5, activation="relu", name="first")
second = layers.Dense(4, activation="relu", name="second")
third = layers.Dense(2, name="third")
batch = ops.ones((2, 6))
out = third(second(first(batch)))
"""),
    # ports sequential_model, cell 3
    Cell("""
stack = keras.Sequential(
    [layers.Dense(5, activation="relu"), layers.Dense(4, activation="relu"), layers.Dense(2)]
)
"""),
    # ports sequential_model, cell 4
    Cell("""
stack.layers
"""),
    # ports sequential_model, cell 5
    Cell("""
stack = keras.Sequential()
for width in (5, 4):
    stack.add(layers.Dense(width, activation="relu"))
stack.add(layers.Dense(2))
"""),
    # ports sequential_model, cell 6
    Cell("""
stack.pop()
print("layers left:", len(stack.layers))
""", stdout=True),
    # ports sequential_model, cell 7
    Cell("""
stack = keras.Sequential(name="tiny_stack")
stack.add(layers.Dense(5, activation="relu", name="first"))
stack.add(layers.Dense(4, activation="relu", name="second"))
stack.add(layers.Dense(2, name="third"))
"""),
    # ports sequential_model, cell 8
    Cell("""
probe = layers.Dense(7)
probe.weights  # nothing yet: the layer is not built
"""),
    # ports sequential_model, cell 9
    Cell("""
out = probe(ops.ones((3, 5)))
probe.weights  # kernel (5, 7) and bias (7,)
"""),
    # ports sequential_model, cell 10
    Cell("""
stack = keras.Sequential(
    [layers.Dense(5, activation="relu"), layers.Dense(4, activation="relu"), layers.Dense(2)]
)
# no input shape given: weights appear only at the first call
out = stack(ops.ones((2, 3)))
print("weights after the first call:", len(stack.weights))
""", stdout=True),
    # ports sequential_model, cell 11
    Cell("""
stack.summary()
""", summary=True),
    # ports sequential_model, cell 12
    Cell("""
stack = keras.Sequential()
stack.add(keras.Input(shape=(6,)))
stack.add(layers.Dense(3, activation="relu"))
stack.summary()
""", summary=True),
    # ports sequential_model, cell 13
    Cell("""
stack.layers
"""),
    # ports sequential_model, cell 14
    Cell("""
# grow a conv stack one layer at a time, printing the summary along the way
convnet = keras.Sequential()
convnet.add(keras.Input(shape=(64, 64, 3)))
convnet.add(layers.Conv2D(8, 3, strides=2, activation="relu"))
convnet.add(layers.Conv2D(8, 3, activation="relu"))
convnet.add(layers.MaxPooling2D(2))
convnet.summary()

convnet.add(layers.Conv2D(8, 3, activation="relu"))
convnet.add(layers.MaxPooling2D(2))
convnet.summary()

convnet.add(layers.GlobalMaxPooling2D())
convnet.add(layers.Dense(4))
""", summary=True),
    # ports sequential_model, cell 15
    Cell("""
base = keras.Sequential(
    [
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.Conv2D(4, 3, activation="relu"),
        layers.Conv2D(4, 3, activation="relu"),
    ]
)
# every layer's output, from the Sequential model's own inputs
taps = keras.Model(inputs=base.inputs, outputs=[l.output for l in base.layers])
maps = taps(ops.ones((1, 32, 32, 3)))
"""),
    # ports sequential_model, cell 16
    Cell("""
base = keras.Sequential(
    [
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.Conv2D(4, 3, activation="relu", name="middle"),
        layers.Conv2D(4, 3, activation="relu"),
    ]
)
tap = keras.Model(inputs=base.inputs, outputs=base.get_layer(name="middle").output)
maps = tap(ops.ones((1, 32, 32, 3)))
"""),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "sequential_model", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
