"""Every public namespace has a generated `__all__` that is exactly what it exports.

`__all__` is a literal written by `python -m kerax._exports` from the names each namespace
binds (never a hand-kept list); `test_generated_all_is_current` fails when one is stale. These tests fail when `__all__` names something missing, misses
a public object the namespace holds, or misses a Keras name kerax has. The Keras names
kerax lacks are reported (printed, and recorded as a test property), not failed on;
tests/test_public_namespaces.py pins that list so it only shrinks.
"""

import functools
import importlib
import inspect
import textwrap

import pytest

from kerax import _exports

NAMESPACES = [
    "", "activations", "applications", "backend", "callbacks", "checkpoint", "config", "constraints",
    "datasets", "distribution", "dtype_policies", "export", "initializers", "layers", "losses",
    "metrics", "mixed_precision", "models", "ops", "ops.image", "ops.linalg", "ops.nn",
    "ops.numpy", "optimizers", "optimizers.schedules", "preprocessing",
    "preprocessing.image", "preprocessing.sequence", "quantizers", "random", "regularizers",
    "saving", "serialization", "tree", "utils", "visualization",
]
NOT_IN_KERAS = {"checkpoint", "serialization"}  # kerax's own namespaces
# Implementation modules that are also Keras namespaces: their `__all__` is their own
# functions (computed from `__module__`), and they import helpers (`convert_to_tensor`,
# `standardize_dtype`) without an underscore, so "every public object" does not apply.
OWN_FUNCTIONS_ONLY = {"ops.image", "ops.linalg", "ops.nn", "ops.numpy"}


def _module(root, path):
    return functools.reduce(getattr, path.split("."), root) if path else root


def _kerax(path):
    return importlib.import_module(f"kerax.{path}" if path else "kerax")


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_all_is_exactly_the_public_objects(namespace):
    module = _kerax(namespace)
    names = module.__all__
    assert names == sorted(set(names)), "__all__ is sorted, without repeats"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"kerax.{namespace}.__all__ names what it lacks: {missing}"
    if namespace in OWN_FUNCTIONS_ONLY:
        return
    public = {n for n, v in vars(module).items()
              if not n.startswith("_") and not inspect.ismodule(v)}
    unlisted = sorted(public - set(names))
    assert not unlisted, f"kerax.{namespace} exports names __all__ misses: {unlisted}"


@pytest.mark.parametrize("module_name", _exports.generated_modules())
def test_generated_all_is_current(module_name):
    module = importlib.import_module(module_name)
    assert module.__all__ == _exports.public_names(vars(module)), (
        f"{module_name}.__all__ is stale: run `python -m kerax._exports` and commit the result")


def test_generated_modules_cover_the_namespaces():
    generated = set(_exports.generated_modules())
    lacking = [n for n in NAMESPACES if n not in OWN_FUNCTIONS_ONLY
               and (f"kerax.{n}" if n else "kerax") not in generated]
    assert not lacking, f"namespaces without a generated __all__: {lacking}"


def test_write_replaces_a_stale_list(tmp_path, monkeypatch):
    pkg = tmp_path / "stalepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "def f():\n    pass\n\n\n" + _exports.render(["g"]), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _exports.write("stalepkg")
    assert _exports.render(["f"]) in (pkg / "__init__.py").read_text(encoding="utf-8")
    assert not _exports.write("stalepkg")


@pytest.mark.parametrize("namespace", sorted(set(NAMESPACES) - NOT_IN_KERAS))
def test_all_has_every_keras_name_kerax_has(keras, namespace, record_property):
    theirs = {n for n in dir(_module(keras, namespace)) if not n.startswith("_")} - {"src"}
    ours = _kerax(namespace)
    absent = sorted(n for n in theirs if not hasattr(ours, n))
    label = f"keras.{namespace}" if namespace else "keras"
    record_property("keras_names_kerax_lacks", absent)
    print(f"{label}: {len(absent)} Keras name(s) kerax lacks: {absent}")
    unlisted = sorted(n for n in theirs if hasattr(ours, n) and n not in ours.__all__)
    assert not unlisted, f"{label}: names kerax has but leaves out of __all__: {unlisted}"


@pytest.mark.parametrize("namespace", ["layers", "losses", "ops"])
def test_star_import_gives_all(namespace):
    scope = {}
    exec(f"from kerax.{namespace} import *", scope)  # noqa: S102 - what users write
    assert sorted(n for n in scope if n != "__builtins__") == _kerax(namespace).__all__


def test_public_names_reads_bindings_not_values(tmp_path, monkeypatch):
    pkg = tmp_path / "exports_pkg"
    pkg.mkdir()
    (pkg / "helpers.py").write_text("import os\n\ndef helper():\n    pass\n\n_hidden = 1\n")
    (pkg / "listed.py").write_text("__all__ = ['only']\nonly = 1\nnot_listed = 2\n")
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import json
        from exports_pkg import helpers
        from exports_pkg.listed import *
        from exports_pkg.helpers import *
        from os import path as _path
        from os.path import join
        try:
            from exports_pkg.missing_module import never
        except ImportError:
            fallback = None
        A, (B, C) = 1, (2, 3)

        def function():
            inner = 1

        class Klass:
            attribute = 1
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("exports_pkg")
    assert _exports.public_names(vars(module)) == [
        "A", "B", "C", "Klass", "fallback", "function", "helper", "helpers", "join", "only"]
