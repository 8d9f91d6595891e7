"""Reading a `format="jax"` export directory: checksums, signature, weights, endpoints.

This module needs only the standard library, numpy, jax and `kerax.errors` (no kerax
model code, no pickle, nothing from the directory is executed as Python; see `verify`
for the checks made before anything runs), except for a model whose first layers run on
the host: those are rebuilt from their `.keras` files with kerax's built-in host layers
(`kerax.export.host_prefix`).

The directory holds:

- `<endpoint>.jaxexport` per endpoint: a `jax.export` serialization (StableHLO, lowered
  for cpu, cuda and tpu) of `fn(weights, *inputs)` with a symbolic batch dimension;
- `variables.npz`: the weights (`weights` below) and variable collections, as arrays;
- `signature.json`: endpoint names, input/output names, shapes (`null` = any size),
  dtypes, structures, the weight names, and the kerax/jax versions;
- `checksums.json`: the sha256 of every other file, checked by `load`;
- `<endpoint>.host_<i>.keras` for a model whose first layers run on the host (strings):
  those layers, applied in NumPy before the program (see `host_prefix`).
"""

import glob
import hashlib
import os

import jax
import numpy as np
from jax import export as jax_export

from kerax.export import host_prefix, verify

SIGNATURE_FILE = "signature.json"
CHECKSUMS_FILE = "checksums.json"
VARIABLES_FILE = "variables.npz"
FORMAT_NAME = "kerax-jax-export"
FORMAT_VERSION = 1


def needs_flatbuffers(error):
    """`jax.export`'s missing-`flatbuffers` ImportError, with kerax's install hint."""
    return ImportError(f"{error}. jax.export serializes with the `flatbuffers` package: "
                       "`pip install flatbuffers` (or `pip install kerax[export]`).")


def sha256_of(path):
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _moved_aside_hint(dirpath):
    """Where an export killed while replacing `dirpath` left the previous export, if it did
    (`ExportArchive.write_out` moves it aside, renames the new one in, then deletes it)."""
    parent, base = os.path.split(os.path.abspath(dirpath))
    aside = glob.glob(os.path.join(glob.escape(parent), f".{glob.escape(base)}.*.tmp",
                                   "previous"))
    if not aside:
        return ""
    return (f" An export to this path was interrupted while replacing it; the previous export "
            f"is intact at '{sorted(aside)[-1]}'. Export again to the same path (the previous "
            f"export is put back first), or move that directory back to '{dirpath}'.")


def verify_checksums(dirpath):
    """Checks every file listed in `checksums.json`; returns the listing.

    Raises:
        ExportCorruptedError: (a `ValueError`) the manifest is unreadable, or a file is
            missing, or its sha256 differs from the recorded one.
    """
    manifest_path = os.path.join(dirpath, CHECKSUMS_FILE)
    if not os.path.exists(dirpath):
        raise FileNotFoundError(f"No export at '{dirpath}'.{_moved_aside_hint(dirpath)}")
    if not os.path.isfile(manifest_path):
        raise ValueError(
            f"'{dirpath}' is not a kerax jax export: it has no '{CHECKSUMS_FILE}'. Write "
            "one with `model.export(path, format=\"jax\")` or `ExportArchive.write_out`.")
    files = verify.read_json(dirpath, CHECKSUMS_FILE).get("files")
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise verify.corrupt(dirpath, f"'{CHECKSUMS_FILE}' has no \"files\" object mapping "
                                      "file names to sha256 digests")
    for name, expected in files.items():
        path = os.path.join(dirpath, name)
        if os.path.basename(name) != name or name in (".", ".."):
            raise verify.corrupt(dirpath, f"'{manifest_path}' lists '{name}', which is not a "
                                          "plain file name inside the export directory; the "
                                          "manifest is corrupt")
        if not os.path.isfile(path):
            raise verify.corrupt(dirpath, f"the file '{name}' listed in '{CHECKSUMS_FILE}' "
                                          "is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise verify.corrupt(
                dirpath, f"the file '{name}' has sha256 {actual}, expected {expected} (from "
                         f"'{CHECKSUMS_FILE}'); it was modified or replaced after export")
    return files


def _rebuild(structure, leaves):
    """Builds the nested list/dict `structure` (leaf = int index) from `leaves`."""
    if isinstance(structure, int):
        return leaves[structure]
    if isinstance(structure, dict):
        return {k: _rebuild(v, leaves) for k, v in structure.items()}
    return [_rebuild(v, leaves) for v in structure]


def _flatten(structure, value, where, out):
    """Flattens `value` in the order of `structure`, checking that the nesting matches."""
    if isinstance(structure, int):
        out[structure] = value
        return
    if isinstance(structure, dict):
        if not isinstance(value, dict) or set(value) != set(structure):
            got = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"{where}: expected a dict with keys {sorted(structure)}, "
                             f"received {got}.")
        for k, v in structure.items():
            _flatten(v, value[k], f"{where}['{k}']", out)
        return
    if not isinstance(value, (list, tuple)) or len(value) != len(structure):
        got = f"{len(value)} items" if isinstance(value, (list, tuple)) else type(value).__name__
        raise ValueError(f"{where}: expected a list of {len(structure)} inputs, received {got}.")
    for i, (s, v) in enumerate(zip(structure, value)):
        _flatten(s, v, f"{where}[{i}]", out)


def check_input(spec, value, endpoint):
    """Returns `value` as a numpy array of the spec's dtype, or raises a clear error.

    Raises:
        TypeError: the value cannot be converted safely to the input's dtype.
        ValueError: its rank or a fixed dimension differs from the input's shape, or
            integers do not fit the input's integer dtype.
    """
    name, shape, dtype = spec["name"], spec["shape"], np.dtype(spec["dtype"])
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"Endpoint '{endpoint}', input '{name}': expected an array of shape "
                         f"{shape_str(shape)}, received a ragged value ({e}).") from None
    if array.dtype != dtype and not (
            np.can_cast(array.dtype, dtype, "same_kind")
            or (array.dtype.kind in "iub" and dtype.kind in "iuf")
            or (array.dtype.kind == "b" and dtype.kind == "b")):
        raise TypeError(
            f"Endpoint '{endpoint}', input '{name}': expected dtype {dtype.name}, received "
            f"{array.dtype.name}. Pass numbers convertible to {dtype.name}.")
    if array.ndim != len(shape) or any(
            d is not None and d != a for d, a in zip(shape, array.shape)):
        raise ValueError(
            f"Endpoint '{endpoint}', input '{name}': expected shape {shape_str(shape)} "
            f"(None = any size), received {tuple(array.shape)}.")
    if dtype.kind in "iu" and array.dtype.kind in "iu" and array.size and (
            array.min() < np.iinfo(dtype).min or array.max() > np.iinfo(dtype).max):
        raise ValueError(
            f"Endpoint '{endpoint}', input '{name}': the values range from {array.min()} to "
            f"{array.max()}, outside {dtype.name}'s {np.iinfo(dtype).min} to "
            f"{np.iinfo(dtype).max}; they would wrap around. Pass values that fit.")
    return array.astype(dtype, copy=False)


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class Endpoint:
    """One exported function: call it with the inputs as the model was called.

    For a model whose first layers run on the host (`TextVectorization`, ...), the
    endpoint takes the raw inputs (strings) and applies those layers in NumPy first.
    """

    def __init__(self, name, exported, signature, weights, path="", host=None):
        self.name, self.path = name, path
        self.exported = exported
        self.signature = signature
        self._weights = weights
        self.host = host
        # compiled once per input shape: `exported.call` alone re-traces on every call
        self._call = jax.jit(exported.call)

    @property
    def inputs(self):
        """The input specs (before any host layers: dtype `string` for text): dicts
        with `name`, `shape` (None = any size), `dtype`."""
        if self.host is not None:
            return self.signature["host_prefix"]["inputs"]
        return self.signature["inputs"]

    @property
    def outputs(self):
        """The output specs: dicts with `name`, `shape`, `dtype`."""
        return self.signature["outputs"]

    def __call__(self, *args):
        flat = [None] * len(self.inputs)
        _flatten(self.signature["input_structure"], list(args),
                 f"Endpoint '{self.name}' arguments", flat)
        return self.call_flat(self.prepare(flat))

    def prepare(self, flat):
        """The flat inputs (in `inputs` order) as the program's checked arrays: host
        layers applied, then dtypes and shapes checked (see `check_input`)."""
        if self.host is not None:
            flat = self.host(flat, self.name)
        return [check_input(s, v, self.name) for s, v in zip(self.signature["inputs"], flat)]

    def call_flat(self, arrays):
        """Runs on already checked inputs (in `inputs` order); returns the output tree.

        Raises:
            ExportCorruptedError: the program fails to lower for these (valid) input
                shapes, which a program kerax's export wrote never does.
        """
        args = _rebuild(self.signature["input_structure"], arrays)
        try:
            return self._call(self._weights, *args)
        except (ValueError, TypeError) as e:  # lowering/refinement of a damaged program
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise verify.corrupt(
                self.path, f"endpoint '{self.name}' ('{self.signature['file']}') does not "
                           f"lower for valid inputs of shapes {shapes} ({type(e).__name__}: "
                           f"{str(e).strip().splitlines()[0][:200]}); the program is damaged "
                           "or not written by kerax's export") from e


class LoadedExport:
    """A reloaded export: each endpoint is a method (`.serve(x)`); see `load`."""

    def __init__(self, dirpath, signature, endpoints, collections):
        self.path = dirpath
        self.signature = signature
        self.endpoints = endpoints
        for name, endpoint in endpoints.items():
            setattr(self, name, endpoint)
        for name, arrays in collections.items():
            setattr(self, name, arrays)

    def __repr__(self):
        return f"<LoadedExport '{self.path}' endpoints={list(self.endpoints)}>"


def load(filepath):
    """Reloads a directory written by `model.export(path, format="jax")`.

    Every file's sha256 is checked first, then that the files agree with each other
    (see `kerax.export.verify`); the endpoints run the serialized StableHLO with the
    stored weights. Nothing is unpickled and no Python code from the files runs; a
    program calling native code other than jax's stable custom calls is refused.

    Args:
        filepath: the export directory.

    Returns:
        A `LoadedExport` whose endpoints are methods: `.serve(x)` for `model.export`.

    Raises:
        ExportCorruptedError: (a `ValueError`) a file is missing, modified, truncated,
            or not what kerax's export writes (or of another format version).
        ValueError: the directory is not an export.

    Example:
    >>> import numpy as np, kerax, tempfile, os
    >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m")
    >>> model.export(path, format="jax", verbose=False)
    >>> reloaded = kerax.export.load(path)
    >>> np.asarray(reloaded.serve(np.ones((5, 3), "float32"))).shape
    (5, 2)
    """
    dirpath = os.fspath(filepath)
    files = verify_checksums(dirpath)
    for name in (SIGNATURE_FILE, VARIABLES_FILE):
        if name not in files:
            raise verify.corrupt(dirpath, f"'{name}' is not covered by '{CHECKSUMS_FILE}'; "
                                          "the manifest is corrupt")
    signature = verify.read_json(dirpath, SIGNATURE_FILE)
    if signature.get("format") != FORMAT_NAME or signature.get("format_version") != FORMAT_VERSION:
        raise verify.corrupt(
            dirpath, f"'{SIGNATURE_FILE}' gives format {str(signature.get('format'))[:50]!r} "
                     f"version {str(signature.get('format_version'))[:20]}, expected "
                     f"{FORMAT_NAME!r} version {FORMAT_VERSION}: it is damaged, or written by "
                     "a kerax version that this one cannot read",
            fix="Export the model again with this kerax version")
    with verify.reading(dirpath, SIGNATURE_FILE):
        verify.check_names(dirpath, signature)
        weight_names = [str(n) for n in signature["weights"]]
        collections = {c: [str(n) for n in names]
                       for c, names in signature["variable_collections"].items()}
        specs = {name: (sig, sig["file"], _rebuild(sig["input_structure"],
                                                   list(range(len(sig["inputs"])))))
                 for name, sig in signature["endpoints"].items()}
    programs, avals = {}, None
    for name, (sig, file, args) in specs.items():
        if file not in files:
            raise verify.corrupt(dirpath, f"'{file}' is not covered by '{CHECKSUMS_FILE}'; "
                                          "the manifest is corrupt")
        with verify.reading(dirpath, file):
            with open(os.path.join(dirpath, file), "rb") as f:
                data = bytearray(f.read())
            try:
                exported = jax_export.deserialize(data)
            except ImportError as e:
                raise needs_flatbuffers(e) from e
            mine = verify.weight_avals(dirpath, name, exported, len(weight_names))
            if avals not in (None, mine):
                raise verify.corrupt(dirpath, f"endpoints '{name}' and '{next(iter(specs))}'"
                                              " take different weights")
            avals = mine
            verify.check_endpoint(dirpath, name, sig, exported, len(weight_names), args)
        programs[name] = exported
    names = weight_names + [n for c in collections.values() for n in c]
    arrays = verify.read_arrays(dirpath, VARIABLES_FILE, names, dict(zip(weight_names, avals)))
    weights = [jax.device_put(arrays[n]) for n in weight_names]  # moved once, not per call
    endpoints = {}
    for name, exported in programs.items():
        sig = specs[name][0]
        host = (host_prefix.read(dirpath, name, sig["host_prefix"], files, len(sig["inputs"]))
                if "host_prefix" in sig else None)
        endpoints[name] = Endpoint(name, exported, sig, weights, dirpath, host)
    return LoadedExport(dirpath, signature, endpoints,
                        {c: [arrays[n] for n in ns] for c, ns in collections.items()})
