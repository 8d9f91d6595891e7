"""Keras' `model.summary()`: the same text as Keras 3, which draws its table with `rich`.

The table layout (column widths from `positions`, rich's width reduction, word wrapping
with an ellipsis, header cells aligned to the bottom, lines cropped to the console) is
reproduced here so that kerax needs no `rich`. In a Jupyter kernel the summary is shown
as an HTML table (with the text as its plain-text form).
"""

import html
import os
import re
import shutil
import sys

import numpy as np

from kerax.layers.core.input_layer import InputLayer
from kerax.utils import io_utils
from kerax.utils.progbar import in_notebook as _in_notebook

_WORD = re.compile(r"\s*\S+\s*")
# rich's HEAVY_HEAD box: (left, fill, divider, right) for each horizontal rule.
_RULES = {"top": "┏━┳┓", "head": "┡━╇┩", "row": "├─┼┤", "bottom": "└─┴┘"}


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False, layer_range=None):
    """Prints Keras' summary of `model` (see `Model.summary` for the arguments).

    `print_fn`, when given, is called once with the whole text, as Keras calls it.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, name="d")], name="m")
    >>> print_summary(m, line_length=40, print_fn=lambda s: print(s, end=""))
    Model: "m"
    ┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
    ┃                 ┃ Output     ┃ Param ┃
    ┃ Layer (type)    ┃ Shape      ┃     # ┃
    ┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
    │ d (Dense)       │ (None, 2)  │     8 │
    └─────────────────┴────────────┴───────┘
     Total params: 8 (32.00 B)
     Trainable params: 8 (32.00 B)
     Non-trainable params: 0 (0.00 B)
    """
    rows = list(model.summary_rows())
    sequential_like = all(len(r) == 2 for r in rows)
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        align = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    if len(positions) != len(header):
        raise ValueError(
            f"`positions` must give the end of each of the {len(header)} columns "
            f"{header}; received {len(positions)} positions: {list(positions)}. Pass "
            f"{len(header)} increasing fractions of `line_length` (or leave it None).")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width

    cells = []
    lo, hi = get_layer_index_bound_by_layer_name([r[0] for r in rows], layer_range)
    for row in rows[lo:hi]:
        cells += _layer_rows(row[0], row[1], None if sequential_like else row[2],
                             show_trainable, expand_nested, 0,
                             model.__dict__.get("_summary_batch", _KEEP))
    table = _render_table(header, align, widths, line_length, cells)
    width = _console_width()
    title = f'Model: "{model.name}"'
    totals = _totals(model)
    lines = _fold(title, width) + [l[:width] for l in table]
    for line in totals:
        lines += _fold(line, width)
    text = "".join(line + "\n" for line in lines)
    if print_fn is not None:
        print_fn(text)
    elif not io_utils.is_interactive_logging_enabled():
        io_utils.print_msg(text, line_break=False)
    elif _in_notebook():
        ipython_display = sys.modules["IPython"].display
        ipython_display.display(_Summary(text, _html(title, header, align, cells, totals)))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def get_layer_index_bound_by_layer_name(layers, layer_range=None):
    """`[first, last + 1]` indices of the layers that `layer_range` (two names or regexes,
    both ends included) selects, as in Keras.

    Example:
    >>> import kerax
    >>> ls = [kerax.layers.Dense(1, name=n) for n in ("a", "b", "c")]
    >>> get_layer_index_bound_by_layer_name(ls, ("b", "c"))
    [1, 3]
    """
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ------------------------------------------------------------------------ rows --
_KEEP = object()  # a layer's build shapes as they are (not built on a probe batch)


def _layer_rows(layer, shape, connected, show_trainable, expand_nested, level, batch=_KEEP):
    prefix = "   " * level + "└ " if level else ""
    batch = layer.__dict__.get("_summary_batch", batch)  # built by `build((None, ...))`
    if isinstance(layer, InputLayer):  # built in Keras, with no weights
        params = "0"
    else:
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
    row = [f"{prefix}{layer.name} ({type(layer).__name__})",
           _format_shape(layer, shape, batch), params]
    if connected is not None:
        row.append(connected)
    if show_trainable:
        has_weights = not isinstance(layer, InputLayer) and layer.built and layer.weights
        row.append(("Y" if layer.trainable else "N") if has_weights else "-")
    rows = [row]
    children = getattr(layer, "layers", None) if expand_nested else None
    if children:
        shapes = {}
        if hasattr(layer, "summary_rows"):
            shapes = {id(r[0]): r[1] for r in layer.summary_rows()}
        for child in children:
            rows += _layer_rows(child, shapes.get(id(child)),
                                None if connected is None else "-",
                                show_trainable, expand_nested, level + 1,
                                None if _batch_is_none(shape) else batch)
    return rows


def _format_shape(layer, shape, batch=_KEEP):
    if shape is None:  # not in a graph: from the shapes the layer was built for, as Keras
        build_shapes = getattr(layer, "_build_shapes", None)
        if build_shapes is None:
            return "?"
        try:
            shape = layer.compute_output_shape(*build_shapes)
        except Exception:  # noqa: BLE001 (Keras shows "?" where no shape can be derived)
            return "?"
        if batch is not _KEEP:  # kerax built it on a probe batch of 1; Keras on `batch`
            shape = [(batch,) + tuple(s[1:]) if s and s[0] == 1 else s
                     for s in _flat_shapes(shape)]
    return _shape_text(shape)


def _batch_is_none(shape):
    return shape is not None and any(s and s[0] is None for s in _flat_shapes(shape))


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in s)


def _flat_shapes(shape):
    if _is_shape(shape):
        return [shape]
    items = shape.values() if isinstance(shape, dict) else shape
    return [s for item in items for s in _flat_shapes(item)]


def _shape_text(shape):
    """Keras' text: one shape as `(None, 3)`; several outputs as the list of a node's
    (flat) output tensors."""
    texts = ["(" + ", ".join(str(d) for d in s) + ")" for s in _flat_shapes(shape)]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def _totals(model):
    weights = model.weights if model._variables is not None else []
    trainable = [w for w in weights if w.trainable]
    frozen = [w for w in weights if not w.trainable]
    counts = [(_count(weights), _bytes(weights)), (_count(trainable), _bytes(trainable)),
              (_count(frozen), _bytes(frozen))]
    names = ["Total", "Trainable", "Non-trainable"]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        # Keras counts `optimizer.variables` (optax's own step counters are not there).
        leaves = [np.asarray(v) for v in optimizer.variables]
        counts.append((_count(leaves), _bytes(leaves)))
        counts[0] = (counts[0][0] + counts[-1][0], counts[0][1] + counts[-1][1])
        names.append("Optimizer")
    return [f" {name} params: {n:,} ({_human_bytes(b)})" for name, (n, b) in zip(names, counts)]


def _count(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _bytes(weights):
    return int(sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in weights))


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n / 1024 < 1 or unit == "PB":
            return f"{n:.2f} {unit}"
        n /= 1024


# ----------------------------------------------------------------------- table --
def _render_table(header, align, column_widths, line_length, rows):
    """Lines of rich's `Table(width=line_length, show_lines=True)` with HEAVY_HEAD edges,
    columns of fixed `column_widths`, padding 1 (rich's `_calculate_column_widths`)."""
    n = len(column_widths)
    max_width = line_length - (n + 1)
    widths = [max(min(w + 2, max_width), 0) or 1 for w in column_widths]
    if sum(widths) > max_width:
        widths = _ratio_reduce(sum(widths) - max_width, [1] * n, widths, widths)
        widths = [max(w, 0) for w in widths]
    if 0 < sum(widths) < max_width:
        widths = [w + pad for w, pad in zip(widths, _ratio_distribute(max_width - sum(widths),
                                                                     widths))]
    lines = [_rule("top", widths)]
    lines += _render_row(header, align, widths, bottom=True, edge="┃")
    lines.append(_rule("head", widths))
    for i, row in enumerate(rows):
        if i:
            lines.append(_rule("row", widths))
        lines += _render_row(row, align, widths, bottom=False, edge="│")
    lines.append(_rule("bottom", widths))
    return lines


def _rule(kind, widths):
    left, fill, divider, right = _RULES[kind]
    return left + divider.join(fill * w for w in widths) + right


def _render_row(cells, align, widths, bottom, edge):
    blocks = [_render_cell(c, a, w) for c, a, w in zip(cells, align, widths)]
    height = max(len(b) for b in blocks)
    blank = [" " * w for w in widths]
    out = []
    for i in range(height):
        parts = []
        for j, b in enumerate(blocks):
            k = i - (height - len(b)) if bottom else i
            parts.append(b[k] if 0 <= k < len(b) else blank[j])
        out.append(edge + edge.join(parts) + edge)
    return out


def _render_cell(text, align, width):
    inner = width - 2
    if inner < 1:
        return [" " * width]
    lines = []
    for line in _divide(str(text), inner, fold=False):
        if len(line) > inner:  # rich's rstrip_end: drop trailing spaces beyond the width
            line = line[:len(line) - min(len(line) - len(line.rstrip()), len(line) - inner)]
        if align != "left":
            line = line.rstrip()
        if len(line) > inner:
            line = line[:inner - 1] + "…"
        if align == "right":
            line = line.rjust(inner)
        elif align == "center":
            pad = (inner - len(line)) // 2
            line = (" " * pad + line).ljust(inner)
        else:
            line = line.ljust(inner)
        lines.append(" " + line + " ")
    return lines


def _divide(text, width, fold):
    """rich's word wrap (`rich._wrap.divide_line`) for one line of text."""
    breaks, offset = [], 0
    for m in _WORD.finditer(text):
        start, word = m.start(), m.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                for i in range(0, len(word), width):
                    if start + i:
                        breaks.append(start + i)
                offset = len(word) % width or width
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0] + breaks + [len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])] or [""]


def _fold(line, width):
    """A line printed by rich's console: word-wrapped at the console width."""
    if len(line) <= width:
        return [line]
    return [part.rstrip() for part in _divide(line, width, fold=True)]


def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio, result = sum(ratios), []
    if not total_ratio:
        return values[:]
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * total / total_ratio))
            result.append(value - distributed)
            total -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _ratio_distribute(total, ratios):
    total_ratio, result = sum(ratios), []
    for ratio in ratios:
        distributed = -(-ratio * total // total_ratio) if total_ratio > 0 else total
        result.append(distributed)
        total_ratio -= ratio
        total -= distributed
    return result


def _console_width():
    """rich's console width: `COLUMNS`, else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns
        except OSError:
            continue
    return 80


# ------------------------------------------------------------------- notebooks --
class _Summary:
    """What a notebook displays: the HTML table, with the text as its plain form."""

    def __init__(self, text, html_text):
        self.text, self.html = text, html_text

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        return self.html


def _html(title, header, align, rows, totals):
    esc = html.escape
    style = "border:1px solid #888;padding:2px 8px;text-align:{}"
    head = "".join(f'<th style="{style.format(a)}">{esc(h)}</th>' for h, a in zip(header, align))
    body = "".join(
        "<tr>" + "".join(f'<td style="{style.format(a)};white-space:pre">{esc(str(c))}</td>'
                         for c, a in zip(row, align)) + "</tr>" for row in rows)
    foot = "".join(f"<div>{esc(t.strip())}</div>" for t in totals)
    return (f"<div><b>{esc(title)}</b><table style=\"border-collapse:collapse\">"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")
