"""Writes `preprocessing_layers.json`: the text-layer cells of
`tests/guides/test_preprocessing_layers.py` run on Keras 3 with TensorFlow.

Keras 3 runs StringLookup, IntegerLookup, Hashing and TextVectorization only with
TensorFlow, which CI never installs; the guide test compares kerax's run of those cells
with this record. The cells are read from the test module's source (its `CELLS` list),
not imported, and run in one namespace as a notebook: the setup cell 0, then each cell
marked `_text_cell`, each from the seed `1000 + index` as `GuideRun` does. For each cell
the JSON holds its source and `recorded()` of every name it bound. To regenerate (in a
throwaway environment, outside the repository):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/guides/goldens/make_preprocessing_goldens.py
"""

import ast
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from record import recorded  # noqa: E402

TEST = os.path.join(os.path.dirname(HERE), "test_preprocessing_layers.py")


def cells():
    """(index, source, is a text cell) for each entry of the test module's CELLS."""
    tree = ast.parse(open(TEST).read())
    strings, listing = {}, None
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                strings[name] = node.value.value
            elif name == "CELLS":
                listing = node.value.elts
    out = []
    for i, call in enumerate(listing):
        first = call.args[0]
        source = strings[first.id] if isinstance(first, ast.Name) else first.value
        out.append((i, source, getattr(call.func, "id", "") == "_text_cell"))
    return out


def main():
    assert keras.backend.backend() == "tensorflow", "run with KERAS_BACKEND=tensorflow"
    ns = {"__name__": "__guide__"}
    goldens = {}
    for i, source, is_text in cells():
        if i != 0 and not is_text:
            continue
        before = dict(ns)
        keras.utils.set_random_seed(1000 + i)
        exec(compile(source, f"<guide cell {i}>", "exec"), ns)  # noqa: S102 - our cells
        bound = {}
        for name, value in ns.items():
            if name.startswith("__") or (name in before and before[name] is value):
                continue
            record = recorded(value)
            if record is not None:
                bound[name] = record
        if is_text:
            goldens[str(i)] = {"source": source, "bound": bound}
    doc = {"keras": keras.__version__, "backend": "tensorflow", "cells": goldens}
    with open(os.path.join(HERE, "preprocessing_layers.json"), "w") as f:
        json.dump(doc, f, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
