"""Reading `OrbaxCheckpoint` directories back: `load_model(directory)` and
`model.load_weights(directory)` (the root: its latest step; or one `step_<N>` directory),
each array put straight onto the layout the current distribution gives it.

The writing half is the callback, `kerax.callbacks.OrbaxCheckpoint`; reading lives in
saving, below the callbacks that import it.
"""

import os
import re

import jax

from kerax.checkpoint import layouts
from kerax.checkpoint.array_reader import alignment, read_arrays, validate_structure
from kerax.checkpoint.checkpoint_manager import CheckpointManager
from kerax.saving import load_guard, load_limits, model_config, optimizer_vars
from kerax.serialization import object_registration, serialization_lib
from kerax.trainer import train_state_store

FORMAT = "kerax.OrbaxCheckpoint/1"
_STEP_DIR = re.compile(r"^step_(\d+)$")


# ---------------------------------------------------------------------- reading --
class _Reader(CheckpointManager):
    """A `CheckpointManager` that only reads: it neither creates the directory nor
    cleans up temporaries a running `fit` may be writing."""

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        self.max_to_keep = None
        self.async_write = False
        self._thread = None
        self._error = None


def _locate(path):
    """`(reader, step)` for a checkpoint root (its latest step) or one step directory."""
    path = os.path.abspath(os.fspath(path))
    match = _STEP_DIR.match(os.path.basename(path))
    if match and os.path.exists(os.path.join(path, "manifest.json")):
        return _Reader(os.path.dirname(path)), int(match.group(1))
    reader = _Reader(path)
    step = reader.latest_step()
    if step is not None:
        return reader, step
    names = sorted(os.listdir(path))
    if not names:
        raise ValueError(
            f"{path} is an empty directory, not a checkpoint. Pass the directory an "
            "`OrbaxCheckpoint` callback saved into (or one of its `step_<N>` directories)."
        )
    if {"signature.json", "checksums.json"} <= set(names):
        raise ValueError(
            f"{path} is a `model.export(..., format=\"jax\")` artifact (inference only: "
            "no config, no optimizer), not a saved model. Reload it with "
            "`kerax.export.load(path)`; for a model to train, save it with "
            "`model.save('model.keras')`."
        )
    if any(n.isdigit() for n in names):
        raise ValueError(
            f"{path} looks like a checkpoint written by Keras' `OrbaxCheckpoint` (step "
            "directories named 0, 1, ...), which kerax does not read. Load it in Keras and "
            "save it with `model.save('model.keras')`, which kerax loads."
        )
    raise ValueError(
        f"No committed checkpoint step in {path}: expected `step_<N>` directories with a "
        f"`manifest.json`, as `kerax.callbacks.OrbaxCheckpoint` writes; found "
        f"{names[:5]}. A step still being written (or killed mid-write) is not committed."
    )


def _metadata(reader, step):
    metadata = reader.metadata(step)
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{reader.step_dir(step)} was not written by `OrbaxCheckpoint` (it is a "
            "`BackupAndRestore` backup or another checkpoint); `load_model` and "
            "`load_weights` read `OrbaxCheckpoint` directories only."
        )
    return metadata


def _restore_into(model, reader, step, parts):
    """Reads the step's arrays (each onto its current layout) and puts `parts` of them
    (a subset of params, state, opt_state, rng) into `model`."""
    manifest = reader.verify(step)
    entries = manifest["arrays"]
    saved = {e["name"].split("/")[0] for e in entries}
    like = {"params": model._variables["params"], "state": model._variables["state"]}
    if "opt_state" in parts and "opt_state" in saved:
        optimizer_vars.ensure_built(model)
        like["opt_state"] = model.optimizer.state
    where = reader.step_dir(step)
    # None with no distribution; else each part's layout, as `fit` places it.
    shardings = layouts.training_shardings(model, {"opt_state": None, **like})
    targets = [None] * len(entries)
    order = {}
    for part, value in like.items():
        index = [i for i, e in enumerate(entries) if e["name"].split("/")[0] == part]
        index = [index[j] for j in alignment([entries[i] for i in index], {part: value})]
        order[part] = index
        part_entries = [entries[i] for i in index]
        validate_structure(part_entries, {part: value}, where)
        if shardings is not None and shardings.get(part) is not None:
            flat = jax.tree_util.tree_structure(value).flatten_up_to(shardings[part])
            for i, target in zip(index, flat):
                targets[i] = target
    arrays = read_arrays(where, entries, targets)
    restored = {}
    for part, value in like.items():
        leaves = [arrays[i] for i in order[part]]
        restored[part] = jax.tree_util.tree_unflatten(
            jax.tree_util.tree_structure(value), leaves)
    model.variables = {"params": restored["params"], "state": restored["state"]}
    if "opt_state" in restored:
        model.optimizer.state = restored["opt_state"]
    if "rng" in parts and "rng" in saved:
        train_state_store.set_train_rng(
            model, next(a for e, a in zip(entries, arrays) if e["name"] == "rng"))


def load_model_from_checkpoint(path, custom_objects=None, compile=True, safe_mode=True,
                               max_bytes=None):
    """Rebuilds the model saved by `OrbaxCheckpoint` in `path` (see `load_model`).

    Raises:
        ValueError: `path` holds no committed step, a weights-only step, or another
            kind of checkpoint.
        CheckpointCorruptedError: a file of the step is missing, truncated or altered.
        UnsafeModelError: the config would run code (a `Lambda`) and `safe_mode` is on,
            or its variables need more than `max_bytes` (see `kerax.saving.load_model`).
    """
    reader, step = _locate(path)
    metadata = _metadata(reader, step)
    if metadata["weights_only"]:
        raise ValueError(
            f"{reader.step_dir(step)} was saved with `save_weights_only=True`: it holds no "
            "model config. Build the model, then call `model.load_weights(directory)`."
        )
    where = reader.step_dir(step)
    config = metadata.get("model_config")
    load_limits.check_model_config(config, where, "metadata.json's 'model_config'")
    with serialization_lib.SafeModeScope(safe_mode):
        serialization_lib.check_config_safety(config, where=where)
        with object_registration.CustomObjectScope(custom_objects or {}):
            load_limits.check_variable_bytes(config, custom_objects, max_bytes,
                                             load_limits.tree_bytes(where), where)
            model = model_config.model_from_config(config, custom_objects=custom_objects)
            if compile:
                model_config.compile_loaded(model, config.get("compile_config"))
    parts = ("params", "state", "opt_state", "rng") if compile else ("params", "state")
    _restore_into(model, reader, step, parts)
    return model


def load_weights_from_checkpoint(model, path):
    """Puts the params and state (and the optimizer state, when both the checkpoint and
    the compiled model have one) of an `OrbaxCheckpoint` step into the built `model`."""
    reader, step = _locate(path)
    _metadata(reader, step)
    parts = ("params", "state")
    if getattr(model, "optimizer", None) is not None:
        parts += ("opt_state",)
    with load_guard.unchanged_on_error(model):  # a failed restore changes nothing
        _restore_into(model, reader, step, parts)
