"""`plot_model` and `model_to_dot`: Keras 3's graph of a model, in Graphviz's DOT language.

The graph (nodes, their HTML labels, edges, clusters for nested models) is Keras'. The DOT
text is written here, so `.dot` files need nothing installed; images (`.png`, `.svg`,
`.pdf`, ...) are drawn by Graphviz's `dot` program. `model_to_dot` returns a `pydot.Dot`
when pydot is installed (as Keras), else a small `DotGraph` with the same text.

Models are told apart by class name (`Sequential`, `Functional` in the class's bases), as
Keras tells them apart with `isinstance`: `kerax.utils` sits below `kerax.models`.
"""

import os
import shutil
import subprocess

from kerax import tree
from kerax.utils.progbar import in_notebook as _in_notebook

_INSTALL_HINT = (
    "Graphviz's `dot` program draws the image and is not installed. Install Graphviz "
    "(`apt install graphviz`, `brew install graphviz` or `conda install graphviz`; see "
    "https://graphviz.org/download/), or write the graph as text with "
    "`to_file='model.dot'` and render it elsewhere."
)


def _is(model, name):
    return any(c.__name__ == name for c in type(model).__mro__)


class DotGraph:
    """A DOT graph: attributes, nodes, edges and `subgraph=True` clusters (nested models).

    Example:
    >>> g = DotGraph(graph_name="G")
    >>> g.add_node("a", label="A")
    >>> g.add_edge("a", "a")
    >>> print(g.to_string())
    digraph "G" {
    "a" [label="A"];
    "a" -> "a";
    }
    """

    def __init__(self, graph_name="G", cluster=False, **attrs):
        self.graph_name, self.cluster, self.attrs = graph_name, cluster, dict(attrs)
        self.node_defaults, self.nodes, self.edges, self.subgraphs = {}, [], [], []

    def set(self, name, value):
        self.attrs[name] = value

    def add_node(self, name, **attrs):
        self.nodes.append((name, attrs))

    def add_edge(self, src, dst, **attrs):
        if not any(e[:2] == (src, dst) for e in self.edges):
            self.edges.append((src, dst, attrs))

    def add_subgraph(self, graph):
        self.subgraphs.append(graph)

    def all_edges(self):
        """Every `(src, dst)` edge, those inside clusters included."""
        return [e[:2] for e in self.edges] + [e for g in self.subgraphs for e in g.all_edges()]

    def to_string(self):
        """The graph in the DOT language."""
        head = (f"subgraph {_quote('cluster_' + self.graph_name)} {{" if self.cluster
                else f"digraph {_quote(self.graph_name)} {{")
        lines = [head] + [f"{k}={_value(v)};" for k, v in self.attrs.items()]
        if self.node_defaults:
            lines.append(f"node [{_attrs(self.node_defaults)}];")
        lines += [f"{_quote(n)} [{_attrs(a)}];" if a else f"{_quote(n)};"
                  for n, a in self.nodes]
        lines += [g.to_string() for g in self.subgraphs]
        lines += [f"{_quote(s)} -> {_quote(d)}" + (f" [{_attrs(a)}];" if a else ";")
                  for s, d, a in self.edges]
        return "\n".join(lines + ["}"])

    def create(self, prog="dot", format="png"):
        """The rendered image's bytes (needs Graphviz's `dot`)."""
        if format in ("dot", "raw", "gv"):
            return self.to_string().encode()
        exe = shutil.which(prog)
        if exe is None:
            raise ImportError(_INSTALL_HINT)
        return subprocess.run([exe, f"-T{format}"], input=self.to_string().encode(),
                              capture_output=True, check=True).stdout

    def write(self, path, prog="dot", format="raw"):
        """Writes the DOT text (`format="raw"`/"dot") or an image rendered by Graphviz."""
        with open(path, "wb") as f:
            f.write(self.create(prog=prog, format=format))


def _quote(s):
    return '"' + str(s).replace('"', '\\"') + '"'


def _value(v):
    v = str(v)
    if v.startswith("<") and v.endswith(">"):  # an HTML-like label
        return v
    return _quote(v)


def _attrs(attrs):
    return ", ".join(f"{k}={_value(v)}" for k, v in attrs.items())


# ------------------------------------------------------------------ the graph --
def _activation_name(layer):
    act = layer.activation
    if hasattr(act, "name"):
        return act.name
    if hasattr(act, "__name__"):
        return act.__name__
    return str(act)


def _shape_text(shape):
    if shape is None:
        return "?"
    text = ", ".join(f"{k}: {v}" for k, v in shape.items()) if isinstance(shape, dict) \
        else f"{shape}"
    return text.replace("}", "").replace("{", "")


def _make_label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes,
                show_trainable):
    """Keras' HTML-like label of a layer's box (`make_layer_label`)."""
    class_name = type(layer).__name__
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black">'
             f'<font point-size="16" color="white">{title}</font></td></tr>')
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{_activation_name(layer)}</b></font></td></tr>")
    cell = '<td bgcolor="white"><font point-size="14">{}</font></td>'
    cols = []
    if show_shapes:
        input_shape = output_shape = None
        try:
            input_shape = tree.map_structure(lambda x: x.shape, layer.input)
            output_shape = tree.map_structure(lambda x: x.shape, layer.output)
        except (ValueError, AttributeError):
            pass
        if class_name != "InputLayer":
            cols.append(cell.format(f"Input shape: <b>{_shape_text(input_shape)}</b>"))
        cols.append(cell.format(f"Output shape: <b>{_shape_text(output_shape)}</b>"))
    if show_dtype:
        dtype = None
        try:
            dtype = tree.map_structure(lambda x: x.dtype, layer.output)
        except (ValueError, AttributeError):
            pass
        cols.append(cell.format(f"Output dtype: <b>{dtype or '?'}</b>"))
    if show_trainable and _has_weights(layer):
        color, text = ("forestgreen", "Trainable") if layer.trainable else \
            ("firebrick", "Non-trainable")
        cols.append(f'<td bgcolor="{color}"><font point-size="14" color="white">'
                    f"<b>{text}</b></font></td>")
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _has_weights(layer):
    try:
        return bool(layer.weights)
    except (ValueError, AttributeError):
        return False


def _edges(model):
    """`(source layer, destination layer, output index, input index)` of the graph."""
    if _is(model, "Sequential"):
        layers = model.layers
        return [(a, b, 0, 0) for a, b in zip(layers, layers[1:])]
    out = []
    for node in model._nodes:
        for input_index, t in enumerate(tree.flatten((node.args, node.kwargs))):
            history = getattr(t, "_keras_history", None)
            if history is not None:
                out.append((history[0], node.layer, history[2], input_index))
    return out


def _is_model(layer):
    return _is(layer, "Functional") or _is(layer, "Sequential")


def _build(model, labels, rankdir, expand_nested, dpi, subgraph, splines):
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    if subgraph:
        dot = DotGraph(model.name, cluster=True, style="dashed", label=model.name,
                       labeljust="l")
    else:
        dot = DotGraph("G", rankdir=rankdir, concentrate="True", dpi=dpi, splines=splines)
        dot.node_defaults = {"shape": "record"}
    node_attrs = {"fontname": "Helvetica", "border": "0", "margin": "0"}
    if not _is_model(model):  # a subclassed model is one box
        dot.add_node(str(id(model)), label=_make_label(model, **labels), **node_attrs)
        return dot
    layers = model.layers if _is(model, "Sequential") else model._graph_layers
    for layer in layers:
        if expand_nested and _is_model(layer):
            dot.add_subgraph(_build(layer, labels, rankdir, expand_nested, dpi, True, splines))
        else:
            dot.add_node(str(id(layer)), label=_make_label(layer, **labels), **node_attrs)
    for source, destination, output_index, input_index in _edges(model):
        if expand_nested:
            while _is_model(source):  # the box inside the model that makes the output
                source, _, output_index = source.outputs[output_index]._keras_history
            while _is_model(destination):
                if _is(destination, "Functional"):
                    destination = destination.inputs[input_index]._keras_history[0]
                else:
                    destination = destination.layers[0]
        dot.add_edge(str(id(source)), str(id(destination)), penwidth="2")
    return dot


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The model's graph as Keras draws it, in the DOT language.

    Args:
        model: a built model.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: show layer names (else only class names).
        rankdir: "TB" (vertical) or "LR" (horizontal).
        expand_nested: draw nested Sequential/Functional models as clusters.
        dpi: image resolution.
        subgraph: return a cluster (used for nested models).
        show_layer_activations: show the `activation` of layers that have one.
        show_trainable: mark layers with weights "Trainable" or "Non-trainable".
        splines: how edges are drawn ("ortho", "curved", "polyline", "spline", "line").

    Returns:
        A `pydot.Dot` when pydot is installed (as in Keras), else a `DotGraph`; both have
        `to_string()`, `create(format=...)` and `write(path, format=...)`.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, name="d")])
    >>> "(Dense)" in model_to_dot(m).to_string()
    True
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    labels = {"show_layer_names": show_layer_names,
              "show_layer_activations": show_layer_activations,
              "show_dtype": show_dtype, "show_shapes": show_shapes,
              "show_trainable": show_trainable}
    dot = _build(model, labels, rankdir, expand_nested, dpi, subgraph, splines)
    if subgraph:
        return dot
    try:
        import pydot  # noqa: PLC0415 (optional; kerax works without it)
    except ImportError:
        return dot
    return pydot.graph_from_dot_data(dot.to_string())[0]


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws the model's graph (Keras' `plot_model`) into `to_file`.

    A `.dot` (or `.gv`) file is the graph's text and needs nothing installed; other
    extensions (`.png`, `.svg`, `.pdf`, ...) are drawn by Graphviz's `dot` program.
    Arguments as `model_to_dot`.

    Returns:
        An `IPython.display` image (shown inline in a notebook) when IPython is installed
        and the file is an image, else None.

    Raises:
        ImportError: an image was asked for and Graphviz is not installed (the message
            says how to install it, or to write a `.dot` file). In a notebook the message
            is printed instead, as Keras does.

    Example:
    >>> import kerax, os, tempfile
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.dot")
    >>> plot_model(m, to_file=path, show_shapes=True)
    >>> open(path).read().startswith("digraph")
    True
    """
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    text_only = extension in ("dot", "gv")
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    if not text_only and shutil.which("dot") is None:
        message = f"`plot_model` cannot write {to_file!r}: {_INSTALL_HINT}"
        if _in_notebook():  # as Keras: a notebook goes on without the picture
            print(message)
            return None
        raise ImportError(message)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    text = dot.to_string()
    if text_only:
        with open(to_file, "w") as f:
            f.write(text + "\n")
        return None
    with open(to_file, "wb") as f:
        f.write(subprocess.run([shutil.which("dot"), f"-T{extension}"], input=text.encode(),
                               capture_output=True, check=True).stdout)
    if extension == "pdf":
        return None
    try:
        from IPython import display  # noqa: PLC0415 (optional)
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=to_file)
    return display.Image(filename=to_file)
