"""Run a keras.io guide, ported cell by cell, on Keras 3 and on kerax, and compare.

A guide is a list of `Cell`s, each our own port of one guide cell's Keras idioms (written
for this suite, never the guide's text). Every cell runs twice, in two namespaces that
persist from cell to cell like a notebook: once where `import keras` (or `keras_core`)
gives Keras 3, once where it gives kerax; `tensorflow`, `tensorflow_datasets` and
`matplotlib.pyplot` give the offline stand-ins of `standins.py`. Both runs start each
cell (each part) from the same NumPy and Keras seeds, so data a cell draws with
`np.random` is the same on both sides.

Two runners share the cells, the namespaces and the comparisons:

- `GuideRun` (a cell is one source): after each cell, every name it bound (and the value
  of a trailing expression, as `_`) is compared across the two namespaces:
  arrays and variables (shape and dtype, values when the cell is `exact`), symbolic
  tensors (shape, dtype), layers and models (weight shapes, values when `exact`, `built`),
  `History` (metric names, epochs, values when `exact`), numbers, strings, configs key by
  key (a config's auto `name` excepted), and, where the cell says `stdout` / `summary`, what
  it printed (progress bars left out) or the name-free part of the `model.summary()`
  tables. `sync` names models whose Keras weights are copied into kerax's before the cell;
  `sync_fit` starts each kerax model's first `fit` of the cell from the weights the Keras
  model had at its first `fit`. A cell that fails on Keras itself (`keras_raises`) must
  fail on kerax with the same error type and message words, unless Keras' failure is a
  limitation of Keras on JAX that the guide does not mean (`keras_fails`: the guide's text
  runs on Keras' other backends); then kerax must run the cell (and pass `kerax_check`).
  Cells run in order whatever order their tests run in.
- `run_guide` (a cell is a list of parts): a cell is split only where the harness acts
  between statements (`Sync("model")`: copy Keras' current weights into kerax's object
  of that name) or replaces a data-loading / pretrained-weights statement (`StandIn`);
  after the cell its `check(k, x)` compares the two namespaces. A kerax error does not
  stop the run. A cell that fails on Keras itself (`keras_fails`) passes when kerax runs
  it (`kerax_check`) or fails the same way at the same statement; with a
  `keras_reference`, Keras runs that variant of the failing part instead and the cell is
  compared as any other.

Where a guide loads a dataset, cells use `offline(...)`, `offline_mnist()`,
`offline_cifar10()` or the stand-ins: small arrays with the same per-row shapes and dtypes.
"""

import ast
import builtins
import contextlib
import dataclasses
import io
import json
import math
import os
import re
import subprocess
import sys
import time
import traceback
import types

import jax
import numpy as np
import pytest

import keras
import kerax

from . import standins

TOL = 1e-4


# ------------------------------------------------------------------------ cells --
class Cell:
    """Our port of one code cell of a guide: its parts (one source for `GuideRun`; sources,
    `Sync` and `StandIn` for `run_guide`), and how it is run and compared.

    `GuideRun` options: `exact`, `sync`, `skip`, `xfail`, `ignore`, `slow`, `sync_fit`,
    `stdout`, `summary`, `keras_raises` (error type name, words in Keras' message),
    `keras_fails` + `kerax_check(x)` (Keras on JAX cannot run the guide's text; kerax must).
    `run_guide` options: `check(k, x)`, `keras_fails` (text of the error Keras 3 itself
    raises), `kerax_check(x)` (where Keras cannot run), `keras_reference` ({part index:
    source}: the variant Keras runs where the part fails with `keras_fails`).
    """

    def __init__(self, *parts, exact=False, sync=(), skip=None, xfail=None, ignore=(),
                 slow=False, sync_fit=False, stdout=False, summary=False, keras_raises=None,
                 check=None, keras_fails=None, kerax_check=None, keras_reference=None):
        self.parts = list(parts)
        self.exact, self.sync, self.skip, self.xfail = exact, tuple(sync), skip, xfail
        self.ignore, self.slow, self.sync_fit = tuple(ignore), slow, sync_fit
        self.stdout, self.summary, self.keras_raises = stdout, summary, keras_raises
        self.check, self.keras_fails, self.kerax_check = check, keras_fails, kerax_check
        self.keras_reference = keras_reference or {}

    @property
    def source(self):
        """The cell's one source (`GuideRun` cells)."""
        if len(self.parts) != 1 or not isinstance(self.parts[0], str):
            raise TypeError("a GuideRun cell is one source string; use run_guide for parts")
        return self.parts[0]


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



# ------------------------------------------------------------------- namespaces --
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
    # The same module name on both sides: a class a cell defines serializes with it.
    return {"__name__": "__guide__", "__builtins__": bi}



def compile_cell(source, name):
    """The cell's code; a final expression statement's value is kept as `_`, as a
    notebook shows it."""
    tree = ast.parse(source, name)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name("_", ast.Store())], value=last.value), last)
        ast.fix_missing_locations(tree)
    return compile(tree, name, "exec")


def _notebook_namespace(lib):
    ns = namespace(lib, None)
    ns.update(offline=offline, offline_mnist=offline_mnist, offline_cifar10=offline_cifar10)
    if lib is kerax:
        ns["__kerax__"] = True
    return ns


# ------------------------------------------- GuideRun: compare every name a cell binds --
class GuideRun:
    """The two namespaces of one guide, advanced cell by cell, with each cell's outcome."""

    def __init__(self, cells, tmp_path_factory, name, run_slow=True):
        self.cells = cells
        self.run_slow = run_slow
        # Fresh automatic names on both sides ("sequential", "dense_1", ...), as in a new
        # notebook, whatever other tests created before.
        keras.utils.clear_session()
        kerax.utils.clear_session()
        self.ns = (_notebook_namespace(keras), _notebook_namespace(kerax))
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
        code = compile_cell(cell.source, f"<guide cell {i}>")
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
            if cell.keras_fails and cell.keras_fails in f"{type(e).__name__}: {e}":
                return self._expect_kerax_runs(code, cell, i)
            if not _matches(e, cell.keras_raises):
                return f"the cell failed on Keras itself: {type(e).__name__}: {e}"
            return self._expect_kerax_raises(code, cell.keras_raises, i)
        if cell.keras_fails:
            return f"Keras ran the cell; the test expected {cell.keras_fails!r}"
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

    def _expect_kerax_runs(self, code, cell, i):
        """A cell Keras on JAX cannot run (a Keras limitation) must run on kerax."""
        try:
            self._exec(code, self.ns[1], self.dirs[1], i)
        except Exception as e:  # noqa: BLE001
            return f"kerax raised {type(e).__name__}: {e} (Keras fails with {cell.keras_fails!r})"
        try:
            if cell.kerax_check:
                cell.kerax_check(self.ns[1])
        except AssertionError as e:
            return f"kerax ran the cell, but its check failed: {e}"
        return "ok"

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


def results_on_8_devices(module):
    """Runs `python -m <module>` with 8 simulated CPU devices (JAX fixes the device count
    when it starts) and returns the JSON it printed after its "RESULTS " line."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               KERAS_BACKEND="jax")
    proc = subprocess.run([sys.executable, "-m", module], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "\nRESULTS " in proc.stdout, \
        (proc.stdout + proc.stderr)[-4000:]
    return json.loads(proc.stdout.split("\nRESULTS ", 1)[1])


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


# ---------------------------------------------- run_guide: parts, `Sync`, checks --
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


def _exec(source, ns, name, seed, lib):
    lib.utils.set_random_seed(seed)
    np.random.seed(seed)
    out = io.StringIO()
    ns.pop("_", None)
    with contextlib.redirect_stdout(out):
        exec(compile_cell(source, name), ns)
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
