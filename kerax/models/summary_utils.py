"""Keras' `model.summary()` table, with output shapes from `jax.eval_shape`."""

import numpy as np


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _count(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _bytes(weights):
    return int(sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in weights))


def _shape_str(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return ", ".join(_shape_str(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _row(cells, widths, sep="│"):
    out = sep
    for i, (cell, w) in enumerate(zip(cells, widths)):
        cell = str(cell)
        out += " " + (cell.rjust(w - 2) if i == 2 else cell.ljust(w - 2)) + " " + sep
    return out


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or (lambda s, **kw: print(s))
    rows = []
    connected = False
    for layer, shape, *links in model.summary_rows():
        n = _count(layer.weights) if layer.variables is not None else 0
        rows.append((f"{layer.name} ({type(layer).__name__})",
                     _shape_str(shape) if shape is not None else "?", f"{n:,}") + tuple(links))
        connected = connected or bool(links)
    # Keras' widths in a 80-column (or non-interactive) console: 76 characters in all.
    widths = [21, 19, 12, 19] if connected else [33, 24, 15]
    if line_length:
        widths[0] = max(20, line_length - sum(widths[1:]) - len(widths) - 1)
    for r in rows:
        widths[0] = max(widths[0], len(r[0]) + 2)
        widths[1] = max(widths[1], len(r[1]) + 2)
        if connected:
            widths[3] = max(widths[3], len(r[3]) + 2)
    top = "┏" + "┳".join("━" * w for w in widths) + "┓"
    titles = ("Layer (type)", "Output Shape", "Param #") + (("Connected to",) if connected else ())
    head = _row(titles, widths, "┃")
    under = "┡" + "╇".join("━" * w for w in widths) + "┩"
    mid = "├" + "┼".join("─" * w for w in widths) + "┤"
    bottom = "└" + "┴".join("─" * w for w in widths) + "┘"
    lines = [f'Model: "{model.name}"', top, head, under]
    for i, r in enumerate(rows):
        lines.append(_row(r, widths))
        lines.append(mid if i < len(rows) - 1 else bottom)
    if not rows:
        lines.append(bottom)
    weights = model.weights if model.variables is not None else []
    trainable = [w for w in weights if w.trainable]
    frozen = [w for w in weights if not w.trainable]
    opt_line = None
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.state is not None:
        # Keras counts `optimizer.variables` (optax's internal step counters are not there).
        leaves = [np.asarray(v) for v in optimizer.variables]
        opt_line = (_count(leaves), _bytes(leaves))
    total = _count(weights) + (opt_line[0] if opt_line else 0)
    total_b = _bytes(weights) + (opt_line[1] if opt_line else 0)
    lines.append(f" Total params: {total:,} ({_human_bytes(total_b)})")
    lines.append(f" Trainable params: {_count(trainable):,} ({_human_bytes(_bytes(trainable))})")
    lines.append(f" Non-trainable params: {_count(frozen):,} ({_human_bytes(_bytes(frozen))})")
    if opt_line:
        lines.append(f" Optimizer params: {opt_line[0]:,} ({_human_bytes(opt_line[1])})")
    for line in lines:
        print_fn(line)
