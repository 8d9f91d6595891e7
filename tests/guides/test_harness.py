"""The guide harness itself: it must see the differences it is there to see."""

import numpy as np
import pytest

import kerax
from tests.guides.harness import Cell, GuideRun, compare


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
    assert run.ns[1]["keras"] is kerax
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
