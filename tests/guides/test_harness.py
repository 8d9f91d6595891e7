"""The guide harness itself: it must see the differences it is there to see."""

import numpy as np
import pytest

import kerax
from tests.guides.harness import Cell, GuideRun, StandIn, Sync, assert_cell, compare, run_guide


def test_compare_sees_values_shapes_dtypes_and_history_keys():
    assert compare(np.ones(2), np.ones(2), True, "x") == []
    assert compare(np.ones(2), np.zeros(2), True, "x")
    assert compare(np.ones(2), np.zeros(2), False, "x") == []  # structure only
    assert compare(np.ones(2), np.ones(3), False, "x")
    assert compare(np.ones(2, "float32"), np.ones(2, "int32"), False, "x")
    assert compare({"loss": [1.0]}, {"loss": [1.0], "acc": [0.5]}, False, "h")
    assert compare({"name": "dense_3"}, {"name": "dense_9"}, True, "c") == []
    assert compare([1, 2], [1], False, "l")


def test_a_cell_runs_on_kerax_with_import_keras_bound_to_kerax(keras, tmp_path_factory):
    cells = [Cell("import keras\nlib = keras.__name__\nx = keras.ops.ones((2, 3))", exact=True,
                  ignore=("lib",))]
    run = GuideRun(cells, tmp_path_factory, "harness")
    assert run.outcome(0) == "ok"
    assert run.ns[0]["lib"] == "keras" and run.ns[1]["lib"] == "kerax"
    assert run.ns[1]["keras"].Model is kerax.Model and run.ns[1]["keras"].ops is kerax.ops
    run.close()


def test_a_difference_fails_the_cell(keras, tmp_path_factory):
    cells = [Cell("import keras\nv = keras.__name__")]
    run = GuideRun(cells, tmp_path_factory, "harness_diff")
    assert run.outcome(0) == "v: 'kerax' != keras 'keras'"
    run.close()


def test_sync_fit_starts_kerax_from_keras_weights(keras, tmp_path_factory):
    cells = [Cell("""
import numpy as np
import keras
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")
history = model.fit(np.ones((4, 3)), np.zeros((4, 2)), batch_size=4, epochs=2, verbose=0)
""", exact=True, sync_fit=True)]
    run = GuideRun(cells, tmp_path_factory, "harness_sync")
    assert run.outcome(0) == "ok"
    np.testing.assert_allclose(run.ns[1]["model"].get_weights()[0],
                               run.ns[0]["model"].get_weights()[0], rtol=1e-5)
    run.close()


def test_a_guide_run_cell_keras_on_jax_cannot_run_must_run_on_kerax(keras, tmp_path_factory):
    src = "import keras\nif keras.__name__ == 'keras': raise ValueError('old jax')\nv = 2"

    def is_two(x):
        assert x["v"] == 2, x["v"]

    def is_three(x):
        assert x["v"] == 3, x["v"]

    cells = [Cell(src, keras_fails="old jax", kerax_check=is_two),
             Cell(src, keras_fails="old jax", kerax_check=is_three),
             Cell("import keras\nraise ValueError('old jax')", keras_fails="old jax"),
             Cell("v = 1", keras_fails="old jax")]
    run = GuideRun(cells, tmp_path_factory, "harness_keras_fails")
    assert run.outcome(0) == "ok"
    assert run.outcome(1).startswith("kerax ran the cell, but its check failed: 2")
    assert run.outcome(2).startswith("kerax raised ValueError: old jax")
    assert run.outcome(3) == "Keras ran the cell; the test expected 'old jax'"
    run.close()


@pytest.mark.parametrize("source", ["raise ValueError('boom')"])
def test_a_cell_failing_on_keras_is_reported(keras, tmp_path_factory, source):
    run = GuideRun([Cell(source)], tmp_path_factory, "harness_raise")
    assert run.outcome(0).startswith("the cell failed on Keras itself: ValueError: boom")
    run.close()


def test_printed_numbers_match_to_one_unit_in_the_last_decimal():
    from tests.guides.harness import _compare_printed

    assert _compare_printed("loss is    4.53.\n", "loss is    4.54.\n") == []
    assert _compare_printed("loss is    4.53.\n", "loss is    4.56.\n")
    assert _compare_printed("keys: ['outputs']\n", "keys: []\n")
    assert _compare_printed("a\nb\n", "a\n")


def test_summaries_compare_headers_rows_and_parameter_counts_not_names():
    from tests.guides.harness import _compare_printed, _summaries

    def table(name, header, params="50"):
        return (f'Model: "m"\n┏━┓\n┃ {header} ┃\n┡━┩\n│ {name} (Dense) │ 10 │\n├─┤\n'
                f"│ x │ 1 │\n└─┘\n Total params: {params} (200 B)\n")

    same = _summaries(table("dense", "Layer (type) ┃ Param #"))
    assert same == _summaries(table("dense_7", "Layer (type) ┃ Param #"))
    assert "(2 rows)" in same
    assert _compare_printed(same, _summaries(table("dense", "Layer (type) ┃ Param # ┃ To")))
    assert _compare_printed(same, _summaries(table("dense", "Layer (type) ┃ Param #", "51")))


# ---------------------------------------------------- run_guide: parts and checks --
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
