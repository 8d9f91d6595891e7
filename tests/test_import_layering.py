"""kerax's packages stack in one direction (DESIGN.md section 7), with no import cycle.

The declared order, bottom to top; a module may import its own package, a package on
its own level, or one below -- never one above, not even inside a function::

    errors, tree, serialization          the vocabulary everything shares
    backend                              config, dtypes, KerasTensor, apply scope, state
    utils                                naming, progbar, file and dataset helpers
    ops, random, dtype_policies,         functions over arrays; the objects layers are
      quantizers, initializers,          configured with
      activations,
      regularizers, constraints
    layers                               Layer, symbolic calls, every layer
    losses, metrics, optimizers,         what a training step is made of
      distribution
    checkpoint                           array files and checkpoint managers
    callbacks                            Callback, CallbackList, History, the loggers
    trainer                              compiled steps, the fit loop, data adapters
    saving                               weights files, model configs, `save_model`
    models                               Model, Sequential, Functional, cloning
    checkpoint callbacks and facades     OrbaxCheckpoint, the `kerax.callbacks` namespace,
                                         `kerax.config`, `mixed_precision`, `datasets`
    tuner                                hyperparameter search (`import kerax.tuner as kt`)
    kerax                                the top-level namespace

A package's `__init__` is a public namespace: Python runs it whenever one of its modules
is imported, so its own imports count as the package's. `kerax.callbacks` is the one
package split in two: its checkpointing callbacks write model configs (saving) and so sit
above `models`, while `Callback` and the loggers sit below the trainer that calls them.

Function-level `kerax` imports are counted too, and kept to the few that an optional
dependency or a documented facade needs: a wrong-way import inside a function is still a
wrong-way import, it only fails later (when the code path runs) instead of at import.

The last test imports every module as a fresh interpreter would (see
`_FRESH_IMPORTS`), so a module-level import cycle that breaks an import fails here.
"""

import ast
import collections
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
KERAX = ROOT / "kerax"

# Bottom to top. A node is a package (`kerax.x`) or a top-level module (`kerax.config`).
LEVELS = [
    ("kerax.errors", "kerax.tree", "kerax.serialization", "kerax._exports"),
    ("kerax.backend",),
    ("kerax.utils", "kerax.visualization"),
    ("kerax.ops", "kerax.random", "kerax.dtype_policies", "kerax.quantizers",
     "kerax.initializers",
     "kerax.activations", "kerax.regularizers", "kerax.constraints"),
    ("kerax.layers", "kerax.preprocessing"),
    ("kerax.losses", "kerax.metrics", "kerax.optimizers", "kerax.distribution"),
    ("kerax.checkpoint",),
    ("kerax.callbacks",),
    ("kerax.trainer",),
    ("kerax.saving",),
    ("kerax.models",),
    ("kerax.callbacks:checkpointing", "kerax.config", "kerax.mixed_precision",
     "kerax.datasets", "kerax.export", "kerax.serve", "kerax.applications",
     "kerax.utils:feature_space"),
    ("kerax.tuner",),
    ("kerax",),
]

# Modules that belong to another node than their package's (see the docstring).
NODE_OF_MODULE = {
    "kerax.callbacks": "kerax.callbacks:checkpointing",  # the namespace lists them all
    "kerax.callbacks.orbax_checkpoint": "kerax.callbacks:checkpointing",
    # FeatureSpace is made of layers and saves `.keras` files; kerax/__init__.py binds it
    # into the `kerax.utils` namespace (`utils.FeatureSpace = ...`), which never imports it.
    "kerax.utils.feature_space": "kerax.utils:feature_space",
    "kerax.utils.feature_space_features": "kerax.utils:feature_space",
}

# Permanent exceptions: (importing module, imported module) -> why. Keep this short.
ALLOWED_UPWARD = {}

# At most this many function-level `kerax` import statements (each one a dependency
# found only when its code path runs). Lower it as they go; never raise it.
MAX_FUNCTION_LEVEL_IMPORTS = 2


def _modules():
    out = {}
    for path in sorted(KERAX.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _node(module):
    if module in NODE_OF_MODULE:
        return NODE_OF_MODULE[module]
    return ".".join(module.split(".")[:2])


def _imports():
    """(importer, imported module, line, inside a function) for every `kerax` import."""
    rows = []
    for name, path in MODULES.items():
        is_package = path.name == "__init__.py"

        def targets(node):
            if isinstance(node, ast.Import):
                return [a.name for a in node.names]
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            # `from kerax import ops` imports the module `kerax.ops`.
            return [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                    for a in node.names]

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in targets(child):
                        if target == "kerax" or target.startswith("kerax."):
                            rows.append((name, target, child.lineno, in_function))
                visit(child, inside)

        visit(ast.parse(path.read_text()), False)
    return rows


IMPORTS = _imports()
LEVEL = {node: i for i, nodes in enumerate(LEVELS) for node in nodes}


def _allowed(importer, imported):
    return (importer, imported) in ALLOWED_UPWARD


def test_every_package_has_a_level():
    missing = sorted({_node(m) for m in MODULES} - set(LEVEL))
    assert not missing, f"add these packages to LEVELS (in DESIGN.md's order): {missing}"


def test_no_import_goes_up_the_layers():
    wrong = [
        f"{MODULES[a].relative_to(ROOT)}:{line}: {_node(a)} imports {b} ({_node(b)}, "
        f"{'inside a function' if local else 'at module level'})"
        for a, b, line, local in IMPORTS
        if LEVEL[_node(b)] > LEVEL[_node(a)] and not _allowed(a, b)
    ]
    assert not wrong, (
        "imports that go up the package layers (move the code to the package where it "
        "belongs):\n" + "\n".join(wrong))


def _cycles(edges):
    """The strongly connected components (more than one node) of a graph (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_temporary_exception_is_still_needed():
    """An exception whose import is gone must leave the allow-lists (they only shrink)."""
    used = {(a, b) for a, b, _, _ in IMPORTS}
    stale = sorted(pair for pair in ALLOWED_UPWARD if pair not in used)
    assert not stale, f"remove these from the allow-lists, nothing imports them so: {stale}"


def test_no_package_cycle():
    edges = collections.defaultdict(set)
    for a, b, _, _ in IMPORTS:
        if _node(a) != _node(b) and not _allowed(a, b):
            edges[_node(a)].add(_node(b))
    cycles = _cycles(edges)
    assert not cycles, (
        f"package import cycles (each list imports itself through its members): {cycles}")


def test_function_level_imports_stay_few():
    local = sorted({f"{MODULES[a].relative_to(ROOT)}:{line}"
                    for a, _, line, inside in IMPORTS if inside})
    assert len(local) <= MAX_FUNCTION_LEVEL_IMPORTS, (
        f"{len(local)} `kerax` imports inside functions (at most "
        f"{MAX_FUNCTION_LEVEL_IMPORTS}); import at module level, or move the code to the "
        "package where it belongs:\n" + "\n".join(local))


# `python -c "import kerax.a.b"` first runs `kerax/__init__.py` (Python imports parent
# packages first), so it is `import kerax` followed by `import kerax.a.b` if that module
# is not loaded yet. One fresh interpreter that imports `kerax` therefore tests every
# module `kerax` loads exactly as a fresh `import kerax.a.b` would; each module it does not
# load is then imported in a forked child of that interpreter (a fresh state for it).
_FRESH_IMPORTS = textwrap.dedent("""
    import os, sys, traceback
    import kerax
    rest = [name for name in sys.argv[1:] if name not in sys.modules]
    failed = []
    for name in rest:
        pid = os.fork()
        if pid == 0:
            try:
                __import__(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        if os.waitpid(pid, 0)[1]:
            failed.append(name)
    print("FAILED:" + ",".join(failed))
""")


def test_every_module_imports_in_a_fresh_interpreter():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_IMPORTS, *sorted(MODULES)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"`import kerax` fails:\n{result.stderr[-4000:]}"
    failed = result.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert failed == "", f"these modules fail to import on their own: {failed}\n" + (
        result.stderr[-4000:])
