"""`kerax.utils.model_to_dot` / `plot_model`: the same graph as Keras 3 (nodes and their
labels, edges, clusters of nested models, graph attributes) for Sequential, branching
Functional, nested and subclassed models and every argument; `.dot` files need nothing
installed; an image without Graphviz raises an ImportError that says how to install it."""

import shutil

import numpy as np
import pytest

import kerax
from kerax.utils import model_visualization as mv
from tests.models.test_summary_arguments import _branches, _seq  # the same models


def _nested(lib):
    inner_x = lib.Input((6,), name="ix")
    inner = lib.Model(inner_x, lib.layers.Dense(5, name="id")(inner_x), name="inner")
    base = lib.Sequential([lib.Input((8,)), lib.layers.Dense(6, name="bd1"), inner,
                           lib.layers.BatchNormalization(name="bbn")], name="base")
    base.trainable = False
    x = lib.Input((8,), name="x")
    return lib.Model(x, lib.layers.Dense(4, name="head")(base(x)), name="nested")


def _subclassed(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d1 = lib.layers.Dense(4, name="d1")

        def call(self, x):
            return self.d1(x)

    model = Net()
    model(np.ones((2, 8), "float32"))
    return model


def _strip(s):
    s = str(s)
    return s[1:-1] if s.startswith('"') and s.endswith('"') else s


def _attrs(obj):
    return tuple(sorted((k, _strip(v)) for k, v in obj.get_attributes().items() if k != "label"))


def _collect(graph, out, depth=0):
    for n in graph.get_nodes():
        if _strip(n.get_name()) in ("node", "edge", "graph"):
            out["defaults"].append((depth, _attrs(n)))
            continue
        out["nodes"][_strip(n.get_name())] = (_strip(n.get("label")), depth, _attrs(n))
    out["edges"] += [(_strip(e.get_source()), _strip(e.get_destination()), _attrs(e))
                     for e in graph.get_edges()]
    for sub in graph.get_subgraphs():
        out["clusters"].append((depth, _attrs(sub)))
        _collect(sub, out, depth + 1)
    return out


def _graph(dot):
    """The graph with node ids (Python `id`s) replaced by their labels."""
    out = _collect(dot, {"nodes": {}, "edges": [], "clusters": [], "defaults": []})
    label = {k: v[0] for k, v in out["nodes"].items()}
    return {"nodes": sorted(out["nodes"].values()), "clusters": sorted(out["clusters"]),
            "edges": sorted((label[s], label[d], a) for s, d, a in out["edges"]),
            "attrs": _attrs(dot), "defaults": out["defaults"]}


KWARGS = [{}, {"show_shapes": True}, {"show_dtype": True, "show_layer_activations": True},
          {"show_trainable": True, "show_layer_names": False},
          {"expand_nested": True, "show_shapes": True, "show_trainable": True},
          {"rankdir": "LR", "dpi": 96, "splines": "line"}]


@pytest.mark.parametrize("build", [_seq, _branches, _nested, _subclassed])
def test_same_graph_as_keras(keras, build):
    pytest.importorskip("pydot")  # Keras' model_to_dot needs it
    ours, theirs = build(kerax), build(keras)
    for kw in KWARGS:
        assert _graph(mv.model_to_dot(ours, **kw)) == _graph(
            keras.utils.model_to_dot(theirs, **kw)), kw


def test_the_graph_without_pydot_or_graphviz(monkeypatch, tmp_path):
    monkeypatch.setattr(mv.shutil, "which", lambda name: None)  # no Graphviz
    dot = mv._build(_nested(kerax), {"show_layer_names": True, "show_layer_activations": False,
                                     "show_dtype": False, "show_shapes": True,
                                     "show_trainable": False},
                    "TB", True, 200, False, "ortho")
    text = dot.to_string()
    assert text.startswith("digraph \"G\" {\nrankdir=\"TB\";")
    assert 'subgraph "cluster_base" {' in text and 'subgraph "cluster_inner" {' in text
    assert "<b>id</b> (Dense)" in text and "Input shape: <b>(None, 6)</b>" in text
    assert len(dot.all_edges()) == 5  # x -> bd1 -> ix (inner's input) -> id -> bbn -> head
    path = tmp_path / "m.dot"
    assert kerax.utils.plot_model(_nested(kerax), to_file=path, expand_nested=True) is None
    assert path.read_text().startswith("digraph")
    with pytest.raises(ImportError, match=r"cannot write '.*m\.png'.*Install Graphviz.*\.dot"):
        kerax.utils.plot_model(_seq(kerax), to_file=tmp_path / "m.png")
    with pytest.raises(ImportError, match="Install Graphviz"):
        dot.create(format="svg")


def test_a_notebook_without_graphviz_gets_the_hint_printed(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(mv.shutil, "which", lambda name: None)
    monkeypatch.setattr(mv, "_in_notebook", lambda: True)
    assert kerax.utils.plot_model(_seq(kerax), to_file=tmp_path / "m.png") is None
    assert "Install Graphviz" in capsys.readouterr().out


def test_unbuilt_model_and_unknown_arguments():
    with pytest.raises(ValueError, match="has not yet been built"):
        kerax.utils.plot_model(kerax.Sequential([kerax.layers.Dense(1)]), to_file="m.dot")
    with pytest.raises(ValueError, match="layer_range` is no longer supported"):
        kerax.utils.model_to_dot(_seq(kerax), layer_range=("d1", "d2"))
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        kerax.utils.model_to_dot(_seq(kerax), colour=True)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_images_with_graphviz(tmp_path):
    for ext in ("png", "svg", "pdf"):
        path = tmp_path / f"m.{ext}"
        kerax.utils.plot_model(_branches(kerax), to_file=path, show_shapes=True)
        assert path.stat().st_size > 0
