"""Reading a checkpoint step's arrays onto their target shardings, and checking them.

Each array saved from a device is read straight onto the sharding it is given (each
process reads only the shards it holds) and checked against its layout-independent
checksum; arrays saved from the host come back as numpy arrays, checked by sha256.
"""

import os

import re

import jax
import numpy as np

from kerax.checkpoint import checksums
from kerax.errors import CheckpointCorruptedError
from kerax.backend import naming

ARRAYS = "arrays"  # the orbax directory inside a step


def path_name(path):
    """`a/b/0` for a pytree key path (how arrays are named in the manifest)."""
    return naming.key_path_str(path) or "<root>"


def read_arrays(root, entries, targets):
    """Reads the arrays of `root` onto their target shardings and checks their digests."""
    import orbax.checkpoint as ocp

    local = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    restore_args = {}
    for i, (entry, target) in enumerate(zip(entries, targets)):
        if "sha256" in entry:  # saved from the host (or by kerax.checkpoint/1)
            restore_args[f"a{i}"] = ocp.RestoreArgs(restore_type=np.ndarray)
        else:
            restore_args[f"a{i}"] = ocp.ArrayRestoreArgs(
                sharding=target or local, global_shape=tuple(entry["shape"]),
                dtype=np.dtype(entry["dtype"]))
    try:
        payload = ocp.PyTreeCheckpointer().restore(
            os.path.join(root, ARRAYS), args=ocp.args.PyTreeRestore(
                restore_args=restore_args)) if entries else {}
    except Exception as e:  # a corrupted store orbax notices itself
        raise CheckpointCorruptedError(
            f"Checkpoint {root} could not be read ({type(e).__name__}: {e})."
        ) from None
    arrays = [payload.get(f"a{i}") for i in range(len(entries))]
    # Every device checksum is started before any is read.
    on_device = iter(checksums.device_checksums(
        [a for a in arrays if isinstance(a, jax.Array)]))
    digests = [next(on_device) if isinstance(a, jax.Array) else None for a in arrays]
    out = []
    for entry, a, digest in zip(entries, arrays, digests):
        kind = "sha256" if "sha256" in entry else "checksum"
        if a is None:
            ok = False
        elif kind == "sha256":
            a = np.asarray(a)
            ok = checksums.sha256_array(a) == entry["sha256"]
        else:
            ok = checksums.to_hex(digest) == entry["checksum"]
        if not ok:
            raise CheckpointCorruptedError(
                f"Array {entry['name']!r} in checkpoint {root} does not match its {kind} "
                "from manifest.json: the checkpoint is corrupted. Restore an earlier step."
            )
        if entry.get("key_impl"):
            try:
                a = jax.random.wrap_key_data(a, impl=entry["key_impl"])
            except (TypeError, ValueError) as e:
                raise CheckpointCorruptedError(
                    f"Array {entry['name']!r} in checkpoint {root} names the PRNG "
                    f"implementation {entry['key_impl']!r}, which does not fit it ({e}): "
                    "the manifest is corrupted. Restore an earlier step."
                ) from None
        out.append(a)
    return out


def _natural(name):
    """`dense_10/bias` after `dense_9/bias`: numbers compared as numbers."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _unnumbered(name):
    """`params/dense_7/kernel` -> `params/dense/kernel`: a name without the counters that
    auto-generated layer names end in."""
    return re.sub(r"_\d+(?=/|$)", "", name)


def alignment(entries, like):
    """For each leaf of `like` (in its flatten order), the index of its saved entry.

    By name where every name matches; otherwise (auto-generated layer names that differ
    between two constructions of the same model) by rank in natural order: a dict flattens
    in sorted key order, and `dense_9` / `dense_10` sort apart from `dense_7` / `dense_8`,
    so plain positions would pair different layers.

    Example:
    >>> alignment([{"name": "dense_7/b"}, {"name": "dense_8/b"}],
    ...           {"dense_10": {"b": 0}, "dense_9": {"b": 0}})
    [1, 0]
    """
    names = [path_name(path) for path, _ in jax.tree_util.tree_flatten_with_path(like)[0]]
    saved = [e["name"] for e in entries]
    if len(names) != len(saved):
        return list(range(len(saved)))  # validate_structure says what differs
    if sorted(names) == sorted(saved):
        where = {name: i for i, name in enumerate(saved)}
        return [where[name] for name in names]
    by_rank = sorted(range(len(saved)), key=lambda i: _natural(saved[i]))
    rank_of_leaf = sorted(range(len(names)), key=lambda i: _natural(names[i]))
    out = [0] * len(names)
    layers = {}  # saved layer path -> the model's, one to one
    for leaf, entry in zip(rank_of_leaf, by_rank):
        out[leaf] = entry
        mine, theirs = names[leaf], saved[entry]
        if _unnumbered(mine) != _unnumbered(theirs) or \
                layers.setdefault(theirs.rpartition("/")[0], mine.rpartition("/")[0]) != \
                mine.rpartition("/")[0]:
            raise CheckpointCorruptedError(
                f"The checkpoint's array names do not pair with the model's: the saved "
                f"'{theirs}' would fill '{mine}'. Only numbers in auto-generated layer "
                "names may differ (and consistently per layer); the file is damaged or "
                "was written by another model.")
    if len(set(layers.values())) != len(layers):
        raise CheckpointCorruptedError(
            "The checkpoint's array names do not pair with the model's: two saved layers "
            "would fill one layer of the model. The file is damaged or was written by "
            "another model.")
    return out


def validate_structure(entries, like, where):
    names, shapes = [], []
    for path, leaf in jax.tree_util.tree_flatten_with_path(like)[0]:
        names.append(path_name(path))
        if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype,
                                                                 jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        shapes.append((tuple(np.shape(leaf)), np.dtype(getattr(leaf, "dtype", None)
                                                       or np.asarray(leaf).dtype).str))
    # Arrays match by position (as Keras' weight files do; `entries` put in `like`'s order
    # by `alignment`), so auto-generated layer names that differ between two constructions
    # of the same model do not matter.
    if len(entries) != len(names):
        saved = [e["name"] for e in entries]
        missing = [n for n in names if n not in saved]
        extra = [n for n in saved if n not in names]
        raise ValueError(
            f"Checkpoint {where} does not match the model: it holds {len(entries)} arrays "
            f"but the model's training state has {len(names)}. Expected but not in the "
            f"checkpoint: {missing[:5]}; in the checkpoint but not expected: {extra[:5]}. "
            "Restore into the same architecture (and optimizer) that wrote it."
        )
    for e, name, (shape, dtype) in zip(entries, names, shapes):
        if tuple(e["shape"]) != shape or e["dtype"] != dtype:
            raise ValueError(
                f"Checkpoint {where} does not match the model: {e['name']!r} was saved with "
                f"shape {tuple(e['shape'])} and dtype {np.dtype(e['dtype'])}, but the model's "
                f"{name!r} has shape {shape} and dtype {np.dtype(dtype)}. Restore into the "
                "same architecture that wrote it."
            )
