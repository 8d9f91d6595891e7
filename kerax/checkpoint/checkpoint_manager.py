"""`CheckpointManager`: atomic, checksummed, optionally asynchronous pytree checkpoints.

Each step is a directory `step_<N>` holding the arrays (written by orbax-checkpoint),
`metadata.json` (any JSON the caller passes) and `manifest.json`: the sha256 of every
file and of every array, with the arrays' paths, shapes and dtypes. A step is written in
a temporary directory and renamed into place only once complete, so a process killed
mid-write leaves the previous steps intact and no half-written `step_<N>`.

An asynchronous save copies the arrays to host memory before it returns, so the write
never sees later updates (nor buffers donated to the next training step).
"""

import hashlib
import json
import os
import re
import shutil
import threading

import jax
import numpy as np

from kerax.errors import CheckpointCorruptedError

_STEP_DIR = re.compile(r"^step_(\d+)$")
# Background writes in flight in this process, per directory: a new manager on the same
# directory (a `fit` restarted after an exception) waits for them before cleaning up.
_IN_FLIGHT = {}
_ARRAYS = "arrays"


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sha256_array(a):
    a = np.ascontiguousarray(a)
    return hashlib.sha256(a.dtype.str.encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


def _path_name(path):
    parts = []
    for k in path:
        for attr in ("key", "idx", "name"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return "/".join(parts) or "<root>"


def _to_host(leaf):
    """A host copy of one leaf; typed PRNG keys are stored as their raw key data."""
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return np.array(jax.random.key_data(leaf), copy=True), str(jax.random.key_impl(leaf))
    return np.array(leaf, copy=True), None


def flatten(tree):
    """`(names, host_arrays, key_impls, treedef)` for a pytree (None leaves dropped)."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    names, arrays, impls = [], [], []
    for path, leaf in flat:
        a, impl = _to_host(leaf)
        names.append(_path_name(path))
        arrays.append(a)
        impls.append(impl)
    return names, arrays, impls, treedef


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())


class CheckpointManager:
    """Saves and restores numbered pytree checkpoints in `directory`.

    Args:
        directory: where the `step_<N>` directories go (created if missing).
        max_to_keep: keep only this many newest steps (None: keep all).
        async_write: write in a background thread; `save` returns once the arrays are
            copied to host memory. Call `wait_until_finished()` (or `close()`) to block.

    Example:
    >>> import tempfile, numpy as np
    >>> mgr = CheckpointManager(tempfile.mkdtemp(), max_to_keep=2, async_write=False)
    >>> mgr.save(1, {"w": np.ones(3)}, metadata={"epoch": 0})
    >>> tree, meta = mgr.restore(like={"w": np.zeros(3)})
    >>> tree["w"].tolist(), meta["epoch"]
    ([1.0, 1.0, 1.0], 0)
    """

    def __init__(self, directory, max_to_keep=None, async_write=True):
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError(
                f"`max_to_keep` must be None or a positive integer. Received: "
                f"max_to_keep={max_to_keep!r}"
            )
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_to_keep = max_to_keep
        self.async_write = async_write
        self._thread = None
        self._error = None
        os.makedirs(self.directory, exist_ok=True)
        pending = _IN_FLIGHT.pop(self.directory, None)
        if pending is not None:
            pending.join()
        self._recover()

    def _recover(self):
        """Cleans up after a write that was killed: drops half-written temporaries, and
        puts back a step that was being replaced when the kill came."""
        for name in sorted(os.listdir(self.directory)):
            path = os.path.join(self.directory, name)
            if name.startswith(".old-"):
                final = self.step_dir(name.split("-")[1])
                if not os.path.exists(final) and os.path.exists(
                        os.path.join(path, "manifest.json")):
                    os.rename(path, final)
                    continue
            if name.startswith((".tmp-", ".old-", ".del-")):
                shutil.rmtree(path, ignore_errors=True)

    # ------------------------------------------------------------------ listing --
    def all_steps(self):
        """The committed steps, oldest first."""
        steps = []
        for name in os.listdir(self.directory):
            m = _STEP_DIR.match(name)
            if m and os.path.exists(os.path.join(self.directory, name, "manifest.json")):
                steps.append(int(m.group(1)))
        return sorted(steps)

    def latest_step(self):
        """The newest committed step, or None."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def step_dir(self, step):
        return os.path.join(self.directory, f"step_{int(step)}")

    # ------------------------------------------------------------------- saving --
    def save(self, step, tree, metadata=None):
        """Saves `tree` (a pytree of arrays) and JSON `metadata` as step `step`."""
        names, arrays, impls, _ = flatten(tree)
        metadata = json.loads(json.dumps(metadata or {}))  # a private, JSON-clean copy
        self.wait_until_finished()
        if self.async_write:
            self._thread = threading.Thread(
                target=self._write_guarded, args=(int(step), names, arrays, impls, metadata),
                daemon=False)
            self._thread.start()
            _IN_FLIGHT[self.directory] = self._thread
        else:
            self._write(int(step), names, arrays, impls, metadata)

    def _write_guarded(self, *args):
        try:
            self._write(*args)
        except BaseException as e:  # surfaced by wait_until_finished
            self._error = e

    def _write(self, step, names, arrays, impls, metadata):
        import orbax.checkpoint as ocp

        tmp = os.path.join(self.directory, f".tmp-{step}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        payload = {f"a{i}": a for i, a in enumerate(arrays)}
        if payload:
            ocp.PyTreeCheckpointer().save(os.path.join(tmp, _ARRAYS), payload)
        _write_json(os.path.join(tmp, "metadata.json"), metadata)
        files = {}
        for root, _, fnames in os.walk(tmp):
            for fname in fnames:
                full = os.path.join(root, fname)
                files[os.path.relpath(full, tmp)] = _sha256_file(full)
        manifest = {
            "format": "kerax.checkpoint/1", "step": step, "files": files,
            "arrays": [{"name": n, "shape": list(a.shape), "dtype": a.dtype.str,
                        "sha256": _sha256_array(a), "key_impl": impl}
                       for n, a, impl in zip(names, arrays, impls)],
        }
        _write_json(os.path.join(tmp, "manifest.json"), manifest)
        _fsync_dir(tmp)
        final = self.step_dir(step)
        old = None
        if os.path.exists(final):  # replacing a step: set it aside until the new one is in
            old = os.path.join(self.directory, f".old-{step}-{os.getpid()}")
            os.rename(final, old)
        os.rename(tmp, final)  # the commit
        _fsync_dir(self.directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._prune()

    def _prune(self):
        if self.max_to_keep is None:
            return
        for step in self.all_steps()[:-self.max_to_keep]:
            old = os.path.join(self.directory, f".del-{step}-{os.getpid()}")
            os.rename(self.step_dir(step), old)
            shutil.rmtree(old, ignore_errors=True)

    def wait_until_finished(self):
        """Blocks until a pending asynchronous write is committed (re-raising its error)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def close(self):
        self.wait_until_finished()

    def delete(self, step):
        """Removes a committed step."""
        shutil.rmtree(self.step_dir(step), ignore_errors=True)

    # ---------------------------------------------------------------- restoring --
    def verify(self, step):
        """Checks every file of `step` against its sha256; returns the manifest.

        Raises:
            CheckpointCorruptedError: a file is missing, truncated or altered.
        """
        root = self.step_dir(step)
        manifest_path = os.path.join(root, "manifest.json")
        try:
            with open(manifest_path) as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            raise CheckpointCorruptedError(
                f"Checkpoint step {step} in {self.directory} cannot be read: its manifest "
                f"{manifest_path} is missing or damaged ({e}). Restore another step, e.g. "
                f"one of {self.all_steps()}."
            ) from None
        for rel, digest in manifest["files"].items():
            full = os.path.join(root, rel)
            if not os.path.exists(full) or _sha256_file(full) != digest:
                state = "is missing" if not os.path.exists(full) else "does not match its sha256"
                raise CheckpointCorruptedError(
                    f"Checkpoint file {full} {state} (recorded in {manifest_path}): the "
                    "checkpoint is truncated or corrupted. Restore an earlier step or "
                    "delete this one."
                )
        return manifest

    def metadata(self, step):
        """The JSON metadata of a committed step, after checking the step's checksums."""
        self.verify(step)
        with open(os.path.join(self.step_dir(step), "metadata.json")) as f:
            return json.load(f)

    def restore(self, step=None, like=None):
        """Returns `(tree, metadata)` of `step` (default: the latest).

        Args:
            step: which step; None for the latest committed one.
            like: a pytree with the expected structure, shapes and dtypes (e.g. the live
                model's); the result has its structure. Without it, a flat
                `{path: array}` dict is returned.

        Raises:
            FileNotFoundError: no such step.
            CheckpointCorruptedError: a file or an array fails its checksum.
            ValueError: the checkpoint's structure or shapes differ from `like`.
        """
        self.wait_until_finished()
        if step is None:
            step = self.latest_step()
            if step is None:
                raise FileNotFoundError(f"No committed checkpoint in {self.directory}.")
        if step not in self.all_steps():
            raise FileNotFoundError(
                f"Checkpoint step {step} does not exist in {self.directory}; committed "
                f"steps: {self.all_steps()}."
            )
        manifest = self.verify(step)
        entries = manifest["arrays"]
        if like is not None:
            _validate_structure(entries, like, self.step_dir(step))
        import orbax.checkpoint as ocp

        root = self.step_dir(step)
        try:
            payload = ocp.PyTreeCheckpointer().restore(os.path.join(root, _ARRAYS)) \
                if entries else {}
        except Exception as e:  # a corrupted store orbax notices itself
            raise CheckpointCorruptedError(
                f"Checkpoint {root} could not be read ({type(e).__name__}: {e})."
            ) from None
        arrays = []
        for i, entry in enumerate(entries):
            a = np.asarray(payload[f"a{i}"]) if payload else None
            if a is None or _sha256_array(a) != entry["sha256"]:
                raise CheckpointCorruptedError(
                    f"Array {entry['name']!r} in checkpoint {root} does not match its sha256 "
                    "from manifest.json: the checkpoint is corrupted. Restore an earlier step."
                )
            if entry.get("key_impl"):
                a = jax.random.wrap_key_data(a, impl=entry["key_impl"])
            arrays.append(a)
        with open(os.path.join(root, "metadata.json")) as f:
            metadata = json.load(f)
        if like is None:
            return {e["name"]: a for e, a in zip(entries, arrays)}, metadata
        treedef = jax.tree_util.tree_structure(like)
        return jax.tree_util.tree_unflatten(treedef, arrays), metadata


def _validate_structure(entries, like, where):
    names, shapes = [], []
    for path, leaf in jax.tree_util.tree_flatten_with_path(like)[0]:
        names.append(_path_name(path))
        if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype,
                                                                 jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        shapes.append((tuple(np.shape(leaf)), np.dtype(getattr(leaf, "dtype", None)
                                                       or np.asarray(leaf).dtype).str))
    # Arrays match by position (as Keras' weight files do), so auto-generated layer
    # names that differ between two constructions of the same model do not matter.
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
