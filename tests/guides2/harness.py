"""Runs a Keras guide, ported cell by cell, on Keras 3 and on kerax, in lockstep, and
compares.

A guide is a list of `Cell`s. A cell is our own code exercising the idioms of one code
cell of the guide (never the guide's text), split into parts only where the harness must
act between two statements (`Sync`: copy Keras' current weights into kerax's object of
the same name, so that training from random weights can be compared) or where a
statement loads data or pretrained weights (`StandIn`: the statement is kept for the
record and a small offline stand-in is run instead).

Each part runs first in a namespace where `import keras` gives Keras 3, then in one where
it gives kerax (`keras_core` too). `tensorflow`, `tensorflow_datasets` and
`matplotlib.pyplot` give the offline stand-ins of `standins.py`. Both runs start each
part from the same NumPy and Keras seeds, so `np.random.random(...)` in a cell draws the
same data for both. After the cell, its `check(k, x)` compares the two namespaces.

A kerax failure does not stop the run: the following cells still run (they may fail as a
consequence, which the cell's xfail reason then says).
"""

import ast
import builtins
import contextlib
import dataclasses
import io
import time
import traceback
import types

import jax
import numpy as np

import kerax

from . import standins


@dataclasses.dataclass
class Sync:
    """Copy Keras' current weights of each named object into kerax's (`set_weights`)."""

    names: tuple

    def __init__(self, *names):
        self.names = names


@dataclasses.dataclass
class StandIn:
    """`original` (a data-loading or pretrained-weights statement) replaced by `run(ns)`."""

    original: str
    run: object


@dataclasses.dataclass
class Cell:
    """Our port of one code cell of a guide: its parts (source strings, `Sync`, `StandIn`),
    a check."""

    parts: list
    check: object = None
    keras_fails: str = None
    kerax_check: object = None
    keras_reference: dict = None

    def __init__(self, *parts, check=None, keras_fails=None, kerax_check=None,
                 keras_reference=None):
        self.parts = list(parts)
        self.check = check
        self.keras_fails = keras_fails  # text of the error Keras 3 itself raises here
        self.kerax_check = kerax_check  # check(x) of kerax's run where Keras cannot run
        # {part index: source}: where Keras fails with `keras_fails` on part j, Keras runs
        # this variant of the part instead, to give kerax's run a reference to compare to.
        self.keras_reference = keras_reference or {}


@dataclasses.dataclass
class CellResult:
    keras_error: str = None
    kerax_error: str = None
    check_error: str = None
    keras_out: str = ""
    kerax_out: str = ""
    keras_original_error: str = None  # the cell's own text failing on Keras (keras_reference)
    kerax_trace: str = ""
    check_trace: str = ""
    keras_where: tuple = None
    kerax_where: tuple = None
    seconds: list = dataclasses.field(default_factory=lambda: [0.0, 0.0])  # Keras, kerax


class LibraryProxy(types.ModuleType):
    """The library as a guide sees it: every attribute from `lib`, except
    `datasets`, whose loaders are the offline stand-ins."""

    def __init__(self, lib, datasets):
        super().__init__(lib.__name__)
        self._lib = lib
        if datasets is not None:
            self.datasets = datasets

    def __getattr__(self, name):
        return getattr(self._lib, name)


def _importer(lib, datasets):
    real = builtins.__import__
    proxy = LibraryProxy(lib, datasets)
    extra = standins.for_library(lib)

    def guide_import(name, globals=None, locals=None, fromlist=(), level=0):
        root, *rest = name.split(".")
        if level == 0 and root in ("keras", "keras_core"):
            module = proxy
            for part in rest:
                module = getattr(module, part)
            return module if fromlist else proxy
        if level == 0 and root in extra:
            module = extra[root]
            for part in rest if fromlist else ():
                module = getattr(module, part)
            return module
        return real(name, globals, locals, fromlist, level)

    return guide_import


def namespace(lib, datasets):
    """A fresh module namespace for one library's run of a guide."""
    bi = dict(vars(builtins))
    bi["__import__"] = _importer(lib, datasets)
    return {"__name__": f"guide_{lib.__name__}", "__builtins__": bi}


def _where(exc, label_prefix):
    """(part label, line) of the cell statement that raised `exc`."""
    where = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith(label_prefix):
            where = (frame.f_code.co_filename, line)
    return where


def _one_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _compile(source, name):
    """The part's code; a final expression statement's value is kept as `_`, as a
    notebook shows it."""
    tree = ast.parse(source, name)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name("_", ast.Store())], value=last.value), last)
        ast.fix_missing_locations(tree)
    return compile(tree, name, "exec")


def _exec(source, ns, name, seed, lib):
    lib.utils.set_random_seed(seed)
    np.random.seed(seed)
    out = io.StringIO()
    ns.pop("_", None)
    with contextlib.redirect_stdout(out):
        exec(_compile(source, name), ns)
    return out.getvalue()


def _run_part(part, ns, name, seed, lib):
    if isinstance(part, str):
        return _exec(part, ns, name, seed, lib)
    if isinstance(part, StandIn):
        lib.utils.set_random_seed(seed)
        np.random.seed(seed)
        part.run(ns)
        return ""
    raise TypeError(f"not a runnable part: {part!r}")


def run_guide(name, cells, datasets_keras, datasets_kerax, keras, seed=0):
    """Run `cells` on Keras and on kerax in lockstep; a `CellResult` per cell."""
    keras.utils.clear_session()  # fresh automatic names, as in a new notebook
    kerax.utils.clear_session()
    k_ns, x_ns = namespace(keras, datasets_keras), namespace(kerax, datasets_kerax)
    results = []
    for i, cell in enumerate(cells):
        res = CellResult()
        for j, part in enumerate(cell.parts):
            part_seed = seed + 100 * i + j
            if isinstance(part, Sync):
                if res.keras_error is None and res.kerax_error is None:
                    try:
                        for obj in part.names:
                            x_ns[obj].set_weights(k_ns[obj].get_weights())
                    except Exception as exc:  # noqa: BLE001 - recorded, reported by the test
                        res.kerax_error = "set_weights from Keras: " + _one_line(exc)
                continue
            label = f"<{name} cell {i} part {j}>"
            if res.keras_error is None:
                start = time.perf_counter()
                try:
                    res.keras_out += _run_part(part, k_ns, label, part_seed, keras)
                except Exception as exc:  # noqa: BLE001
                    if j in cell.keras_reference and cell.keras_fails in str(exc):
                        res.keras_original_error = _one_line(exc)
                        try:
                            res.keras_out += _run_part(cell.keras_reference[j], k_ns,
                                                       label + " (Keras reference)",
                                                       part_seed, keras)
                        except Exception as exc2:  # noqa: BLE001
                            res.keras_error = _one_line(exc2) + "\n" + traceback.format_exc()
                    else:
                        res.keras_error = _one_line(exc) + "\n" + traceback.format_exc()
                        res.keras_where = _where(exc, f"<{name} cell {i} ")
                res.seconds[0] += time.perf_counter() - start
            if res.kerax_error is None:
                start = time.perf_counter()
                try:
                    res.kerax_out += _run_part(part, x_ns, label, part_seed, kerax)
                except Exception as exc:  # noqa: BLE001
                    res.kerax_error = _one_line(exc)
                    res.kerax_trace = traceback.format_exc()
                    res.kerax_where = _where(exc, f"<{name} cell {i} ")
                res.seconds[1] += time.perf_counter() - start
        k_ns["__out__"], x_ns["__out__"] = res.keras_out, res.kerax_out
        check = cell.check
        if res.keras_error is not None and cell.kerax_check is not None:
            check = lambda k, x: cell.kerax_check(x)  # noqa: E731 - no Keras reference
        if check is not None and (res.keras_error is None or cell.kerax_check is not None) \
                and res.kerax_error is None:
            try:
                check(k_ns, x_ns)
            except Exception as exc:  # noqa: BLE001
                res.check_error = _one_line(exc)
                res.check_trace = traceback.format_exc()
        results.append(res)
    return results


def assert_cell(results, cells, i):
    """The test of cell `i`: Keras ran it (else the adaptation is wrong), kerax ran it,
    and the check comparing the two passed.

    A cell that fails on Keras 3 itself (`Cell.keras_fails`: the cell no longer runs
    with the installed JAX) passes when kerax runs it or fails the same way at the same
    statement; with a `keras_reference`, Keras runs that variant instead and the cell is
    compared as any other."""
    res, cell = results[i], cells[i]
    if cell.keras_reference:
        assert res.keras_original_error is not None, (
            f"expected the cell's text to fail on Keras with {cell.keras_fails!r}; it ran")
        assert res.keras_error is None, "the Keras reference fails:\n" + res.keras_error
    elif cell.keras_fails is not None:
        assert res.keras_error is not None and cell.keras_fails in res.keras_error, (
            f"expected Keras to fail with {cell.keras_fails!r}, got {res.keras_error!r}")
        if res.kerax_error is None:
            assert res.check_error is None, (
                "kerax runs it but its result is wrong: " + res.check_error + "\n"
                + res.check_trace)
            return
        same = (res.kerax_error.split(":")[0] == res.keras_error.split(":")[0]
                and res.kerax_where == res.keras_where)
        assert same, (f"kerax: {res.kerax_error} at {res.kerax_where}; Keras fails later or "
                      f"elsewhere: {res.keras_error.splitlines()[0]} at {res.keras_where}\n"
                      + res.kerax_trace)
        return
    assert res.keras_error is None, "the cell fails on Keras itself:\n" + res.keras_error
    if res.kerax_error is not None:
        raise AssertionError("kerax: " + res.kerax_error + "\n" + res.kerax_trace)
    if res.check_error is not None:
        raise AssertionError("differs from Keras: " + res.check_error + "\n"
                             + res.check_trace)


# --- comparisons used by the checks -------------------------------------------------


def same_outcome(fn_keras, fn_kerax, tol=1e-5, what="value"):
    """Both calls return equal values, or both raise the same exception type."""
    try:
        want = fn_keras()
    except Exception as exc:  # noqa: BLE001 - Keras' own failure is the reference
        try:
            fn_kerax()
        except type(exc):
            return
        raise AssertionError(f"{what}: Keras raises {type(exc).__name__}: {exc}; kerax does not")
    close(fn_kerax(), want, tol, what)


def to_numpy(value):
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    return np.asarray(value)


def close(actual, desired, tol=1e-5, what="value"):
    """`actual` (kerax) equals `desired` (Keras) leaf by leaf, same structure."""
    a, d = to_numpy(actual), to_numpy(desired)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(d), (
        f"{what}: structure {jax.tree_util.tree_structure(a)} != "
        f"{jax.tree_util.tree_structure(d)}")
    for la, ld in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(d)):
        assert la.shape == ld.shape, f"{what}: shape {la.shape} != {ld.shape}"
        np.testing.assert_allclose(la.astype("float64") if la.dtype != bool else la,
                                   ld.astype("float64") if ld.dtype != bool else ld,
                                   rtol=tol, atol=tol, err_msg=what)


def same_shapes(actual, desired, what="value"):
    a, d = to_numpy(actual), to_numpy(desired)
    assert [x.shape for x in jax.tree_util.tree_leaves(a)] == \
        [x.shape for x in jax.tree_util.tree_leaves(d)], what


def history_close(km, xm, tol=1e-4):
    """kerax's `model.history` equals Keras': same keys, epochs and values."""
    hk, hx = km.history.history, xm.history.history
    assert sorted(hx) == sorted(hk), f"history keys {sorted(hx)} != {sorted(hk)}"
    close(hx, hk, tol, "history")


def history_like(km, xm):
    """Random training (augmentation, dropout): same keys and epochs, finite values."""
    hk, hx = km.history.history, xm.history.history
    assert sorted(hx) == sorted(hk), f"history keys {sorted(hx)} != {sorted(hk)}"
    assert {k: len(v) for k, v in hx.items()} == {k: len(v) for k, v in hk.items()}
    assert all(np.isfinite(v).all() for v in hx.values()), hx


def weights_close(km, xm, tol=1e-5, what="weights"):
    close(xm.get_weights(), km.get_weights(), tol, what)
