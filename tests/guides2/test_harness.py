"""The guide harness itself: what a cell sees, and when a cell passes or fails."""

import numpy as np
import pytest

import kerax

from .harness import Cell, StandIn, Sync, assert_cell, run_guide

MODEL = '''
import keras
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
'''


def _run(cells, keras):
    return run_guide("harness_test", cells, None, None, keras)


def test_imports_give_the_library_under_test_and_the_stand_ins(keras):
    seen = {}

    def check(k, x):
        seen.update(k=k, x=x)

    cells = [Cell('''
import keras
import keras_core
from keras import ops
import tensorflow as tf
import matplotlib.pyplot as plt
from tensorflow import data as tf_data
np_data = tf.data.Dataset.from_tensor_slices((np.arange(4), np.arange(4))).batch(2)
first = next(iter(np_data))[0].numpy()
plt.imshow(np.zeros((2, 2, 3)))
''', check=check)]
    results = _run([Cell("import numpy as np")] + cells, keras)
    assert_cell(results, [Cell("")] + cells, 1)
    assert seen["k"]["keras"].Model is keras.Model and seen["x"]["keras"].Model is kerax.Model
    assert seen["x"]["keras_core"].Model is kerax.Model and seen["x"]["ops"] is kerax.ops
    assert seen["x"]["tf_data"].AUTOTUNE == -1
    np.testing.assert_array_equal(seen["x"]["first"], [0, 1])


def test_sync_copies_keras_weights_and_last_expression_is_kept(keras):
    cells = [Cell(MODEL, Sync("model"), "model(np.ones((1, 3), 'float32'))",
                  check=lambda k, x: np.testing.assert_allclose(x["_"], k["_"], rtol=1e-6))]
    results = _run([Cell("import numpy as np")] + cells, keras)
    assert_cell(results, [Cell("")] + cells, 1)


def test_a_check_that_fails_fails_the_cell(keras):
    def check(k, x):
        raise AssertionError("values differ")

    cells = [Cell(MODEL, check=check)]
    with pytest.raises(AssertionError, match="differs from Keras: AssertionError: values differ"):
        assert_cell(_run(cells, keras), cells, 0)


def test_a_kerax_error_fails_the_cell_and_later_cells_still_run(keras):
    cells = [Cell("import keras\nif keras.__name__ == 'kerax': raise ValueError('only kerax')"),
             Cell("y = 1", check=lambda k, x: None)]
    results = _run(cells, keras)
    with pytest.raises(AssertionError, match="kerax: ValueError: only kerax"):
        assert_cell(results, cells, 0)
    assert_cell(results, cells, 1)


def test_a_cell_that_fails_on_keras_itself(keras):
    both = Cell("import keras\nraise ValueError('broken upstream')", keras_fails="broken upstream")
    only_keras = Cell("import keras\nif keras.__name__ == 'keras': raise ValueError('old jax')",
                      keras_fails="old jax", kerax_check=lambda x: None)
    kerax_wrong = Cell("import keras\nif keras.__name__ == 'keras': raise ValueError('old jax')",
                       keras_fails="old jax", kerax_check=lambda x: 1 / 0)
    kerax_earlier = Cell("import keras\nif keras.__name__ == 'kerax': raise ValueError('x')\n"
                         "raise ValueError('broken upstream')", keras_fails="broken upstream")
    cells = [both, only_keras, kerax_wrong, kerax_earlier]
    results = _run(cells, keras)
    assert_cell(results, cells, 0)  # the same failure at the same statement
    assert_cell(results, cells, 1)  # kerax runs what Keras cannot, and its check passes
    with pytest.raises(AssertionError, match="kerax runs it but its result is wrong"):
        assert_cell(results, cells, 2)
    with pytest.raises(AssertionError, match="Keras fails later or elsewhere"):
        assert_cell(results, cells, 3)
    unexpected = [Cell("raise ValueError('nope')")]
    with pytest.raises(AssertionError, match="fails on Keras itself"):
        assert_cell(_run(unexpected, keras), unexpected, 0)


def test_a_stand_in_replaces_a_statement(keras):
    def stand_in(ns):
        ns["weights"] = "pretrained"

    cells = [Cell(StandIn("weights = download()", stand_in), "w = weights",
                  check=lambda k, x: x["w"] == k["w"] == "pretrained" or 1 / 0)]
    assert_cell(_run(cells, keras), cells, 0)


def test_a_keras_reference_replaces_a_part_keras_cannot_run(keras):
    source = "import keras\nif keras.__name__ == 'keras': raise ValueError('old jax')\nv = 3"
    ok = Cell(source, keras_fails="old jax",
              keras_reference={0: "v = 3"}, check=lambda k, x: k["v"] == x["v"] or 1 / 0)
    wrong = Cell(source, keras_fails="old jax",
                 keras_reference={0: "v = 4"}, check=lambda k, x: k["v"] == x["v"] or 1 / 0)
    runs = Cell("v = 3", keras_fails="old jax", keras_reference={0: "v = 3"})
    cells = [ok, wrong, runs]
    results = _run(cells, keras)
    assert_cell(results, cells, 0)
    with pytest.raises(AssertionError, match="differs from Keras"):
        assert_cell(results, cells, 1)
    with pytest.raises(AssertionError, match="expected the cell's text to fail on Keras"):
        assert_cell(results, cells, 2)
