"""`model.summary()` text equal to Keras 3's for every argument (`line_length`,
`positions`, `expand_nested`, `show_trainable`, `layer_range`), for Sequential, branching
Functional and nested models, before and after `fit` with Adam; `print_fn` is called once
with the whole text, as Keras calls it; in a Jupyter kernel an HTML table is displayed."""

import sys
import types

import numpy as np
import pytest

import kerax


def _seq(lib):
    return lib.Sequential([lib.Input((8,)), lib.layers.Dense(16, activation="relu", name="d1"),
                           lib.layers.Dropout(0.1, name="drop"), lib.layers.Dense(4, name="d2")],
                          name="seq")


def _branches(lib):
    x = lib.Input((8,), name="x")
    a, b = lib.layers.Dense(6, name="a")(x), lib.layers.Dense(5, name="b")(x)
    c = lib.layers.BatchNormalization(name="bn")(lib.layers.Concatenate(name="cat")([a, b]))
    return lib.Model(x, lib.layers.Dense(4, name="out")(c), name="branchy")


def _nested(lib):
    base = lib.Sequential([lib.Input((8,)), lib.layers.Dense(6, name="bd1"),
                           lib.layers.BatchNormalization(name="bbn"),
                           lib.layers.Dense(5, name="bd2")], name="base")
    base.trainable = False
    x = lib.Input((8,), name="x")
    return lib.Model(x, lib.layers.Dense(4, name="head")(base(x)), name="nested")


ARGS = [{}, {"line_length": 100}, {"line_length": 60}, {"show_trainable": True},
        {"expand_nested": True, "show_trainable": True}, {"positions": [0.5, 0.7, 1.0]},
        {"positions": [40, 60, 75]}, {"layer_range": ("d1", "d2")},
        {"layer_range": ("a", "bn")}, {"layer_range": ("x", "head")}]


def _texts(model):
    out = []
    for kw in ARGS:
        calls = []
        try:
            model.summary(print_fn=lambda *a, **k: calls.append((a, k)), **kw)
        except (ValueError, IndexError) as e:  # Keras: IndexError for too few positions
            calls = "error: " + ("layer_range" if "layer" in str(e) else "positions")
        out.append(calls)
    return out


@pytest.mark.parametrize("build", [_seq, _branches, _nested])
@pytest.mark.parametrize("fit", [False, True])
def test_summary_text_as_keras(keras, monkeypatch, build, fit):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for lib in (kerax, keras):
        model = build(lib)
        if fit:
            model.compile(lib.optimizers.Adam(), "mse")
            model.fit(np.ones((4, 8), "float32"), np.ones((4, 4), "float32"), verbose=0)
        texts.append(_texts(model))
    for kw, ours, theirs in zip(ARGS, *texts):
        assert ours == theirs, kw
    if fit:  # Adam: Keras counts 2 variables per weight plus iterations and learning_rate
        assert "Optimizer params:" in texts[0][0][0][0][0]


def test_print_fn_gets_the_whole_text_once():
    calls = []
    _seq(kerax).summary(print_fn=lambda *a, **k: calls.append((a, k)))
    assert len(calls) == 1 and calls[0][1] == {}
    text = calls[0][0][0]
    assert text.startswith('Model: "seq"\n┏') and text.endswith("(0.00 B)\n")


def test_lines_are_cropped_to_the_console_as_in_keras(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    texts = []
    for lib in (kerax, keras):
        calls = []
        _branches(lib).summary(line_length=90, print_fn=calls.append)
        texts.append(calls[0])
    assert texts[0] == texts[1]
    assert max(len(line) for line in texts[0].splitlines()) == 50


@pytest.mark.parametrize("kw, match", [
    ({"layer_range": ("d1",)}, "layer_range must be a list or tuple of length 2"),
    ({"layer_range": ("d1", 3)}, "layer_range should contain string type only"),
    ({"layer_range": ("zz", "d2")}, "do not match the layer names"),
    ({"line_length": 10}, "Insufficient console width"),
    ({"positions": [0.5, 1.0]}, r"must give the end of each of the 3 columns.*received 2"),
])
def test_bad_arguments_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        _seq(kerax).summary(print_fn=lambda s: None, **kw)


def test_unbuilt_sequential_as_keras(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for lib in (kerax, keras):
        calls = []
        lib.Sequential([lib.layers.Dense(3, name="d")], name="u").summary(print_fn=calls.append)
        texts.append(calls[0])
    assert texts[0] == texts[1]
    assert "0 (unbuilt)" in texts[0]


def test_a_notebook_displays_an_html_table(monkeypatch):
    shown = []
    shell = types.SimpleNamespace(kernel=object())
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    fake.display = types.SimpleNamespace(display=shown.append)
    monkeypatch.setitem(sys.modules, "IPython", fake)
    _branches(kerax).summary()
    (obj,) = shown
    html = obj._repr_html_()
    assert "<table" in html and "<th" in html and "Connected to" in html
    assert "cat (Concatenate)" in html and "a[0][0], b[0][0]" in html
    assert "Total params: 191" in html
    assert repr(obj).startswith('Model: "branchy"\n┏')  # the text, for plain front ends


def _nested_two_outputs(lib):
    ix = lib.Input((6,), name="ix")
    inner = lib.Model(ix, [lib.layers.Dense(2, name="p")(ix), lib.layers.Dense(3, name="q")(ix)],
                      name="inner")
    x = lib.Input((6,), name="x")
    p, q = inner(x)
    y = lib.layers.Concatenate(name="cat")([p, q, lib.layers.Dense(1, name="r")(x)])
    return lib.Model(x, {"out": lib.layers.Dense(1, name="o")(y), "aux": q}, name="outer")


def _lstm_states(lib):
    x = lib.Input((5, 3), name="x")
    return lib.Model(x, lib.layers.LSTM(4, return_sequences=True, return_state=True,
                                        name="lstm")(x), name="rnn")


def _sequential_in_sequential(lib):
    inner = lib.Sequential([lib.layers.Dense(3, name="i1"), lib.layers.Dense(2, name="i2")],
                           name="inner")
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(4, name="o1"), inner], name="outer")


@pytest.mark.parametrize("build", [_nested_two_outputs, _lstm_states, _sequential_in_sequential])
def test_several_outputs_and_nested_models_as_keras(keras, monkeypatch, build):
    """Several outputs show as the list of the node's tensors; "Connected to" gives the
    layer's own node index (a nested model's call is its node 0, as in Keras); the layers
    of a nested Sequential without an Input show a None batch, as in Keras."""
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for lib in (kerax, keras):
        calls = []
        build(lib).summary(print_fn=calls.append, expand_nested=True, show_trainable=True)
        texts.append(calls[0])
    assert texts[0] == texts[1]
