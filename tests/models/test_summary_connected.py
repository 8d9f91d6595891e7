"""`model.summary()` of functional models vs Keras 3: the "Connected to" column appears
exactly when Keras shows it (keras/src/utils/summary_utils.py `sequential_like`: one node
with one input tensor at each depth, no layer called twice). Layers are named explicitly
because auto-generated names differ between the libraries."""

import pytest

import kerax


def _chain(lib):
    x = lib.Input((4,), name="x")
    return lib.Model(x, lib.layers.Dense(2, name="d2")(lib.layers.Dense(3, name="d1")(x)),
                     name="m")


def _branch(lib):
    x = lib.Input((4,), name="x")
    a, b = lib.layers.Dense(3, name="a")(x), lib.layers.Dense(3, name="b")(x)
    return lib.Model(x, lib.layers.Add(name="add")([a, b]), name="m")


def _shared(lib):
    x = lib.Input((4,), name="x")
    d = lib.layers.Dense(4, name="d")
    return lib.Model(x, d(d(x)), name="m")


def _multi_input(lib):
    x, y = lib.Input((4,), name="x"), lib.Input((2,), name="y")
    c = lib.layers.Concatenate(name="cat")([x, y])
    return lib.Model([x, y], lib.layers.Dense(1, name="out")(c), name="m")


def _two_outputs(lib):
    x = lib.Input((4,), name="x")
    return lib.Model(x, [lib.layers.Dense(1, name="p")(x), lib.layers.Dense(2, name="q")(x)],
                     name="m")


def _nested_base(lib):
    base = lib.Sequential([lib.Input((3,)), lib.layers.BatchNormalization(name="bn"),
                           lib.layers.Dense(2, name="bd")], name="base")
    x = lib.Input((3,), name="x")
    h = base(x, training=False)
    return lib.Model(x, lib.layers.Dense(1, name="head")(lib.layers.Dropout(0.2, name="dr")(h)),
                     name="m")


def _self_add(lib):
    x = lib.Input((4,), name="x")
    h = lib.layers.Dense(4, name="d")(x)
    return lib.Model(x, lib.layers.Add(name="add")([h, h]), name="m")


def _table(model):
    lines = []
    model.summary(print_fn=lambda s, **kw: lines.extend(str(s).splitlines()))
    rows = [[c.strip() for c in l.strip()[1:-1].replace("┃", "│").split("│")]
            for l in lines if l.strip()[:1] in ("┃", "│")]
    totals = [l.strip() for l in lines if "params:" in l]
    return rows, totals


@pytest.mark.parametrize("build, connected", [
    (_chain, False), (_branch, True), (_shared, True), (_multi_input, True),
    (_two_outputs, True), (_nested_base, False), (_self_add, True)])
def test_summary_table_as_keras(keras, build, connected):
    ours, our_totals = _table(build(kerax))
    theirs, their_totals = _table(build(keras))
    assert ours == theirs
    assert our_totals == their_totals
    header = ["Layer (type)", "Output Shape", "Param #"]
    assert ours[0] == header + (["Connected to"] if connected else [])


@pytest.mark.parametrize("build", [_chain, _branch, _multi_input])
def test_summary_lines_as_keras_in_an_80_column_console(keras, monkeypatch, build):
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table to the console
    printed = []
    for lib in (kerax, keras):
        lines = []
        build(lib).summary(print_fn=lambda s, **kw: lines.extend(str(s).splitlines()))
        printed.append([l.rstrip() for l in lines if l.strip()])
    assert printed[0] == printed[1]
