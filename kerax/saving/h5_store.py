"""Reads and writes Keras 3's weights H5 layout (`layers/dense/vars/0`, `optimizer/vars/0`).

Reading is defensive: only hard links are followed (no external links, external storage
or virtual datasets, which would read other files), every dataset must be numeric, and
its declared shape is compared with the live model's before any data is read, so a
config/weights mismatch or a huge declared shape is refused without allocating.
"""

import jax
import numpy as np

from kerax.checkpoint import checksums
from kerax.errors import CheckpointCorruptedError, UnsafeModelError, WeightsMismatchError
from kerax.layers.layer import Layer
from kerax.saving import keras_layout, load_guard, optimizer_vars

KERAX_OPTIMIZER_GROUP = "kerax_optimizer_state"
# Every dataset kerax writes carries the sha256 of its value in this attribute, and the
# file says so at its root; Keras reads neither (it only looks at a dataset's "dtype").
CHECKSUM_ATTR = "kerax_sha256"
CHECKSUMS_MARK = "kerax_checksums"
CHECKSUMS_SCHEME = "sha256/1"
# Which optimizer group kerax wrote and how many arrays it holds ("optimizer:14", or
# "none"), so that a damaged group name or count is not mistaken for "no state saved".
OPTIMIZER_MARK = "kerax_optimizer"
# sha256 of the file's groups and datasets (names, shapes, dtypes): a file whose layout was
# damaged is told apart from a file saved from another architecture.
STRUCTURE_MARK = "kerax_structure"


def h5py_module():
    """Imports h5py, or explains how to install it."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is installed with the test extra
        raise ImportError(
            "Saving and loading `.keras` and `.weights.h5` files needs h5py: "
            "`pip install h5py`."
        ) from e
    return h5py


# ----------------------------------------------------------------------------- write --
def _own_store_layer(entry):
    """The layer of `entry` if its own `save_own_variables`/`load_own_variables` say what
    its group holds: arrays that are not in the variables pytree (`StringLookup`'s IDF), or
    a user's override that saves more than the weights (Keras calls the layer's methods)."""
    cls = type(entry.layer)
    if (cls.save_own_variables is Layer.save_own_variables
            and cls.load_own_variables is Layer.load_own_variables):
        return None
    return entry.layer


def _write_group(f, path, name, arrays, names=None):
    group = f.create_group(f"{path}/vars" if path else "vars")
    if name is not None:
        group.attrs["name"] = name
    for i, a in zip(names or range(len(arrays)), arrays):
        a = np.asarray(a)
        if a.dtype.name == "bfloat16":
            ds = group.create_dataset(str(i), data=a.view(np.uint16))
            ds.attrs["dtype"] = "bfloat16"
        else:
            ds = group.create_dataset(str(i), data=a)
        ds.attrs[CHECKSUM_ATTR] = array_digest(a)


def array_digest(a):
    """The sha256 stored with an array: of its dtype, shape and native-order bytes.

    Example:
    >>> import numpy as np
    >>> array_digest(np.ones(2, ">f4")) == array_digest(np.ones(2, "<f4"))
    True
    """
    a = np.asarray(a)
    return checksums.sha256_array(a.astype(a.dtype.newbyteorder("="), copy=False))


def write_model(f, model, include_optimizer=True):
    """Writes the model's weights (and its optimizer's state) into the open H5 file `f`,
    with a checksum per array and the digest of the file's layout."""
    _write_arrays(f, model, include_optimizer)
    f.attrs[STRUCTURE_MARK] = structure_digest(f)


def _write_arrays(f, model, include_optimizer):
    variables = model._variables or {}
    f.attrs[CHECKSUMS_MARK] = CHECKSUMS_SCHEME
    for entry in keras_layout.weight_layout(model):
        layer = _own_store_layer(entry)
        if layer is not None:  # host layers keep arrays outside the pytree (IDF weights)
            store = {}
            layer.save_own_variables(store)
            _write_group(f, entry.path, entry.name, list(store.values()), names=list(store))
            continue
        arrays = [np.asarray(a) for a in entry.values(variables)]
        _write_group(f, entry.path, entry.name, arrays)
    opt = getattr(model, "optimizer", None)
    f.attrs[OPTIMIZER_MARK] = "none"
    if not include_optimizer or opt is None or getattr(opt, "state", None) is None:
        return
    arrays = optimizer_vars.keras_variables(model)
    group = "optimizer"
    if arrays is None:
        group, arrays = KERAX_OPTIMIZER_GROUP, optimizer_vars.state_leaves(model)
    _write_group(f, group, opt.name, arrays)
    f.attrs[OPTIMIZER_MARK] = f"{group}:{len(arrays)}"


def structure_digest(f):
    """sha256 of the names of every group and dataset of the open file `f`, with each
    dataset's shape and dtype (hard links only, as `visititems` walks them)."""
    h5py = h5py_module()
    lines = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            lines.append(f"{name} {obj.shape} {obj.dtype.str}")
        else:
            lines.append(name)

    f.visititems(visit)
    return checksums.sha256_array(np.frombuffer("\n".join(sorted(lines)).encode(), np.uint8))


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


# ------------------------------------------------------------------------------ read --
def _hard_child(h5py, parent, key, where):
    link = parent.get(key, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise UnsafeModelError(
            f"Refusing to read {where}: '{key}' is a {type(link).__name__}, which would read "
            "another file. Keras weights files contain only plain groups and datasets."
        )
    return parent[key]


def _vars_group(h5py, f, path, where):
    node = f
    for part in ([p for p in path.split("/") if p] + ["vars"]):
        if not isinstance(node, h5py.Group):
            return None
        node = _hard_child(h5py, node, part, where)
        if node is None:
            return None
    return node if isinstance(node, h5py.Group) else None


def _checked_dataset(h5py, group, key, shape, dtype, where, label):
    ds = _hard_child(h5py, group, key, where)
    if ds is None:
        raise CheckpointCorruptedError(
            f"{where}: weight '{label}' is missing although its group has the expected "
            "number of arrays: the file is corrupted. Restore it from a backup or save the "
            "model again."
        )
    if not isinstance(ds, h5py.Dataset):
        raise CheckpointCorruptedError(
            f"{where}: expected a dataset at '{label}', found a {type(ds).__name__}: the file "
            "is corrupted or not a Keras weights file.")
    if ds.external or ds.is_virtual:
        raise UnsafeModelError(
            f"Refusing to read {where}: dataset '{label}' stores its data outside the file "
            "(external or virtual storage)."
        )
    if ds.dtype.kind not in "biuf":
        raise UnsafeModelError(
            f"Refusing to read {where}: dataset '{label}' has dtype {ds.dtype}, not a numeric "
            "array type."
        )
    declared = tuple(ds.shape)
    expected = declared if shape is None else tuple(shape)  # None: a user's store entry
    if declared != expected:
        big = int(np.prod(declared, dtype=object)) > int(np.prod(expected, dtype=object))
        cls = UnsafeModelError if big else WeightsMismatchError
        raise cls(
            f"{where}: weight '{label}' has shape {declared} in the file, but the model's "
            f"architecture expects {expected}. The file does not match this model"
            + (" (refusing to allocate the larger declared array)." if big else ".")
        )
    value = ds[()]
    if ds.attrs.get("dtype") == "bfloat16":
        import ml_dtypes

        value = np.asarray(value).view(ml_dtypes.bfloat16)
    value = np.asarray(value)
    _verify(ds, value, where, label)
    return np.asarray(value, dtype=dtype) if dtype is not None else value


def _checksummed(f, where):
    """Whether the file says each of its arrays carries a checksum (kerax wrote it)."""
    mark = f.attrs.get(CHECKSUMS_MARK)
    if mark is None:
        return False  # written by Keras: nothing to verify
    if isinstance(mark, bytes):
        mark = mark.decode("utf-8", "replace")
    if mark != CHECKSUMS_SCHEME:
        raise CheckpointCorruptedError(
            f"{where}: the file's checksum scheme is {mark!r}, expected "
            f"{CHECKSUMS_SCHEME!r}; the file is corrupted or from a newer kerax. Restore it "
            "from a backup or save the model again."
        )
    return True


def _verify(ds, value, where, label):
    expected = ds.attrs.get(CHECKSUM_ATTR)
    if expected is None:
        if _checksummed(ds.file, where):
            raise CheckpointCorruptedError(
                f"{where}: weight '{label}' has no checksum, but the file was written with "
                "one per array: the file is corrupted. Restore it from a backup or save the "
                "model again."
            )
        return
    if isinstance(expected, bytes):
        expected = expected.decode("utf-8", "replace")
    if array_digest(value) != expected:
        raise CheckpointCorruptedError(
            f"{where}: weight '{label}' does not match its checksum: the file is "
            "corrupted (its bytes changed after it was written). Restore it from a backup "
            "or save the model again."
        )


def _read_group(h5py, f, path, shapes, dtypes, where, what):
    group = _vars_group(h5py, f, path, where)
    n = 0 if group is None else len(group.keys())
    if n != len(shapes):
        raise WeightsMismatchError(
            f"{where}: {what} expects {len(shapes)} weight arrays at "
            f"'{path + '/' if path else ''}vars', but "
            f"the file has {n}. The file was saved from a different architecture."
        )
    return [_checked_dataset(h5py, group, str(i), s, d, where, f"{path}/vars/{i}")
            for i, (s, d) in enumerate(zip(shapes, dtypes))]


def read_model(f, model, where, load_optimizer=True):
    """Reads weights from the open H5 file `f` into `model` (all shapes checked first).

    Everything (the layers' weights and the optimizer state) is read and checked before
    anything is assigned, so a failed load leaves the model as it was. Returns whether
    the optimizer state was restored.
    """
    with load_guard.unchanged_on_error(model):
        return _read_model(h5py_module(), f, model, where, load_optimizer)


def _read_model(h5py, f, model, where, load_optimizer):
    if _checksummed(f, where):  # an unknown checksum scheme is refused up front
        _check_structure(f, where)
    variables = model._variables
    new = jax.tree_util.tree_map(lambda x: x, variables)
    own_stores = []
    for entry in keras_layout.weight_layout(model):
        layer = _own_store_layer(entry)
        if layer is not None:
            own_stores.append((layer, _read_own_store(h5py, f, entry, layer, where)))
            continue
        if not entry.leaves and _vars_group(h5py, f, entry.path, where) is None:
            continue
        olds = [_get(variables[c], p) for c, p in entry.leaves]
        arrays = _read_group(h5py, f, entry.path, [o.shape for o in olds],
                             [np.dtype(o.dtype) for o in olds], where, f"layer '{entry.name}'")
        for (c, p), a in zip(entry.leaves, arrays):
            parent = _get(new[c], p[:-1])
            parent[p[-1]] = jax.numpy.asarray(a)
        entry.after_load(new)
    opt = getattr(model, "optimizer", None)
    assign_optimizer = None
    if load_optimizer and opt is not None:
        assign_optimizer = _read_optimizer(h5py, f, model, where)
    model._variables = new
    for layer, store in own_stores:
        layer.load_own_variables(store)
    if assign_optimizer is None:
        return False
    assign_optimizer()
    return True


def _read_own_store(h5py, f, entry, layer, where):
    """The named arrays of a `save_own_variables` layer, each checked against the shape
    the layer expects (`own_variable_shapes()`; a user's layer, which does not say, gets
    the arrays its group declares) before it is read."""
    group = _vars_group(h5py, f, entry.path, where)
    found = set(group.keys()) if group is not None else set()
    if not hasattr(layer, "own_variable_shapes"):
        _check_declared_size(h5py, f, group, found, where, entry.path)
        return {k: _checked_dataset(h5py, group, k, None, None, where,
                                    f"{entry.path}/vars/{k}")
                for k in sorted(found, key=_store_order)}
    expected = layer.own_variable_shapes()
    if found != set(expected):
        raise WeightsMismatchError(
            f"{where}: layer '{entry.name}' expects the arrays {sorted(expected)} at "
            f"'{entry.path}/vars', but the file has {sorted(found)}. The file was saved from "
            "a different architecture.")
    return {k: _checked_dataset(h5py, group, k, shape, None, where, f"{entry.path}/vars/{k}")
            for k, shape in expected.items()}


def _check_declared_size(h5py, f, group, keys, where, path):
    """A user's store entries have no expected shapes: their declared sizes together must
    fit in the file (Keras and kerax write arrays uncompressed), so a small file declaring
    huge (compressed) arrays is refused before anything is allocated."""
    declared = 0
    for k in keys:
        ds = _hard_child(h5py, group, k, where)
        if isinstance(ds, h5py.Dataset):
            declared += int(np.prod(ds.shape, dtype=object)) * ds.dtype.itemsize
    if declared > f.id.get_filesize():
        raise UnsafeModelError(
            f"Refusing to read {where}: the arrays at '{path}/vars' declare {declared} bytes, "
            f"more than the whole file ({f.id.get_filesize()} bytes): they are not arrays "
            "saved by `save_own_variables`.")


def _store_order(key):
    """`"0", "1", ..., "10"` in number order, then named entries in name order."""
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _read_optimizer(h5py, f, model, where):
    """Reads and checks the optimizer state; returns a function assigning it, or None."""
    import warnings

    if _checksummed(f, where):
        _check_optimizer_record(h5py, f, where)
    has_keras = _vars_group(h5py, f, "optimizer", where) is not None
    has_kerax = _vars_group(h5py, f, KERAX_OPTIMIZER_GROUP, where) is not None
    if not (has_keras or has_kerax):
        return None
    optimizer_vars.ensure_built(model)
    shapes = optimizer_vars.expected_shapes(model)
    if has_keras and shapes is not None:
        group = _vars_group(h5py, f, "optimizer", where)
        if _is_unbuilt_keras_optimizer(group) and len(shapes) > len(group.keys()):
            return None  # compiled, never trained: a fresh state is the saved state
        if len(group.keys()) != len(shapes):
            warnings.warn(
                f"{where}: skipping the optimizer state: the file has {len(group.keys())} "
                f"optimizer variables, but optimizer '{model.optimizer.name}' has "
                f"{len(shapes)}. Training resumes with a fresh optimizer state.", stacklevel=3)
            return None
        arrays = _read_group(h5py, f, "optimizer", shapes, [None] * len(shapes), where,
                             "the optimizer")
        return lambda: optimizer_vars.assign_keras_variables(model, arrays)
    if has_kerax:
        shapes = optimizer_vars.state_shapes(model)
        arrays = _read_group(h5py, f, KERAX_OPTIMIZER_GROUP, shapes, [None] * len(shapes),
                             where, "the optimizer")
        return lambda: optimizer_vars.assign_state_leaves(model, arrays)
    warnings.warn(
        f"{where}: the optimizer state in the file is in a layout kerax cannot map onto "
        f"optimizer '{model.optimizer.name}'; training resumes with a fresh optimizer state.",
        stacklevel=3)
    return None


def _check_structure(f, where):
    recorded = f.attrs.get(STRUCTURE_MARK)
    if isinstance(recorded, bytes):
        recorded = recorded.decode("utf-8", "replace")
    if recorded != structure_digest(f):
        raise CheckpointCorruptedError(
            f"{where}: the file's layout (its groups and datasets) is not the one it was "
            "written with: the file is corrupted. Restore it from a backup or save the "
            "model again."
        )


def _check_optimizer_record(h5py, f, where):
    """In a file kerax wrote, the optimizer groups must be exactly as recorded."""
    record = f.attrs.get(OPTIMIZER_MARK)
    if isinstance(record, bytes):
        record = record.decode("utf-8", "replace")
    expected = {}
    if isinstance(record, str) and record != "none":
        name, _, count = record.rpartition(":")
        if name in ("optimizer", KERAX_OPTIMIZER_GROUP) and count.isdigit():
            expected[name] = int(count)
        else:
            record = None
    if not isinstance(record, str):
        raise CheckpointCorruptedError(
            f"{where}: the file's record of its optimizer state ({record!r}) is missing or "
            "damaged: the file is corrupted. Restore it from a backup or save the model "
            "again."
        )
    for name in ("optimizer", KERAX_OPTIMIZER_GROUP):
        group = _vars_group(h5py, f, name, where)
        found = None if group is None else len(group.keys())
        if found != expected.get(name):
            raise CheckpointCorruptedError(
                f"{where}: the file was written with "
                + (f"{expected[name]} arrays" if name in expected else "no arrays")
                + f" in '{name}/vars' but holds "
                + ("none" if found is None else f"{found}")
                + ": the file is corrupted. Restore it from a backup or save the model "
                "again."
            )


def _is_unbuilt_keras_optimizer(group):
    """Keras saves only `iterations` (and `learning_rate`) for an optimizer never used."""
    return len(group.keys()) <= 2 and all(group[k].shape == () for k in group)


def expected_nbytes(model):
    """An upper bound for the bytes a weights file of this model may hold."""
    total = sum(int(np.prod(np.shape(x))) * np.dtype(getattr(x, "dtype", np.float32)).itemsize
                for x in _leaves(model._variables))
    # Optimizer slots (Adam: 2 per weight, AMSGrad 3, EMA/accumulation one more each).
    return 6 * total + (16 << 20)


def _leaves(tree):
    return jax.tree_util.tree_leaves(tree or {})
