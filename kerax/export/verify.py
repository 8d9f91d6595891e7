"""Checks on an export directory's files before anything from it runs (see `artifact`).

`kerax.export.load` reads files that may be damaged or written by someone else. The
sha256 manifest catches accidental damage; these checks make a file that passes it but
was not written by kerax's export (a rewritten manifest, a hand-edited signature) fail
with an `ExportCorruptedError` that names the file, instead of a `KeyError` deep in
jax, an allocation the size the file claims, or a program that calls native code:

- JSON files must parse to objects, every failure while parsing is reported per file;
- `variables.npz` members must be plain (uncompressed, non-object) arrays whose header
  is read and checked against the program's parameter shapes before any data is read;
- each program's argument structure, input and output specs must agree with
  `signature.json`, its only custom calls may be those jax guarantees stable (a Python
  callback or any other native target is refused), and it must lower (verify) for
  its symbolic shapes, so that a damaged program fails at load, not at the first call.

Only the standard library, numpy, jax and `kerax.errors` are imported.
"""

import contextlib
import json
import os
import re
import zipfile

import jax
import numpy as np

from kerax.errors import ExportCorruptedError

try:  # what `jax.export` itself allows when exporting (kerax never disables the check)
    from jax._src.export._export import (
        _CUSTOM_CALL_TARGETS_GUARANTEED_STABLE as STABLE_CUSTOM_CALLS)
except ImportError:  # pragma: no cover - a jax without the private name
    STABLE_CUSTOM_CALLS = frozenset({"shape_assertion", "Sharding", "SPMDFullToShardShape",
                                     "SPMDShardToFullShape"})

# Attributes of a reloaded export that an endpoint or collection name must not replace.
RESERVED_NAMES = frozenset({"path", "signature", "endpoints"})

_CUSTOM_CALL = re.compile(r'stablehlo\.custom_call\s*@("(?:[^"\\]|\\.)*"|[\w$.\-]+)')


def corrupt(dirpath, what, fix="Export the model again"):
    """The `ExportCorruptedError` for export `dirpath`: what is wrong, then the fix."""
    return ExportCorruptedError(f"Export '{dirpath}': {what}. {fix}.")


@contextlib.contextmanager
def reading(dirpath, name):
    """Reports any failure while parsing the file `name` as a corrupt export."""
    try:
        yield
    except (ExportCorruptedError, ImportError, MemoryError):
        raise
    except Exception as e:  # a parser's error on untrusted bytes: name the file
        detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise corrupt(dirpath, f"'{name}' is damaged or not written by kerax's export "
                               f"({type(e).__name__}: {detail})") from e


def read_json(dirpath, name):
    """The JSON object in file `name` (a list, a number or bad JSON is corrupt)."""
    with reading(dirpath, name):
        with open(os.path.join(dirpath, name), "rb") as f:
            value = json.loads(f.read())
    if not isinstance(value, dict):
        raise corrupt(dirpath, f"'{name}' holds a JSON {type(value).__name__}; expected "
                               "an object")
    return value


def check_names(dirpath, signature):
    """Endpoint and collection names must be identifiers that no attribute already has."""
    seen = set(RESERVED_NAMES)
    for kind, names in (("endpoint", signature["endpoints"]),
                        ("variable collection", signature["variable_collections"])):
        for name in names:
            if not (isinstance(name, str) and name.isidentifier()
                    and not name.startswith("_") and name not in seen):
                raise corrupt(dirpath, f"signature.json names the {kind} {name!r}; expected "
                                       "a Python identifier not starting with '_' and not "
                                       f"one of {sorted(seen)}")
            seen.add(name)
    if not signature["endpoints"]:
        raise corrupt(dirpath, "signature.json lists no endpoint")


def read_arrays(dirpath, filename, names, expected):
    """Reads the arrays `names` of the `.npz` file `filename`, headers checked first.

    Args:
        expected: `{name: (shape, dtype)}` for the arrays whose shape the program fixes.

    Returns:
        `{name: np.ndarray}`.
    """
    path = os.path.join(dirpath, filename)
    size = os.path.getsize(path)
    arrays = {}
    with reading(dirpath, filename), zipfile.ZipFile(path) as zf:
        for name in names:
            info = zf.getinfo(f"{name}.npy")
            if info.compress_type != zipfile.ZIP_STORED or info.compress_size > size:
                raise corrupt(dirpath, f"'{filename}': the array '{name}' is compressed or "
                                       "claims more bytes than the file has; kerax writes "
                                       "plain arrays")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise corrupt(dirpath, f"'{filename}': the array '{name}' has .npy "
                                           f"version {version}; expected 1.0 or 2.0")
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(f)
            if dtype.hasobject or dtype.itemsize * int(np.prod(shape)) > info.file_size:
                raise corrupt(dirpath, f"'{filename}': the array '{name}' of shape {shape} "
                                       f"and dtype {dtype} is an object array or larger than "
                                       f"its {info.file_size} bytes")
            if name in expected and (tuple(shape), dtype) != expected[name]:
                want_shape, want_dtype = expected[name]
                raise corrupt(dirpath, f"'{filename}': the weight '{name}' has shape "
                                       f"{tuple(shape)} and dtype {dtype}; the exported "
                                       f"program expects {want_shape} {want_dtype}")
            with zf.open(info) as f:
                arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays


def weight_avals(dirpath, name, exported, n_weights):
    """The program's parameter `(shape, dtype)`s, the first `n_weights` arguments."""
    avals = exported.in_avals[:n_weights]
    if len(avals) != n_weights or not all(
            all(isinstance(d, int) for d in a.shape) for a in avals):
        raise corrupt(dirpath, f"endpoint '{name}': the program takes "
                               f"{len(exported.in_avals)} arguments, which do not start with "
                               f"the {n_weights} weights signature.json lists")
    return [(tuple(a.shape), np.dtype(a.dtype)) for a in avals]


def check_endpoint(dirpath, name, sig, exported, n_weights, args):
    """`signature.json`'s entry for endpoint `name` must describe the program `exported`.

    Args:
        args: the endpoint's `input_structure` rebuilt with leaves `0..n-1`.
    """
    where = f"endpoint '{name}' ('{sig['file']}')"
    n = len(sig["inputs"])
    if jax.tree_util.tree_leaves(args) != list(range(n)):
        raise corrupt(dirpath, f"{where}: signature.json's input structure does not hold "
                               f"each of its {n} inputs once")
    tree = jax.tree_util.tree_structure(((list(range(n_weights)), *args), {}))
    if tree != exported.in_tree:
        raise corrupt(dirpath, f"{where}: signature.json's inputs {tree} do not match the "
                               f"program's arguments {exported.in_tree}")
    for kind, specs, avals in (("input", sig["inputs"], exported.in_avals[n_weights:]),
                               ("output", sig["outputs"], exported.out_avals)):
        if len(specs) != len(avals):
            raise corrupt(dirpath, f"{where}: signature.json lists {len(specs)} {kind}s, "
                                   f"the program has {len(avals)}")
        for i, (spec, aval) in enumerate(zip(specs, avals)):
            if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                    and isinstance(spec.get("shape"), list)
                    and isinstance(spec.get("dtype"), str)):
                raise corrupt(dirpath, f"{where}: signature.json's {kind} {i} is "
                                       f"{str(spec)[:100]}; expected an object with a "
                                       "\"name\", a \"shape\" list and a \"dtype\"")
            shape = [d if isinstance(d, int) else None for d in aval.shape]
            dtype = jax.dtypes.canonicalize_dtype(np.dtype(spec["dtype"]))
            if list(spec["shape"]) != shape or dtype != np.dtype(aval.dtype):
                raise corrupt(dirpath, f"{where}: signature.json gives the {kind} "
                                       f"'{spec['name']}' shape {spec['shape']} and dtype "
                                       f"{spec['dtype']}; the program has {shape} "
                                       f"{np.dtype(aval.dtype)}")
    check_custom_calls(dirpath, where, exported)
    args, kwargs = jax.tree_util.tree_unflatten(
        exported.in_tree, [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in exported.in_avals])
    jax.jit(exported.call).lower(*args, **kwargs)  # the MLIR verifier (nothing runs)


def check_custom_calls(dirpath, where, exported):
    """Refuses a program calling native code other than jax's stable custom calls."""
    text = exported.mlir_module()
    targets = [t.strip('"') for t in _CUSTOM_CALL.findall(text)]
    unreadable = text.count("stablehlo.custom_call") != len(targets)
    unknown = sorted(set(targets) - set(STABLE_CUSTOM_CALLS))
    if unknown or unreadable:
        raise corrupt(dirpath, f"{where} calls native code kerax's export never writes "
                               f"(custom call targets {unknown or 'that cannot be read'}; "
                               "jax.export only writes the stable ones, and running it "
                               "could execute code named by the file)",
                      fix="Do not load this file. Export the model again from its source")
