"""Keras 2's HDF5 weights format (`.h5`/`.hdf5`), as Keras 3 still reads it.

The format of Keras' published ImageNet weights and of `model.save("m.h5")`: the root
(or, in a full-model file, its `model_weights` group) lists the model's layers in the
`layer_names` attribute; each layer's group lists its weights in `weight_names`
(trainable weights first, then non-trainable ones, as Keras' `_legacy_weights`), and the
weights are matched by the order of the layers that have weights (topological), or by
layer name (`by_name=True`). Long lists are split over `layer_names0`, `layer_names1`, ...

Reading is as defensive as `h5_store`: only hard links are followed, datasets must be
numeric and stored in the file, each declared shape is compared with the model's before
any data is read, and everything is read and checked before anything is assigned, so a
failed load leaves the model as it was. Keras 3 converts no weights on this path (its
Keras 2 RNN/conv conversions are gone), so none are converted here.
"""

import os
import warnings

import jax
import numpy as np

from kerax.errors import CheckpointCorruptedError, KeraxError, UnsafeModelError
from kerax.errors import WeightsMismatchError
from kerax.layers.variable_view import views_for
from kerax.saving import h5_store, load_guard

HDF5_OBJECT_HEADER_LIMIT = 64512
MAX_NAMES = 1 << 20  # names per list; a real model has thousands at most


def _corrupted(where, detail):
    return CheckpointCorruptedError(
        f"The file {where} is truncated or corrupted ({detail}); it cannot be loaded. "
        "Restore it from a backup or save the model again."
    )


# ----------------------------------------------------------------- model's weights --
def _layer_key(model):
    return {id(child): key for key, child in model._children().items()}


def legacy_leaves(model, layer, keys):
    """The model-level `(collection, path)` leaves of `layer`'s weights in Keras'
    legacy order (`trainable_weights + non_trainable_weights`), with their names."""
    key = keys.get(id(layer))
    variables = model._variables or {}
    if key is None:
        return [], []
    sub = {c: variables.get(c, {}).get(key, {}) for c in ("params", "state")}
    leaves = layer._weight_leaves(sub)
    views = views_for(layer, leaves)
    trainable = [bool(layer.trainable and v.trainable) for v in views]
    order = ([i for i, t in enumerate(trainable) if t]
             + [i for i, t in enumerate(trainable) if not t])
    return ([(leaves[i][0], (key,) + tuple(leaves[i][1])) for i in order],
            [views[i].path for i in order])


def _top_level_leaves(model):
    """The model's own weights (not its layers'), trainable first."""
    variables = model._variables or {}
    own = model._own_leaves(variables.get("params", {}), variables.get("state", {}))
    if not own:
        return [], []
    views = views_for(model, own)
    trainable = [bool(model.trainable and v.trainable) for v in views]
    order = ([i for i, t in enumerate(trainable) if t]
             + [i for i, t in enumerate(trainable) if not t])
    return [own[i] for i in order], [views[i].path for i in order]


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _set(tree, path, value):
    for p in path[:-1]:
        tree = tree[p]
    tree[path[-1]] = value


# ------------------------------------------------------------------------- write --
def save_attributes(group, name, data):
    """Keras' `save_attributes_to_hdf5_group`: a list of byte strings as an attribute,
    split into `name0`, `name1`, ... when it exceeds an HDF5 object header."""
    bad = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if bad:
        raise RuntimeError(
            "The following attributes cannot be saved to HDF5 file because they are "
            f"larger than {HDF5_OBJECT_HEADER_LIMIT} bytes: {bad}")
    data_npy = np.asarray(data)
    chunks = 1
    split = np.array_split(data_npy, chunks)
    while any(x.nbytes > HDF5_OBJECT_HEADER_LIMIT for x in split):
        chunks += 1
        split = np.array_split(data_npy, chunks)
    if chunks > 1:
        for i, chunk in enumerate(split):
            group.attrs[f"{name}{i}"] = chunk
    else:
        group.attrs[name] = data


def _save_subset(group, names, values):
    """Keras' `save_subset_weights_to_hdf5_group`, each dataset with its checksum (an
    attribute Keras does not read), the group marked as checksummed."""
    names = [n.encode("utf8") for n in names]
    save_attributes(group, "weight_names", names)
    group.attrs[h5_store.CHECKSUMS_MARK] = h5_store.CHECKSUMS_SCHEME
    for name, val in zip(names, values):
        val = np.asarray(val)
        ds = group.create_dataset(name, val.shape, dtype=val.dtype)
        if not val.shape:
            ds[()] = val
        else:
            ds[:] = val
        ds.attrs[h5_store.CHECKSUM_ATTR] = h5_store.array_digest(val)


def save_weights_to_group(group, model, keras_version, backend="jax"):
    """Writes `model`'s weights into the open HDF5 `group` as Keras 3 does."""
    variables = model._variables or {}
    save_attributes(group, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = backend.encode("utf8")
    group.attrs["keras_version"] = str(keras_version).encode("utf8")
    keys = _layer_key(model)
    for layer in sorted(model.layers, key=lambda x: x.name):
        leaves, names = legacy_leaves(model, layer, keys)
        _save_subset(group.create_group(layer.name), names,
                     [np.asarray(_get(variables[c], p)) for c, p in leaves])
    leaves, names = _top_level_leaves(model)
    _save_subset(group.create_group("top_level_model_weights"), names,
                 [np.asarray(_get(variables[c], p)) for c, p in leaves])


# -------------------------------------------------------------------------- read --
def load_attributes(group, name, where):
    """Keras' `load_attributes_from_hdf5_group`: the list of names (decoded), also when
    it was split over `name0`, `name1`, ..."""
    def decode(values):
        values = np.asarray(values)
        if values.ndim != 1 or values.size > MAX_NAMES:
            raise _corrupted(where, f"attribute '{name}' of '{group.name}' is not a list of "
                                    "names")
        out = []
        for n in values.tolist():
            if isinstance(n, bytes):
                n = n.decode("utf8", "replace")
            if not isinstance(n, str):
                raise _corrupted(where, f"attribute '{name}' of '{group.name}' holds "
                                        f"{type(n).__name__} values, not names")
            out.append(n)
        return out

    attrs = group.attrs
    if name in attrs:
        raw = attrs[name]
        if np.asarray(raw).size == 0:  # Keras writes `[]` as an empty float array
            return []
        return decode(raw)
    data, i = [], 0
    while f"{name}{i}" in attrs and len(data) <= MAX_NAMES:
        data.extend(decode(attrs[f"{name}{i}"]))
        i += 1
    return data


def _hard(h5py, parent, key, where):
    """`parent[key]` through hard links only (a name may be a path: `dense/kernel:0`)."""
    node = parent
    for part in [p for p in key.split("/") if p]:
        if not isinstance(node, h5py.Group):
            return None
        node = h5_store._hard_child(h5py, node, part, where)
        if node is None:
            return None
    return node


def _group(h5py, parent, key, where):
    node = _hard(h5py, parent, key, where)
    if not isinstance(node, h5py.Group):
        raise _corrupted(where, f"'{parent.name.rstrip('/')}/{key}' is listed but is "
                                "missing or not a group")
    return node


class _Saved:
    """One saved weight: its dataset, checked to be safe to read, not yet read."""

    def __init__(self, h5py, group, name, where):
        ds = _hard(h5py, group, name, where)
        label = f"{group.name.rstrip('/')}/{name}"
        if not isinstance(ds, h5py.Dataset):
            raise _corrupted(where, f"weight '{label}' is listed in 'weight_names' but is "
                                    "missing or not a dataset")
        if ds.external or ds.is_virtual:
            raise UnsafeModelError(
                f"Refusing to read {where}: dataset '{label}' stores its data outside the "
                "file (external or virtual storage).")
        if ds.dtype.kind not in "biuf":
            raise UnsafeModelError(
                f"Refusing to read {where}: dataset '{label}' has dtype {ds.dtype}, not a "
                "numeric array type.")
        self.ds, self.label, self.shape, self.where = ds, label, tuple(ds.shape), where
        self.checksummed = h5_store.CHECKSUMS_MARK in group.attrs

    def read(self, dtype):
        """The value, checked against its checksum where kerax wrote one."""
        value = np.asarray(self.ds[()])
        expected = self.ds.attrs.get(h5_store.CHECKSUM_ATTR)
        if isinstance(expected, bytes):
            expected = expected.decode("utf-8", "replace")
        if expected is None and self.checksummed:
            raise CheckpointCorruptedError(
                f"{self.where}: weight '{self.label}' has no checksum, but its group was "
                "written with one per array: the file is corrupted. Restore it from a backup "
                "or save the model again.")
        if expected is not None and h5_store.array_digest(value) != expected:
            raise CheckpointCorruptedError(
                f"{self.where}: weight '{self.label}' does not match its checksum: the file "
                "is corrupted (its bytes changed after it was written). Restore it from a "
                "backup or save the model again.")
        return np.asarray(value, dtype=dtype)


def _subset(h5py, group, where):
    return [_Saved(h5py, group, n, where)
            for n in load_attributes(group, "weight_names", where)]


def _plan_set(plan, variables, leaves, names, saved, name, skip_mismatch):
    """Keras' `_set_weights`: pairs saved weights with leaves, checking shapes."""
    for (c, p), wname, s in zip(leaves, names, saved):
        expected = tuple(np.shape(_get(variables[c], p)))
        if expected != s.shape:
            message = (f"weight {wname}. Weight expects shape {expected}. Received saved "
                       f"weight with shape {s.shape}")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for {name} due to mismatch in "
                              f"shape for {message}", stacklevel=4)
                continue
            raise WeightsMismatchError(f"Shape mismatch in {name} for {message}")
        plan.append(((c, p), s))


def _plan_topological(h5py, group, model, skip_mismatch, where):
    keys = _layer_key(model)
    layers = []
    for layer in model.layers:
        leaves, names = legacy_leaves(model, layer, keys)
        if leaves:
            layers.append((layer, leaves, names))
    saved_layers = []
    for name in load_attributes(group, "layer_names", where):
        saved = _subset(h5py, _group(h5py, group, name, where), where)
        if saved:
            saved_layers.append((name, saved))
    if len(saved_layers) != len(layers):
        raise WeightsMismatchError(
            "Layer count mismatch when loading weights from file. "
            f"Model expected {len(layers)} layers, found {len(saved_layers)} saved layers.")
    plan, variables = [], model._variables
    for k, ((name, saved), (layer, leaves, names)) in enumerate(zip(saved_layers, layers)):
        if len(saved) != len(leaves):
            raise WeightsMismatchError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(leaves)} weight(s). "
                f"Received {len(saved)} saved weight(s)")
        _plan_set(plan, variables, leaves, names, saved,
                  f"layer #{k} (named {layer.name})", skip_mismatch)
    _plan_top_level(h5py, group, model, plan, skip_mismatch, where, by_name=False)
    return plan


def _plan_by_name(h5py, group, model, skip_mismatch, where):
    keys = _layer_key(model)
    index = {}
    for layer in model.layers:
        if layer.name:
            index.setdefault(layer.name, []).append(layer)
    plan, variables = [], model._variables
    for k, name in enumerate(load_attributes(group, "layer_names", where)):
        if name not in index:
            continue  # Keras reads it and drops it: nothing in the model takes it
        saved = _subset(h5py, _group(h5py, group, name, where), where)
        for layer in index[name]:
            leaves, names = legacy_leaves(model, layer, keys)
            if len(saved) != len(leaves):
                message = (f"layer #{k} (named {layer.name})")
                detail = (f"Layer expects {len(leaves)} weight(s). Received {len(saved)} "
                          "saved weight(s)")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for {message} due to "
                                  f"mismatch in number of weights. {detail}", stacklevel=4)
                    continue
                raise WeightsMismatchError(f"Weight count mismatch for {message}. {detail}")
            _plan_set(plan, variables, leaves, names, saved, f"layer #{k} (named "
                      f"{layer.name})", skip_mismatch)
    _plan_top_level(h5py, group, model, plan, skip_mismatch, where, by_name=True)
    return plan


def _plan_top_level(h5py, group, model, plan, skip_mismatch, where, by_name):
    if "top_level_model_weights" not in group:
        return
    leaves, names = _top_level_leaves(model)
    saved = _subset(h5py, _group(h5py, group, "top_level_model_weights", where), where)
    if len(saved) != len(leaves):
        detail = (f"Model expects {len(leaves)} top-level weight(s). Received {len(saved)} "
                  "saved top-level weight(s)")
        if by_name and skip_mismatch:
            warnings.warn("Skipping loading top-level weights for model due to mismatch in "
                          f"number of weights. {detail}", stacklevel=4)
            return
        raise WeightsMismatchError(
            "Weight count mismatch for top-level weights "
            + ("of model. " if by_name else "when loading weights from file. ") + detail)
    _plan_set(plan, model._variables, leaves, names, saved, "top-level model", skip_mismatch)


def weights_group(h5py, f, where):
    """The group holding the layers: the root, or `model_weights` in a full-model file."""
    if "layer_names" not in f.attrs and "layer_names0" not in f.attrs and "model_weights" in f:
        return _group(h5py, f, "model_weights", where)
    return f


def load_weights_from_group(group, model, by_name=False, skip_mismatch=False, where=None):
    """Loads the legacy weights in the open HDF5 `group` into `model` (all or nothing).

    Every weight is located, its shape checked and its data read before any is assigned.
    """
    h5py = h5_store.h5py_module()
    where = where or group.file.filename
    with load_guard.unchanged_on_error(model):
        try:
            plan_fn = _plan_by_name if by_name else _plan_topological
            plan = plan_fn(h5py, group, model, skip_mismatch, where)
            variables = model._variables
            values = [(leaf, s.read(np.dtype(_get(variables[leaf[0]], leaf[1]).dtype)))
                      for leaf, s in plan]
        except KeraxError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as e:  # from h5py
            raise _corrupted(where, f"reading the weights failed: {e}") from e
        new = jax.tree_util.tree_map(lambda x: x, variables)
        for (c, p), value in values:
            _set(new[c], p, jax.numpy.asarray(value))
        model._variables = new


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Reads a legacy `.h5`/`.hdf5` weights or full-model file into `model`.

    Example:
    >>> import os, tempfile, h5py, numpy as np, kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, name="d")])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.h5")
    >>> with h5py.File(path, "w") as f:
    ...     save_weights_to_group(f, m, "3.15.0")
    >>> m2 = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, name="d")])
    >>> load_weights(m2, path)
    >>> np.array_equal(m2.get_weights()[0], m.get_weights()[0])
    True
    """
    h5py = h5_store.h5py_module()
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file found at {filepath}.")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise _corrupted(filepath, f"not a readable HDF5 file: {e}") from e
    with f:
        try:
            group = weights_group(h5py, f, filepath)
        except KeraxError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as e:
            raise _corrupted(filepath, f"reading the file failed: {e}") from e
        load_weights_from_group(group, model, by_name=by_name, skip_mismatch=skip_mismatch,
                                where=filepath)
