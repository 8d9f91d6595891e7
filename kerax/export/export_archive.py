"""`ExportArchive`: Keras 3's export API, writing a `jax.export` artifact (no TensorFlow).

Keras' `ExportArchive` writes a SavedModel; kerax writes the directory described in
`kerax.export.artifact`: one multi-platform StableHLO program per endpoint, the weights
beside it as arrays (inputs of the program, not constants), a JSON signature, and the
sha256 of every file.
"""

import importlib.metadata
import json
import os
import shutil
import tempfile

import jax
import numpy as np
from jax import export as jax_export

from kerax.backend.keras_tensor import KerasTensor
from kerax.export import artifact, host_prefix
from kerax.export.verify import RESERVED_NAMES
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.saving import saving_lib

PLATFORMS = ("cpu", "cuda", "tpu")


class ExportArchive:
    """Writes inference endpoints of tracked layers/models as a `jax.export` artifact.

    As Keras 3's `ExportArchive` (same methods and arguments); the artifact is reloaded
    with `kerax.export.load(path)` (or plain `jax.export`, see `docs/export.md`) and
    served with `python -m kerax.serve`.

    Example:
    >>> import numpy as np, kerax, tempfile, os
    >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(4),
    ...                           kerax.layers.Dense(2)])
    >>> archive = kerax.export.ExportArchive()
    >>> archive.track(model)
    >>> spec = kerax.InputSpec(shape=(None, 3), dtype="float32")
    >>> _ = archive.add_endpoint("serve", model.call, input_signature=[spec])
    >>> embed = lambda x: model.layers[0](x)
    >>> _ = archive.add_endpoint("embed", embed, input_signature=[spec])
    >>> path = os.path.join(tempfile.mkdtemp(), "m")
    >>> archive.write_out(path, verbose=False)
    >>> reloaded = kerax.export.load(path)
    >>> np.asarray(reloaded.embed(np.ones((2, 3), "float32"))).shape
    (2, 4)
    """

    def __init__(self):
        self._tracked = []
        self._endpoints = {}
        self._collections = {}
        self._host = {}  # endpoint -> (model, HostPrefix): layers run on the host first

    # ----------------------------------------------------------------- Keras' API --
    def track(self, resource):
        """Tracks the variables of a built layer or model (they become the weights).

        Args:
            resource: a built `kerax.Layer` or `kerax.Model`.
        """
        if not isinstance(resource, Layer):
            raise ValueError(
                "ExportArchive.track: expected a kerax Layer or Model, received "
                f"{type(resource).__name__}. Track the layer or model whose variables "
                "the endpoints use.")
        if resource._variables is None:
            raise ValueError(
                f"ExportArchive.track: '{resource.name}' is not built yet, so it has no "
                "variables to export. Call it on an input (or `build`) first.")
        if all(r is not resource for r in self._tracked):
            self._tracked.append(resource)

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        """Registers the endpoint `name`: `fn` lowered for `input_signature`.

        Args:
            name: the endpoint's name (the method of the reloaded object).
            fn: a callable using tracked layers/models (a model, `model.call`, a lambda).
                A layer or a bound method of one is tracked automatically.
            input_signature: a list with one entry per positional argument of `fn`; each
                a structure (list/dict) of `kerax.InputSpec`, `jax.ShapeDtypeStruct`,
                `KerasTensor` or array. `None` dimensions become symbolic (any size).
                Defaults to the model's own inputs when `fn` is a tracked model's call.
                For a model whose first layers run on the host (`TextVectorization`,
                `StringLookup`, ...), leave it `None`: those layers are saved beside the
                program and applied to the raw inputs when the endpoint is called.
            **kwargs: `platforms` (default `("cpu", "cuda", "tpu")`).

        Returns:
            `fn` wrapped as a pure function `(weights, *inputs) -> outputs`.
        """
        platforms = tuple(kwargs.pop("platforms", PLATFORMS))
        if kwargs:
            raise ValueError(f"ExportArchive.add_endpoint: unknown arguments {sorted(kwargs)};"
                             " the jax format accepts `platforms` only.")
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"ExportArchive.add_endpoint: the name must be a Python "
                             f"identifier not starting with '_' (it becomes a method), "
                             f"received {name!r}.")
        if name in self._endpoints or name in self._collections or name in RESERVED_NAMES:
            raise ValueError(f"ExportArchive.add_endpoint: the name '{name}' is already "
                             "taken by an endpoint, a variable collection or an attribute "
                             f"of the reloaded export ({sorted(RESERVED_NAMES)}). Use "
                             "another name.")
        owner = fn if isinstance(fn, Layer) else getattr(fn, "__self__", None)
        if isinstance(owner, Layer):
            self.track(owner)
        if not self._tracked:
            raise ValueError("ExportArchive.add_endpoint: no layer or model is tracked. "
                             "Call `archive.track(model)` first.")
        direct = isinstance(owner, Layer) and (fn is owner or getattr(fn, "__func__", None)
                                               in (type(owner).call, type(owner).__call__))
        host, input_signature = (host_prefix.of_model(owner, input_signature) if direct
                                 else (None, input_signature))
        if input_signature is None:
            if not isinstance(owner, Layer):
                raise ValueError(
                    f"ExportArchive.add_endpoint('{name}'): `input_signature` is required "
                    "when `fn` is not a model or a model's method, e.g. "
                    "`input_signature=[kerax.InputSpec(shape=(None, 3), dtype=\"float32\")]`.")
            input_signature = get_input_signature(owner)
        if not isinstance(input_signature, (list, tuple)):
            raise ValueError(f"ExportArchive.add_endpoint('{name}'): `input_signature` must "
                             "be a list with one entry per positional argument of `fn`, "
                             f"received {type(input_signature).__name__}.")
        self._endpoints[name] = (self._pure(fn, owner), list(input_signature), platforms)
        if host is not None:
            self._host[name] = (owner, host)
        return self._endpoints[name][0]

    def track_and_add_endpoint(self, name, resource, input_signature, **kwargs):
        """Tracks `resource` and registers `name` as its inference call."""
        self.track(resource)
        return self.add_endpoint(name, resource, input_signature, **kwargs)

    def add_variable_collection(self, name, variables):
        """Stores `variables` (variables or arrays) to read back as `reloaded.<name>`."""
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError("ExportArchive.add_variable_collection: the name must be a "
                             f"Python identifier not starting with '_', received {name!r}.")
        if name in self._endpoints or name in RESERVED_NAMES:
            raise ValueError(f"ExportArchive.add_variable_collection: the name '{name}' is "
                             "taken by an endpoint or an attribute of the reloaded export "
                             f"({sorted(RESERVED_NAMES)}). Use another name.")
        if not isinstance(variables, (list, tuple, set)):
            raise ValueError("ExportArchive.add_variable_collection: expected a list, tuple "
                             f"or set of variables, received {type(variables).__name__}.")
        self._collections[name] = [np.asarray(v) for v in variables]

    def write_out(self, filepath, options=None, verbose=True):
        """Writes the artifact directory (replacing it; written atomically).

        Args:
            filepath: the directory to write.
            options: unused (Keras' SavedModel options); must be `None`.
            verbose: print the endpoints and their signatures.
        """
        if options is not None:
            raise ValueError("ExportArchive.write_out: `options` are SavedModel options; "
                             "the jax format takes none. Pass `options=None`.")
        if not self._endpoints:
            raise ValueError("ExportArchive.write_out: no endpoint was added. Call "
                             "`add_endpoint(name, fn, input_signature)` first.")
        filepath = os.fspath(filepath)
        names, weights = self._weights()
        arrays = {f"w{i}": w for i, w in enumerate(weights)}
        collections = {}
        for cname, values in self._collections.items():
            collections[cname] = [f"c_{cname}_{i}" for i in range(len(values))]
            arrays.update(zip(collections[cname], values))
        signature = {"format": artifact.FORMAT_NAME, "format_version": artifact.FORMAT_VERSION,
                     "kerax_version": _kerax_version(), "jax_version": jax.__version__,
                     "weights": list(arrays)[:len(weights)], "weight_paths": names,
                     "variable_collections": collections, "endpoints": {}}
        parent = os.path.dirname(os.path.abspath(filepath))
        base = os.path.basename(os.path.abspath(filepath))
        os.makedirs(parent, exist_ok=True)
        _put_back_previous(filepath, parent, base)
        saving_lib.remove_stale_temporaries(parent, base)  # of killed writes
        tmp = tempfile.mkdtemp(prefix=saving_lib.temporary_prefix(base), suffix=".tmp",
                               dir=parent)
        try:
            w_specs = [jax.ShapeDtypeStruct(w.shape, w.dtype) for w in weights]
            for ename, (pure, specs, platforms) in self._endpoints.items():
                model, host = self._host.get(ename, (None, None))
                with host_prefix.running_on_host(model):
                    exported, sig = lower_endpoint(ename, pure, w_specs, specs, platforms)
                if host is not None:
                    sig["host_prefix"] = host_prefix.write(host, tmp, ename)
                try:
                    data = exported.serialize()
                except ImportError as e:
                    raise artifact.needs_flatbuffers(e) from e
                with open(os.path.join(tmp, sig["file"]), "wb") as f:
                    f.write(data)
                signature["endpoints"][ename] = sig
            np.savez(os.path.join(tmp, artifact.VARIABLES_FILE), **arrays)
            with open(os.path.join(tmp, artifact.SIGNATURE_FILE), "w") as f:
                json.dump(signature, f, indent=1)
            files = {n: artifact.sha256_of(os.path.join(tmp, n)) for n in sorted(os.listdir(tmp))}
            with open(os.path.join(tmp, artifact.CHECKSUMS_FILE), "w") as f:
                json.dump({"algorithm": "sha256", "files": files}, f, indent=1)
            _swap_in(tmp, filepath, parent, base)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if verbose:
            for ename, sig in signature["endpoints"].items():
                ins = ", ".join(f"{s['name']}: {s['dtype']}{artifact.shape_str(s['shape'])}"
                                for s in sig.get("host_prefix", sig)["inputs"])
                outs = ", ".join(f"{s['name']}: {s['dtype']}{artifact.shape_str(s['shape'])}"
                                 for s in sig["outputs"])
                host = "".join(f", then {step['class_name']} '{step['layer']}' on the host"
                               for step in sig.get("host_prefix", {}).get("steps", []))
                print(f"Endpoint '{ename}': ({ins}) -> ({outs}){host}")
            print(f"Saved the artifact at '{filepath}' ({len(weights)} weight arrays).")

    # ---------------------------------------------------------------- internals --
    def _weights(self):
        names, leaves = [], []
        for r in self._tracked:
            flat = jax.tree_util.tree_flatten_with_path(r._variables)[0]
            for path, leaf in flat:
                names.append(r.name + "/" + "/".join(_key(k) for k in path))
                leaves.append(np.asarray(leaf))
        return names, leaves

    def _pure(self, fn, owner):
        return inference_function(fn, owner, list(self._tracked))


def _put_back_previous(filepath, parent, base):
    """After an export killed inside `_swap_in` (the previous export moved aside, the new one
    not yet renamed in), puts the previous export back at `filepath`, before the killed
    export's temporaries are removed."""
    if os.path.lexists(filepath):
        return
    for stale in reversed(saving_lib.stale_temporaries(parent, base)):
        previous = os.path.join(stale, "previous")
        if os.path.isdir(previous) and not os.path.islink(previous):
            os.replace(previous, filepath)
            return


def _swap_in(tmp, filepath, parent, base):
    """Renames the written directory `tmp` to `filepath`; a previous export there is moved
    aside first and deleted last, so a failure (or a kill) never loses both."""
    if not os.path.isdir(filepath):
        os.replace(tmp, filepath)
        return
    old = tempfile.mkdtemp(prefix=saving_lib.temporary_prefix(base), suffix=".tmp",
                           dir=parent)
    os.replace(filepath, os.path.join(old, "previous"))
    try:
        os.replace(tmp, filepath)
    except BaseException:
        os.replace(os.path.join(old, "previous"), filepath)
        os.rmdir(old)
        raise
    shutil.rmtree(old, ignore_errors=True)


def inference_function(fn, owner, tracked):
    """`fn` as a pure `(weights, *args) -> outputs`: the `tracked` layers' variables
    (flattened in order, as `weights`) are substituted while `fn` runs (inference mode)."""
    direct = isinstance(owner, Layer) and (
        fn is owner or getattr(fn, "__func__", None) in (
            type(owner).call, type(owner).__call__))

    def pure(weights, *args):
        trees, start = [], 0
        for r in tracked:
            treedef = jax.tree_util.tree_structure(r._variables)
            n = treedef.num_leaves
            trees.append(jax.tree_util.tree_unflatten(treedef, weights[start:start + n]))
            start += n
        if direct:
            return owner.apply(trees[tracked.index(owner)], *args, training=False)[0]
        saved = [r._variables for r in tracked]
        try:
            for r, tree in zip(tracked, trees):
                r.variables = tree
            return fn(*args)
        finally:
            for r, tree in zip(tracked, saved):
                r.variables = tree
    return pure


def get_input_signature(model):
    """Keras' `get_input_signature`: one spec structure per positional model input."""
    if not isinstance(model, Layer) or model._variables is None:
        raise ValueError(
            f"Cannot export '{getattr(model, 'name', model)}': it is not built. Call it on "
            "an input once, or pass `input_signature`.")
    def from_tensors(struct):
        return jax.tree_util.tree_map(
            lambda t: InputSpec(shape=(None,) + tuple(t.shape[1:]), dtype=t.dtype,
                                name=t._keras_history[0].name),
            struct, is_leaf=lambda t: isinstance(t, KerasTensor))
    struct = getattr(model, "_inputs_struct", None)
    if struct is not None:  # Functional: one positional argument, the inputs' structure
        return [from_tensors(struct)]
    if model.__dict__.get("_input_layer") is not None:  # Sequential started with `Input`
        return from_tensors(list(model.inputs))
    specs = model.__dict__.get("_init_specs")
    if not specs:
        raise ValueError(f"Cannot export '{model.name}': its input shapes are unknown. "
                         "Pass `input_signature`.")
    float_dtype = getattr(model, "input_dtype", None) or model.compute_dtype

    def spec(s):
        dtype = float_dtype if np.issubdtype(s.dtype, np.floating) else s.dtype
        return InputSpec(shape=(None,) + tuple(s.shape[1:]), dtype=dtype)
    return [jax.tree_util.tree_map(spec, s) for s in specs]


def lower_endpoint(name, pure, w_specs, input_signature, platforms):
    """Exports `pure` with symbolic None dims; returns `(Exported, signature dict)`."""
    scope = jax_export.SymbolicScope()
    leaves, treedef = jax.tree_util.tree_flatten(
        input_signature, is_leaf=lambda s: not isinstance(s, (list, tuple, dict)))
    inputs, specs, extra = [], [], [0]

    def symbolic(shape, dtype):
        dims = []
        for axis, d in enumerate(shape):
            if d is None and axis == 0:
                dims.append("batch")
            elif d is None:
                extra[0] += 1
                dims.append(f"d{extra[0]}")
            else:
                dims.append(str(int(d)))
        return jax.ShapeDtypeStruct(
            jax_export.symbolic_shape(", ".join(dims), scope=scope) if dims else (), dtype)

    for i, leaf in enumerate(leaves):
        shape, dtype, in_name = spec_fields(leaf, name, i)
        specs.append(symbolic(shape, dtype))
        inputs.append({"name": in_name, "shape": [None if d is None else int(d) for d in shape],
                       "dtype": np.dtype(dtype).name})
    args = jax.tree_util.tree_unflatten(treedef, specs)
    try:
        exported = jax_export.export(jax.jit(pure), platforms=platforms)(w_specs, *args)
    except Exception as e:
        raise ValueError(
            f"Exporting endpoint '{name}' failed while tracing with symbolic dimensions "
            f"(None in the input signature): {type(e).__name__}: {e}. Give fixed sizes to "
            "the dimensions the model cannot leave free (e.g. RNN time steps).") from e
    out_leaves = exported.out_avals
    out_struct = _structure(jax.tree_util.tree_unflatten(exported.out_tree,
                                                         list(range(len(out_leaves)))))
    out_names = _leaf_names(out_struct, "output")
    outputs = [{"name": n, "shape": [d if isinstance(d, int) else None for d in a.shape],
                "dtype": np.dtype(a.dtype).name} for n, a in zip(out_names, out_leaves)]
    for i, spec in enumerate(inputs):
        if spec["name"] is None:
            spec["name"] = _leaf_names(_structure(jax.tree_util.tree_unflatten(
                treedef, list(range(len(leaves))))), "input")[i]
    sig = {"file": f"{name}.jaxexport", "platforms": list(platforms), "inputs": inputs,
           "outputs": outputs, "input_structure": _structure(jax.tree_util.tree_unflatten(
               treedef, list(range(len(leaves))))), "output_structure": out_struct}
    return exported, sig


def spec_fields(leaf, endpoint, i):
    if isinstance(leaf, InputSpec):
        if leaf.shape is None or leaf.dtype is None:
            raise ValueError(f"Endpoint '{endpoint}': input {i} is an InputSpec without "
                             "`shape` or `dtype`; give both, e.g. "
                             "`InputSpec(shape=(None, 3), dtype=\"float32\")`.")
        return tuple(leaf.shape), leaf.dtype, leaf.name
    if isinstance(leaf, KerasTensor):
        return (None,) + tuple(leaf.shape[1:]), leaf.dtype, None
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), leaf.dtype, getattr(leaf, "name", None)
    raise ValueError(f"Endpoint '{endpoint}': input {i} of the input signature is a "
                     f"{type(leaf).__name__}; expected a kerax.InputSpec, "
                     "jax.ShapeDtypeStruct, KerasTensor or array.")


def _structure(tree):
    """A pytree of int leaves as JSON-able nested lists/dicts (tuples become lists)."""
    if isinstance(tree, int):
        return tree
    if isinstance(tree, dict):
        return {str(k): _structure(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_structure(v) for v in tree]
    raise ValueError(f"Cannot export a {type(tree).__name__} in the inputs or outputs; "
                     "use arrays in lists, tuples or dicts.")


def _leaf_names(structure, prefix):
    """Names for the leaves of a structure: dict keys where present, else `prefix_i`."""
    names = {}

    def walk(s, key):
        if isinstance(s, int):
            names[s] = key
        elif isinstance(s, dict):
            for k, v in s.items():
                walk(v, k)
        else:
            for v in s:
                walk(v, None)
    walk(structure, None)
    n = len(names)
    return [names[i] if names[i] is not None else (prefix if n == 1 else f"{prefix}_{i}")
            for i in range(n)]


def _key(k):
    return str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k))))


def _kerax_version():
    try:
        return importlib.metadata.version("kerax")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
