"""`CheckpointManager`: atomic, checksummed, optionally asynchronous pytree checkpoints.

Each step is a directory `step_<N>` holding the arrays (written by orbax-checkpoint),
`metadata.json` (any JSON the caller passes) and `manifest.json`: the sha256 of every
file, and each array's path, shape, dtype and checksum. A step is written in a temporary
directory and renamed into place only once complete, so a process killed mid-write leaves
the previous steps intact and no half-written `step_<N>`.

Sharded arrays (`jax.Array`s laid out by a distribution) are written shard by shard by the
processes that hold them, never gathered onto one device or host; their checksums are
computed on their devices and do not depend on the layout (`checksums`). `restore` puts
each array straight onto the sharding it is given, which may differ from the one it was
saved with. With several processes, every process calls `save` and `restore`; process 0
alone writes metadata and the manifest and commits the step (`multihost`).

An asynchronous save (one process) first copies the arrays on their devices, so the write
never sees later updates (nor buffers donated to the next training step).
"""

import hashlib
import json
import os
import re
import shutil
import threading

import jax
import jax.numpy as jnp
import numpy as np

from kerax.checkpoint import checksums, multihost
from kerax.checkpoint.array_reader import (ARRAYS, alignment, path_name, read_arrays,
                                          validate_structure)
from kerax.errors import CheckpointCorruptedError

_STEP_DIR = re.compile(r"^step_(\d+)$")
# Background writes in flight in this process, per directory: a new manager on the same
# directory (a `fit` restarted after an exception) waits for them before cleaning up.
_IN_FLIGHT = {}
_HASH_PART = ".sha256-"


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_key(leaf):
    return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype,
                                                                jax.dtypes.prng_key)


def _snapshot(leaf, copy):
    """One leaf as saved: device arrays stay where they are (copied on their devices when
    the write is asynchronous), typed PRNG keys become their raw key data, anything else
    becomes a host copy."""
    impl = None
    if _is_key(leaf):
        leaf, impl = jax.random.key_data(leaf), str(jax.random.key_impl(leaf))
    if isinstance(leaf, jax.Array):
        return (jnp.copy(leaf) if copy else leaf), impl
    return np.array(leaf, copy=True), impl


def flatten(tree, copy=True):
    """`(names, arrays, key_impls, treedef)` for a pytree (None leaves dropped)."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    names, arrays, impls = [], [], []
    for path, leaf in flat:
        a, impl = _snapshot(leaf, copy)
        names.append(path_name(path))
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


def _list_files(root):
    found = []
    for dirpath, _, fnames in os.walk(root):
        for fname in fnames:
            if not fname.startswith(_HASH_PART):
                found.append(os.path.relpath(os.path.join(dirpath, fname), root))
    return sorted(found)


def _check_manifest(manifest):
    """Raises `ValueError` unless `manifest` has the layout `_write` gives it."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"{what} is not as kerax writes it")

    need(isinstance(manifest, dict), "the manifest")
    files, arrays = manifest.get("files"), manifest.get("arrays")
    need(isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str)
                                         for k, v in files.items()), "'files'")
    need(isinstance(arrays, list), "'arrays'")
    for i, e in enumerate(arrays):
        need(isinstance(e, dict) and isinstance(e.get("name"), str)
             and isinstance(e.get("shape"), list)
             and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                     for d in e["shape"])
             and isinstance(e.get("dtype"), str)
             and isinstance(e.get("checksum", e.get("sha256")), str)
             and isinstance(e.get("key_impl"), (str, type(None))), f"array entry {i}")
        try:
            np.dtype(e["dtype"])
        except TypeError:
            need(False, f"the dtype {e['dtype']!r} of array entry {i}")


class CheckpointManager:
    """Saves and restores numbered pytree checkpoints in `directory`.

    Args:
        directory: where the `step_<N>` directories go (created if missing).
        max_to_keep: keep only this many newest steps (None: keep all).
        async_write: write in a background thread; `save` returns once the arrays are
            copied (on their devices). Call `wait_until_finished()` (or `close()`) to
            block. With several processes, writes are synchronous (orbax's barriers
            must not run beside training collectives).

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
        pending = _IN_FLIGHT.pop(self.directory, None)
        if pending is not None:
            pending.join()
        if multihost.is_primary():
            os.makedirs(self.directory, exist_ok=True)
            self._recover()
        multihost.sync(f"kerax-checkpoint-open:{self.directory}")

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
    def _asynchronous(self):
        return self.async_write and not multihost.is_multiprocess()

    def save(self, step, tree, metadata=None):
        """Saves `tree` (a pytree of arrays) and JSON `metadata` as step `step`.

        With several processes, every process must call it with the same step and the
        same tree structure; each writes the shards it holds.
        """
        self.wait_until_finished()
        names, arrays, impls, _ = flatten(tree, copy=self._asynchronous())
        metadata = json.loads(json.dumps(metadata or {}))  # a private, JSON-clean copy
        # Device checksums start now, on the arrays' devices, with no host transfer.
        on_device = iter(checksums.device_checksums(
            [a for a in arrays if isinstance(a, jax.Array)]))
        digests = [next(on_device) if isinstance(a, jax.Array) else checksums.sha256_array(a)
                   for a in arrays]
        args = (int(step), names, arrays, impls, digests, metadata)
        if self._asynchronous():
            self._thread = threading.Thread(target=self._write_guarded, args=args,
                                            daemon=False)
            self._thread.start()
            _IN_FLIGHT[self.directory] = self._thread
        else:
            self._write(*args)

    def _write_guarded(self, *args):
        try:
            self._write(*args)
        except BaseException as e:  # surfaced by wait_until_finished
            self._error = e

    def _write(self, step, names, arrays, impls, digests, metadata):
        import orbax.checkpoint as ocp

        tmp = os.path.join(self.directory, f".tmp-{step}")
        barrier = f"kerax-checkpoint:{self.directory}:{step}"
        if multihost.is_primary():
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            _write_json(os.path.join(tmp, "metadata.json"), metadata)
        multihost.sync(barrier + ":begin")
        payload = {f"a{i}": a for i, a in enumerate(arrays)}
        if payload:  # every process writes the shards it holds
            ocp.PyTreeCheckpointer().save(os.path.join(tmp, ARRAYS), payload)
        multihost.sync(barrier + ":written")
        files = _list_files(tmp)
        hashes = {rel: _sha256_file(os.path.join(tmp, rel)) for rel in multihost.share(files)}
        entries = [{"name": n, "shape": list(a.shape), "dtype": a.dtype.str, "key_impl": impl,
                    **({"checksum": checksums.to_hex(d)} if isinstance(a, jax.Array)
                       else {"sha256": d})}
                   for n, a, impl, d in zip(names, arrays, impls, digests)]
        if multihost.is_multiprocess():
            _write_json(os.path.join(tmp, f"{_HASH_PART}{jax.process_index()}"), hashes)
            multihost.sync(barrier + ":hashed")
        if multihost.is_primary():
            for p in range(jax.process_count() if multihost.is_multiprocess() else 0):
                part = os.path.join(tmp, f"{_HASH_PART}{p}")
                with open(part) as f:
                    hashes.update(json.load(f))
                os.remove(part)
            self._commit(step, tmp, {"format": "kerax.checkpoint/2", "step": step,
                                     "files": hashes, "arrays": entries})
        multihost.sync(barrier + ":committed")  # nobody reads a half-written step

    def _commit(self, step, tmp, manifest):
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
        """Removes a committed step (every process calls it; process 0 deletes)."""
        if multihost.is_primary():
            shutil.rmtree(self.step_dir(step), ignore_errors=True)
        multihost.sync(f"kerax-checkpoint-delete:{self.directory}:{step}")

    # ---------------------------------------------------------------- restoring --
    def _manifest(self, step):
        manifest_path = os.path.join(self.step_dir(step), "manifest.json")
        try:
            with open(manifest_path) as f:
                manifest = json.load(f)
            _check_manifest(manifest)
            return manifest
        except (OSError, ValueError, RecursionError) as e:
            raise CheckpointCorruptedError(
                f"Checkpoint step {step} in {self.directory} cannot be read: its manifest "
                f"{manifest_path} is missing or damaged ({e}). Restore another step, e.g. "
                f"one of {self.all_steps()}."
            ) from None

    def _check_files(self, step, manifest, files):
        """Checks `files` against their sha256: each process checks its share, and all
        processes raise together if any file fails."""
        root = self.step_dir(step)
        files = sorted(files)
        bad = -1
        for rel in multihost.share(files):
            full = os.path.join(root, rel)
            if not os.path.exists(full) or _sha256_file(full) != manifest["files"][rel]:
                bad = files.index(rel)
                break
        bad = multihost.first_failure(bad)
        if bad >= 0:
            full = os.path.join(root, files[bad])
            state = "is missing" if not os.path.exists(full) else "does not match its sha256"
            raise CheckpointCorruptedError(
                f"Checkpoint file {full} {state} (recorded in "
                f"{os.path.join(root, 'manifest.json')}): the checkpoint is truncated or "
                "corrupted. Restore an earlier step or delete this one."
            )

    def verify(self, step):
        """Checks every file of `step` against its sha256; returns the manifest.

        With several processes, each reads only its share of the files.

        Raises:
            CheckpointCorruptedError: a file is missing, truncated or altered.
        """
        manifest = self._manifest(step)
        self._check_files(step, manifest, manifest["files"])
        return manifest

    def metadata(self, step):
        """The JSON metadata of a committed step (checked against its sha256 only; the
        arrays are checked by `restore`)."""
        manifest = self._manifest(step)
        self._check_files(step, manifest, ["metadata.json"])
        with open(os.path.join(self.step_dir(step), "metadata.json")) as f:
            return json.load(f)

    def restore(self, step=None, like=None, shardings=None):
        """Returns `(tree, metadata)` of `step` (default: the latest).

        Args:
            step: which step; None for the latest committed one.
            like: a pytree with the expected structure, shapes and dtypes (e.g. the live
                model's); the result has its structure. Without it, a flat
                `{path: array}` dict is returned.
            shardings: a pytree like `like` of `jax.sharding.Sharding` objects (or None
                leaves): each saved device array is read straight onto its sharding,
                each process reading only its shards. Without one, device arrays come
                back on this process's first local device. Arrays saved from the host
                come back as numpy arrays.

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
        targets = [None] * len(entries)
        order = list(range(len(entries)))  # the saved entry of each of `like`'s leaves
        if like is not None:
            order = alignment(entries, like)
            validate_structure([entries[i] for i in order], like, self.step_dir(step))
            if shardings is not None:
                flat = jax.tree_util.tree_structure(like).flatten_up_to(shardings)
                for i, target in zip(order, flat):
                    targets[i] = target
        root = self.step_dir(step)
        arrays = read_arrays(root, entries, targets)
        with open(os.path.join(root, "metadata.json")) as f:
            metadata = json.load(f)
        if like is None:
            return {e["name"]: a for e, a in zip(entries, arrays)}, metadata
        treedef = jax.tree_util.tree_structure(like)
        return jax.tree_util.tree_unflatten(treedef, [arrays[i] for i in order]), metadata
