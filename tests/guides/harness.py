"""Run a keras.io guide cell by cell on Keras 3 and on kerax, and compare what each cell made.

A guide is a list of `Cell`s, each our own port of one guide cell's Keras idioms (written
for this suite, not copied from the guide). `GuideRun` executes every
cell twice, in two namespaces that persist from cell to cell like a notebook: once where
`import keras` gives Keras 3, once where it gives kerax (the `__import__` seen by the cell
maps `keras` and `keras.*` to `kerax` and `kerax.*`). Each side runs in its own working
directory, so files a cell saves do not collide. Before each cell both libraries are
seeded (`keras.utils.set_random_seed`, which seeds NumPy too), so data a cell draws with
`np.random` is the same on both sides and Keras' initial weights are the same each run.

After a cell, every name it bound (and the value of a trailing expression, as `_`) is
compared across the two namespaces:

- arrays and variables: shape and dtype, and values when the cell is `exact`;
- symbolic tensors (`keras.Input(...)`, layer outputs): shape and dtype;
- layers and models: the shapes of their weights (values when `exact`), `built`;
- `History`: the metric names and epoch counts (values when `exact`);
- numbers: equal when `exact`, else both finite; strings, bools, None: equal;
- what the cell printed, when the cell says `stdout` (progress bars left out; a printed
  number may differ by one unit in its last decimal), or, when it says `summary`, the
  name-free part of the `model.summary()` tables it printed;
- lists, tuples, dicts: item by item (a config's `name` string excepted: auto names such
  as `dense_7` count the layers each library has made so far in the session).

A cell that fails on Keras 3 itself (`keras_raises`) must fail on kerax with the same error
type and message words. Weights are random, so a cell that trains and is compared `exact`
names in `sync` the models whose Keras weights are copied into the kerax model
(`set_weights`) first, or, for models built and trained in the same cell, says `sync_fit`:
the first `fit` of each kerax model then starts from the weights the matching Keras model
had at its first `fit`. Where a
guide loads a dataset (MNIST, CIFAR10, ...), the port uses `offline(...)`: small arrays with
the same per-row shapes and dtypes, fewer rows, drawn from a fixed generator. Cells run in
order whatever order their tests run in, so a later cell's test runs the earlier cells.
"""

import ast
import builtins
import contextlib
import io
import math
import os
import re
import types
from dataclasses import dataclass, field

import numpy as np
import pytest

import keras
import kerax

TOL = 1e-4


@dataclass
class Cell:
    """One code cell of a guide: its source, and how it is run and compared."""

    source: str
    exact: bool = False
    sync: tuple = ()
    skip: str | None = None
    xfail: str | None = None
    ignore: tuple = field(default_factory=tuple)
    slow: bool = False
    sync_fit: bool = False
    stdout: bool = False
    summary: bool = False
    keras_raises: tuple | None = None  # (error type name, words in Keras' message)


def offline(shape, dtype="float32", high=None, seed=0):
    """A deterministic stand-in for a dataset array: uniform in [0, 1) or integers < high."""
    rng = np.random.default_rng(seed)
    if high is not None:
        return rng.integers(0, high, shape).astype(dtype)
    return rng.random(shape).astype(dtype)


def offline_mnist(train=64, test=32):
    """`keras.datasets.mnist.load_data()` with fewer rows (uint8 images, uint8 labels)."""
    return ((offline((train, 28, 28), "uint8", 256, 1), offline((train,), "uint8", 10, 2)),
            (offline((test, 28, 28), "uint8", 256, 3), offline((test,), "uint8", 10, 4)))


def offline_cifar10(train=64, test=32):
    """`keras.datasets.cifar10.load_data()` with fewer rows (uint8 images, (n, 1) labels)."""
    return ((offline((train, 32, 32, 3), "uint8", 256, 5), offline((train, 1), "uint8", 10, 6)),
            (offline((test, 32, 32, 3), "uint8", 256, 7), offline((test, 1), "uint8", 10, 8)))


def _kerax_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (name == "keras" or name.startswith("keras.")):
        name = "kerax" + name[len("keras"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


def _compile_cell(source, index):
    """Compile a cell; a trailing expression's value is kept as `_` (like a notebook)."""
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.Assign(targets=[ast.Name("_", ast.Store())], value=last.value)
        ast.copy_location(tree.body[-1], last)
        ast.fix_missing_locations(tree)
    return compile(tree, f"<guide cell {index}>", "exec")


def _namespace(kerax_side):
    ns = {"__name__": "__guide__", "offline": offline, "offline_mnist": offline_mnist,
          "offline_cifar10": offline_cifar10}
    if kerax_side:
        ns["__builtins__"] = {**vars(builtins), "__import__": _kerax_import}
        ns["__kerax__"] = True
    return ns


class GuideRun:
    """The two namespaces of one guide, advanced cell by cell, with each cell's outcome."""

    def __init__(self, cells, tmp_path_factory, name, run_slow=True):
        self.cells = cells
        self.run_slow = run_slow
        # Fresh automatic names on both sides ("sequential", "dense_1", ...), as in a new
        # notebook, whatever other tests created before.
        keras.utils.clear_session()
        kerax.utils.clear_session()
        self.ns = (_namespace(False), _namespace(True))
        self.dirs = (tmp_path_factory.mktemp(f"{name}_keras"),
                     tmp_path_factory.mktemp(f"{name}_kerax"))
        self.outcomes = {}
        self.next = 0
        self._registries = [(r, dict(r)) for r in (keras.saving.get_custom_objects(),
                                                  kerax.saving.get_custom_objects())]

    def close(self):
        """Give back the custom-object registries as they were (a guide may clear them)."""
        for registry, saved in self._registries:
            registry.clear()
            registry.update(saved)

    def outcome(self, index):
        """Run cells up to `index` (each once, in order) and return that cell's outcome."""
        while self.next <= index:
            i, self.next = self.next, self.next + 1
            cell = self.cells[i]
            if cell.skip or (cell.slow and not self.run_slow):
                self.outcomes[i] = None
                continue
            self.outcomes[i] = self._run(i, cell)
        return self.outcomes[index]

    def _run(self, i, cell):
        code = _compile_cell(cell.source, i)
        before = [dict(ns) for ns in self.ns]
        keras_ns, kerax_ns = self.ns
        try:
            for name in cell.sync:
                kerax_ns[name].set_weights(keras_ns[name].get_weights())
        except Exception as e:  # noqa: BLE001 - reported by the cell's test
            return f"copying Keras' weights into kerax raised {type(e).__name__}: {e}"
        starts = []
        try:
            with _fit_hook(keras.Model if cell.sync_fit else None, starts.append):
                self._exec(code, keras_ns, self.dirs[0], i)
        except Exception as e:  # noqa: BLE001
            if not _matches(e, cell.keras_raises):
                return f"the cell failed on Keras itself: {type(e).__name__}: {e}"
            return self._expect_kerax_raises(code, cell.keras_raises, i)
        if cell.keras_raises:
            return f"Keras did not raise {cell.keras_raises} (the test expected it to)"
        starts.reverse()
        try:
            with _fit_hook(kerax.Model if cell.sync_fit else None, starts.pop):
                self._exec(code, kerax_ns, self.dirs[1], i)
        except Exception as e:  # noqa: BLE001 - the outcome is reported by the cell's test
            return f"kerax raised {type(e).__name__}: {e}"
        names = [n for n in keras_ns if n not in before[0] or keras_ns[n] is not before[0][n]]
        problems = []
        if cell.stdout:
            problems += _compare_printed(keras_ns["__stdout__"], kerax_ns["__stdout__"])
        if cell.summary:
            problems += _compare_printed(_summaries(keras_ns["__stdout__"]),
                                         _summaries(kerax_ns["__stdout__"]))
        for n in names:
            if n.startswith("__") or n in cell.ignore:
                continue
            if n not in kerax_ns:
                problems.append(f"{n}: not bound on kerax")
                continue
            problems += compare(keras_ns[n], kerax_ns[n], cell.exact, n)
        return "; ".join(problems[:5]) if problems else "ok"

    def _expect_kerax_raises(self, code, error, i):
        """A cell that fails on Keras 3 itself must fail on kerax with the same error."""
        try:
            self._exec(code, self.ns[1], self.dirs[1], i)
        except Exception as e:  # noqa: BLE001
            if _matches(e, error):
                return "ok"
            return f"kerax raised {type(e).__name__}: {e} (Keras raises {error})"
        return f"kerax ran a cell that raises {error} on Keras"

    @staticmethod
    def _exec(code, ns, cwd, i):
        old = os.getcwd()
        os.chdir(cwd)
        (kerax if ns.get("__kerax__") else keras).utils.set_random_seed(1000 + i)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, ns)  # noqa: S102 - a cell of this suite
        finally:
            os.chdir(old)
            ns["__stdout__"] = _printed(out.getvalue())


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type)


def _concrete(x):
    try:
        return np.asarray(x)
    except Exception:  # noqa: BLE001 - symbolic tensors cannot be converted
        return None


@contextlib.contextmanager
def _fit_hook(model_class, weights):
    """While a `sync_fit` cell runs, each model's first `fit` (or `evaluate`) starts from
    Keras' weights.

    On Keras, `weights` records each model's weights as its first `fit` begins; on kerax,
    `weights()` hands them back in the same order and the model takes them (`set_weights`)
    before training. Models built and trained in one cell can so be compared exactly.
    """
    if model_class is None:
        yield
        return
    methods, seen = {name: getattr(model_class, name) for name in ("fit", "evaluate")}, set()

    def hook(method):
        def hooked(model, *args, **kwargs):
            if id(model) not in seen:
                seen.add(id(model))
                if not model.built and args and hasattr(args[0], "shape"):
                    model.build((None,) + tuple(args[0].shape[1:]))  # as its first batch would
                if model_class is kerax.Model:
                    model.set_weights(weights())
                else:
                    weights(model.get_weights())
            return method(model, *args, **kwargs)
        return hooked

    for name, method in methods.items():
        setattr(model_class, name, hook(method))
    try:
        yield
    finally:
        for name, method in methods.items():
            setattr(model_class, name, method)


_PROGRESS_BAR = re.compile(r"\r?\s*\d+/\d+ \S*━[^\n]*?/step\s*")


def _printed(text):
    """What a cell printed, less progress bars (their timings differ from run to run)."""
    return _PROGRESS_BAR.sub("", text.replace("\x1b[1m", "").replace("\x1b[0m", ""))


_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _summaries(text):
    """The name-free part of printed `model.summary()` tables: the model name, the column
    headers, the number of rows, and the parameter counts (auto layer names count the
    layers made so far in the session, so rows are counted, not compared)."""
    kept, rows = [], None
    for line in text.splitlines():
        if line.startswith("┡"):
            rows = 1
        elif line.startswith("├") and rows is not None:
            rows += 1
        elif line.startswith("└") and rows is not None:
            kept.append(f"({rows} rows)")
            rows = None
        elif line.startswith(("Model:", "┃")) or "params:" in line:
            kept.append(" ".join(line.replace("┃", " ").split()))
    return "\n".join(kept)


def _compare_printed(want, got):
    """Printed text must match, numbers up to one unit in the last printed decimal."""
    want_lines, got_lines = want.splitlines(), got.splitlines()
    for n, (w, g) in enumerate(zip(want_lines + ["<end>"], got_lines + ["<end>"])):
        if w == g:
            continue
        wn, gn = _NUMBER.findall(w), _NUMBER.findall(g)
        same_words = _NUMBER.sub("#", w) == _NUMBER.sub("#", g) and len(wn) == len(gn)
        if same_words and all(_printed_close(a, b) for a, b in zip(wn, gn)):
            continue
        return [f"printed line {n}: {g!r} != keras {w!r}"]
    return []


def _printed_close(a, b):
    unit = 10.0 ** -len(a.split(".")[1].split("e")[0])
    return abs(float(a) - float(b)) <= max(unit * 1.0001, TOL * abs(float(a)))


def _matches(error, expected):
    if expected is None:
        return False
    kind, words = expected
    return type(error).__name__ == kind and words.lower() in str(error).lower()


def _symbolic(x):
    return type(x).__name__ == "KerasTensor"


def _dtype(x):
    return str(np.dtype(x.dtype)) if not isinstance(x.dtype, str) else x.dtype


def compare(a, b, exact, path):
    """The differences between a Keras value `a` and a kerax value `b`, as messages."""
    if isinstance(a, (types.ModuleType, types.FunctionType, type)):
        return []
    if a is None or isinstance(a, (bool, str)):
        return [] if a == b else [f"{path}: {b!r} != keras {a!r}"]
    if isinstance(a, (int, float, np.number)) and not _is_array(a):
        if not isinstance(b, (int, float, np.number)) and not _is_array(b):
            return [f"{path}: {type(b).__name__} != keras {type(a).__name__}"]
        if exact:
            ok = math.isclose(float(a), float(b), rel_tol=TOL, abs_tol=TOL)
        else:
            ok = math.isfinite(float(b)) or not math.isfinite(float(a))
        return [] if ok else [f"{path}: {b!r} != keras {a!r}"]
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return [f"{path}: {_brief(b)} != keras {_brief(a)}"]
        return [m for i, (x, y) in enumerate(zip(a, b))
                for m in compare(x, y, exact, f"{path}[{i}]")]
    if isinstance(a, dict):
        if not isinstance(b, dict) or sorted(map(str, a)) != sorted(map(str, b)):
            return [f"{path}: keys {_keys(b)} != keras {_keys(a)}"]
        return [m for k in a if not _auto_name(k, a[k], b[k])
                for m in compare(a[k], b[k], exact, f"{path}[{k!r}]")]
    if type(a).__name__ == "History":
        return compare(a.history, getattr(b, "history", None), exact, f"{path}.history")
    if hasattr(a, "get_weights") and hasattr(a, "weights"):
        return _compare_layer(a, b, exact, path)
    if _is_array(a):
        return _compare_array(a, b, exact, path)
    return []


def _auto_name(key, a, b):
    """A config's layer `name`: auto names count layers made so far in the session."""
    return key == "name" and isinstance(a, str) and isinstance(b, str)


def _compare_layer(a, b, exact, path):
    if not (hasattr(b, "weights") and hasattr(b, "get_weights")):
        return [f"{path}: {type(b).__name__} is not a layer (keras {type(a).__name__})"]
    if bool(getattr(a, "built", True)) != bool(getattr(b, "built", True)):
        return [f"{path}.built: {b.built} != keras {a.built}"]
    try:
        wb = [np.asarray(w) for w in b.weights]
    except Exception as e:  # noqa: BLE001 - reported as a difference
        return [f"{path}.weights raised {type(e).__name__}: {e}"]
    wa = [np.asarray(w) for w in a.weights]
    if [w.shape for w in wa] != [w.shape for w in wb]:
        return [f"{path} weight shapes: {[w.shape for w in wb]} != keras {[w.shape for w in wa]}"]
    return [m for i, (x, y) in enumerate(zip(wa, wb)) for m in compare(x, y, exact, f"{path}.w{i}")]


def _compare_array(a, b, exact, path):
    if not _is_array(b):
        return [f"{path}: {type(b).__name__} is not a tensor (keras {type(a).__name__})"]
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa != sb:
        return [f"{path}.shape: {sb} != keras {sa}"]
    if _dtype(a) != _dtype(b):
        return [f"{path}.dtype: {_dtype(b)} != keras {_dtype(a)}"]
    if _symbolic(a) or _symbolic(b):
        if _symbolic(a) != _symbolic(b):
            return [f"{path}: symbolic {_symbolic(b)} != keras {_symbolic(a)}"]
        return []
    va, vb = _concrete(a), _concrete(b)
    if exact and va is not None and vb is not None and va.dtype != object:
        if not np.allclose(va, vb, rtol=TOL, atol=TOL, equal_nan=True):
            err = float(np.max(np.abs(va.astype("float64") - vb.astype("float64"))))
            return [f"{path}: values differ from keras (max abs diff {err:.3g})"]
    return []


def _brief(x):
    return f"{type(x).__name__} of {len(x)}" if isinstance(x, (list, tuple)) else type(x).__name__


def _keys(x):
    return sorted(map(str, x)) if isinstance(x, dict) else type(x).__name__


def cell_params(cells):
    """pytest params for the cells, with skip / xfail(strict) / slow marks and stable ids."""
    params = []
    for i, cell in enumerate(cells):
        marks = []
        if cell.skip:
            marks.append(pytest.mark.skip(reason=cell.skip))
        if cell.slow:
            marks.append(pytest.mark.slow)
        if cell.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=cell.xfail))
        params.append(pytest.param(i, marks=marks, id=f"cell{i:02d}"))
    return params


def slow_selected(config):
    """False when the run deselects slow tests (`-m "not slow"`): slow cells then do not run.

    A slow cell is one whose later cells do not need what it binds (a training run, a big
    model), so the cells after it run the same without it.
    """
    return "not slow" not in (config.getoption("markexpr") or "")


def check(run, index):
    """Assert that cell `index` ran on kerax and matched Keras."""
    outcome = run.outcome(index)
    assert outcome is not None, "cell not run"
    assert outcome == "ok", outcome
