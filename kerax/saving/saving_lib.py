"""The `.keras` zip format (`config.json`, `metadata.json`, `model.weights.h5`) and
`.weights.h5` files, written crash-safely and read defensively.

Writes go to a temporary file in the destination's directory, are flushed and fsynced,
then renamed over the destination with `os.replace`: a save killed at any point leaves
the previous file intact. Reads never unpickle, never import a module named in the file,
refuse member names with `..` or absolute paths, and check declared sizes before reading.
"""

import contextlib
import datetime
import io
import json
import os
import re
import shutil
import socket
import tempfile
import zipfile

from kerax.errors import (CheckpointCorruptedError, KeraxError, LayerShapeError, UnsafeModelError,
                          WeightsMismatchError)
from kerax.saving import (h5_store, keras_layout, load_limits, model_config,
                          object_registration, serialization_lib)

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
ASSETS_DIRNAME = "assets"
KERAS_VERSION = "3.15.1"  # the Keras 3 format version these files follow
MAX_JSON_BYTES = 64 << 20
MAX_MEMBERS = 10_000


@contextlib.contextmanager
def atomic_write(filepath):
    """Yields a temporary path next to `filepath`; on success it replaces `filepath`.

    The temporary file is fsynced before `os.replace`, and the directory after it, so a
    crash leaves either the old file or the complete new one.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with atomic_write(path) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> open(path).read()
    'done'
    """
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    name = os.path.basename(filepath)
    remove_stale_temporaries(directory, name)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=temporary_prefix(name), suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


_HOST = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"


def temporary_prefix(name):
    """`.<name>.<host>-<pid>.`: how this process names its temporaries for `name`."""
    return f".{name}.{_HOST}-{os.getpid()}."


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def stale_temporaries(directory, name):
    """The paths of temporaries for `name` in `directory` left by killed saves: named as
    `atomic_write` names them (`.<name>.<host>-<pid>.<random>.tmp`), written on this host by
    a process that no longer runs. Links are never listed."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(?P<host>.+)-(?P<pid>\d+)\.[a-z0-9_]+\.tmp$")
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        m = pattern.match(entry)
        if m is None or m.group("host") != _HOST or _pid_alive(int(m.group("pid"))):
            continue
        path = os.path.join(directory, entry)
        if not os.path.islink(path):
            found.append(path)
    return found


def remove_stale_temporaries(directory, name):
    """Removes the temporary files of saves to `name` that were killed before finishing.

    Only files (and, for `ExportArchive.write_out`, directories) listed by
    `stale_temporaries` are removed: a save still in progress (this or another process)
    keeps its file, and no other file is touched.
    """
    for path in stale_temporaries(directory, name):
        if os.path.isfile(path):
            with contextlib.suppress(OSError):
                os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------- .keras --
def save_model(model, filepath):
    """Writes `model` to a `.keras` zip file that Keras 3 can load (crash-safe)."""
    h5py = h5_store.h5py_module()
    config = model_config.serialize_model(model)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        h5_store.write_model(f, model, include_optimizer=True)
    with atomic_write(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(METADATA_FILENAME, json.dumps(metadata))
            zf.writestr(CONFIG_FILENAME, json.dumps(config))
            zf.writestr(WEIGHTS_FILENAME, buffer.getvalue())
            _write_assets(zf, model)


def _asset_layers(model):
    """`(archive folder, layer)` for the layers with Keras assets (vocabularies)."""
    return [(f"{ASSETS_DIRNAME}/{e.path}" if e.path else ASSETS_DIRNAME, e.layer)
            for e in keras_layout.weight_layout(model)
            if hasattr(type(e.layer), "save_assets")]


def _write_assets(zf, model):
    """Keras' `save_assets`: each layer writes files into its own folder of `assets/`."""
    for folder, layer in _asset_layers(model):
        with tempfile.TemporaryDirectory() as tmp:
            layer.save_assets(tmp)
            for name in sorted(os.listdir(tmp)):
                zf.write(os.path.join(tmp, name), f"{folder}/{name}")


def _read_assets(archive, members, model, filepath):
    """`[(layer, {file name: bytes})]`: each asset layer's files in its folder of `assets/`."""
    out = []
    for folder, layer in _asset_layers(model):
        names = [n for n in members if n.startswith(folder + "/")
                 and "/" not in n[len(folder) + 1:] and not n.endswith("/")]
        if names:
            out.append((layer, {n[len(folder) + 1:]: _read_member(
                archive, members[n], MAX_JSON_BYTES, filepath) for n in names}))
    return out


def _load_assets(assets):
    """Keras' `load_assets`: each layer reads its files from a folder."""
    for layer, files in assets:
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in files.items():
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(data)
            layer.load_assets(tmp)


def _corrupted(filepath, detail):
    return CheckpointCorruptedError(
        f"The file {filepath} is truncated or corrupted ({detail}); it cannot be loaded. "
        "Restore it from a backup or save the model again."
    )


def _check_members(archive, filepath):
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeModelError(f"Refusing to load {filepath}: it has {len(infos)} members.")
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise UnsafeModelError(
                f"Refusing to load {filepath}: member {name!r} points outside the archive "
                "(absolute path or '..'), which is how path-traversal attacks write files."
            )
    return {info.filename: info for info in infos}


def _read_member(archive, info, limit, filepath):
    if info.file_size > limit:
        raise UnsafeModelError(
            f"Refusing to load {filepath}: member {info.filename!r} declares "
            f"{info.file_size} bytes uncompressed, more than the {limit} bytes this model can "
            "need (a decompression bomb or a file for another model)."
        )
    try:
        with archive.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise _corrupted(filepath, f"member {info.filename!r}: {e}") from e
    if len(data) > limit:
        raise UnsafeModelError(
            f"Refusing to load {filepath}: member {info.filename!r} inflates beyond "
            f"{limit} bytes."
        )
    return data


def _open_zip(filepath):
    try:
        return zipfile.ZipFile(filepath, "r")
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise _corrupted(filepath, f"not a readable zip archive: {e}") from e


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, max_bytes=None):
    """Loads a `.keras` file written by kerax or Keras 3 (see `kerax.saving.load_model`)."""
    filepath = os.fspath(filepath)
    with _open_zip(filepath) as archive:
        members = _check_members(archive, filepath)
        for needed in (CONFIG_FILENAME, WEIGHTS_FILENAME):
            if needed not in members:
                raise _corrupted(filepath, f"the archive has no {needed!r}")
        raw = _read_member(archive, members[CONFIG_FILENAME], MAX_JSON_BYTES, filepath)
        config = load_limits.parse_config(raw, filepath, CONFIG_FILENAME)
        with serialization_lib.SafeModeScope(safe_mode):
            serialization_lib.check_config_safety(config, where=filepath)
            with object_registration.CustomObjectScope(custom_objects or {}):
                model = _build_from_file_config(config, custom_objects, max_bytes, filepath)
                if compile:
                    model_config.compile_loaded(model, config.get("compile_config"))
        assets = _read_assets(archive, members, model, filepath)
        if model._variables is None:
            _load_assets(assets)
            return model
        weights = _read_member(archive, members[WEIGHTS_FILENAME],
                               h5_store.expected_nbytes(model), filepath)
    try:
        _load_h5_bytes(weights, model, f"{filepath} ({WEIGHTS_FILENAME})",
                       load_optimizer=compile)
    except WeightsMismatchError as e:
        raise WeightsMismatchError(
            f"{filepath}: the file's config and its weights disagree (was config.json edited, "
            f"or the archive assembled from two models?). {e}") from e
    _load_assets(assets)  # after the weights, as Keras (a TF-IDF vocabulary needs its IDF)
    return model


def _build_from_file_config(config, custom_objects, max_bytes, filepath):
    """The model a `.keras` file's config describes (its size checked first, abstractly); a
    config whose layers cannot be built together (shapes that disagree: an edited file) is a
    damaged file, not a user error."""
    try:
        load_limits.check_variable_bytes(config, custom_objects, max_bytes,
                                         os.path.getsize(filepath), filepath)
        return model_config.model_from_config(config, custom_objects=custom_objects)
    except LayerShapeError as e:
        raise CheckpointCorruptedError(
            f"{filepath}: the model's config is inconsistent, so the model cannot be built "
            f"(its layers' shapes disagree; was config.json edited?). {e}") from e


def load_weights_from_archive(model, filepath):
    """Reads only the weights (and optimizer state) of a `.keras` file into `model`.

    As Keras' `model.load_weights("m.keras")`: the file's config is not read, so custom
    classes need no registration; the weights must fit the model's architecture, and
    nothing is assigned unless all of them do.
    """
    filepath = os.fspath(filepath)
    with _open_zip(filepath) as archive:
        members = _check_members(archive, filepath)
        if WEIGHTS_FILENAME not in members:
            raise _corrupted(filepath, f"the archive has no {WEIGHTS_FILENAME!r}")
        data = _read_member(archive, members[WEIGHTS_FILENAME],
                            h5_store.expected_nbytes(model), filepath)
    _load_h5_bytes(data, model, f"{filepath} ({WEIGHTS_FILENAME})", load_optimizer=True)


def _load_h5_bytes(data, model, where, load_optimizer):
    h5py = h5_store.h5py_module()
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise _corrupted(where, f"not a readable HDF5 file: {e}") from e
    with f:
        _guarded_read(f, model, where, load_optimizer)


def _guarded_read(f, model, where, load_optimizer):
    try:
        h5_store.read_model(f, model, where, load_optimizer=load_optimizer)
    except KeraxError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as e:  # from h5py
        raise _corrupted(where, f"reading the weights failed: {e}") from e


# -------------------------------------------------------------------- .weights.h5 --
def save_weights_only(model, filepath):
    """Writes the model's weights to a Keras 3 `.weights.h5` file (crash-safe)."""
    h5py = h5_store.h5py_module()
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            h5_store.write_model(f, model, include_optimizer=True)


def load_weights_only(model, filepath):
    """Reads a Keras 3 `.weights.h5` file into `model` (shapes checked before reading)."""
    h5py = h5_store.h5py_module()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file found at {filepath}.")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise _corrupted(filepath, f"not a readable HDF5 file: {e}") from e
    with f:
        _guarded_read(f, model, filepath, load_optimizer=True)
