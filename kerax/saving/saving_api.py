"""Public saving functions, named and checked as in `keras.saving`."""

import os
from typing import Any

from kerax.saving import legacy_h5, legacy_h5_model, orbax_reader, saving_lib


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"{filepath} already exists and `overwrite=False`. Pass `overwrite=True` to "
            "replace it, or choose another path."
        )


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               zipped: bool | None = None, **kwargs) -> None:
    """Saves a model as a `.keras` zip (config, metadata, weights, optimizer state), or,
    for a path ending in `.h5`/`.hdf5`, as a legacy Keras 2 HDF5 model file (as Keras 3;
    `include_optimizer=False` leaves the compile arguments and optimizer state out).

    The file follows Keras 3's format, so `keras.saving.load_model` reads it too. The
    write is crash-safe: a temporary file is written, fsynced and renamed into place.

    Args:
        model: a built kerax model.
        filepath: a path ending in `.keras`.
        overwrite: whether to replace an existing file (else `FileExistsError`).

    Example:
    >>> import os, tempfile, numpy as np, kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> save_model(m, path)
    >>> np.allclose(load_model(path).get_weights()[0], m.get_weights()[0])
    True
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {sorted(kwargs)}")
    if str(os.fspath(filepath)).endswith((".h5", ".hdf5")) and zipped is not False:
        _check_overwrite(os.fspath(filepath), overwrite)
        return legacy_h5_model.save_model(model, os.fspath(filepath), include_optimizer)
    if zipped is False:
        raise ValueError("kerax saves `.keras` files zipped only; omit `zipped=False`.")
    filepath = os.fspath(filepath)
    if not str(filepath).endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension "
            "for the native Keras format (recommended) or a `.h5` extension (use "
            "`save_weights` with a `.weights.h5` path for weights only). Received: "
            f"filepath={filepath}"
        )
    _check_overwrite(filepath, overwrite)
    saving_lib.save_model(model, filepath)


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True,
               max_bytes: int | None = None) -> Any:
    """Loads a `.keras` model written by kerax or by Keras 3, a legacy Keras 2 HDF5 model
    (`.h5`/`.hdf5`, as `model.save("m.h5")` writes), or an `OrbaxCheckpoint`.

    Args:
        filepath: path to a `.keras` file, or a directory `kerax.callbacks.OrbaxCheckpoint`
            saved into (its latest step is loaded) or one of its `step_<N>` directories.
        custom_objects: dict mapping names to custom classes or functions.
        compile: whether to compile the model (and restore its optimizer state) from the
            file's `compile_config`.
        safe_mode: refuse code stored in the file (Python lambdas as bytecode). Pass
            `False` only for files you trust. Modules named in a file are never imported.
        max_bytes: the most bytes the model's variables may need (kerax only). The
            config's variables are sized abstractly before anything is allocated; by
            default a file (or checkpoint step) may describe up to 1 GiB or twice its
            own size, whichever is larger. Raise it for a file you trust.

    Raises:
        UnsafeModelError: the file would run code, escape the archive, declares sizes
            that do not fit its architecture, or describes variables above `max_bytes`.
        CheckpointCorruptedError: the file is truncated or corrupted, or its config is
            malformed (not a JSON object, nested too deeply).
    """
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):  # an `OrbaxCheckpoint` directory (root or one step)
        return orbax_reader.load_model_from_checkpoint(
            filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode,
            max_bytes=max_bytes)
    if filepath.endswith(".weights.h5"):
        raise ValueError(
            f"{filepath} holds weights only. Build the model, then call "
            "`model.load_weights(filepath)`."
        )
    if filepath.endswith((".h5", ".hdf5")):  # legacy Keras 2 model (`model.save("m.h5")`)
        return legacy_h5_model.load_model(filepath, custom_objects=custom_objects,
                                          compile=compile, safe_mode=safe_mode,
                                          max_bytes=max_bytes)
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    return saving_lib.load_model(filepath, custom_objects=custom_objects, compile=compile,
                                 safe_mode=safe_mode, max_bytes=max_bytes)


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Saves the model's weights in Keras 3's `.weights.h5` layout (crash-safe)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            f"The filename must end in `.weights.h5`. Received: filepath={filepath}"
        )
    if model._variables is None:
        raise ValueError(
            f"Model '{model.name}' is not built yet, so it has no weights to save. Call it on "
            "data (or `build(input_shape)`) first."
        )
    _check_overwrite(filepath, overwrite)
    saving_lib.save_weights_only(model, filepath)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights from a `.weights.h5` file (Keras 3's layout), a `.keras` file, a
    legacy Keras 2 HDF5 file (`.h5`/`.hdf5`, weights or full model: matched by layer
    order, or by layer name with `by_name=True`; `skip_mismatch=True` skips weights of
    another shape with a warning), or an `OrbaxCheckpoint` directory (its latest step, or
    one `step_<N>` directory)."""
    filepath = os.fspath(filepath)
    by_name = kwargs.pop("by_name", None)
    if filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        if model._variables is None:
            raise ValueError(
                f"Model '{model.name}' is not built yet: build it (call it on data or "
                "`build(input_shape)`) before `load_weights`.")
        return legacy_h5.load_weights(model, filepath, by_name=bool(by_name),
                                      skip_mismatch=skip_mismatch)
    if by_name is not None:
        raise ValueError(
            f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: "
            f"{filepath}")
    if skip_mismatch:
        raise NotImplementedError("`skip_mismatch=True` is not supported by kerax yet.")
    if model._variables is None:
        raise ValueError(
            f"Model '{model.name}' is not built yet: build it (call it on data or "
            "`build(input_shape)`) before `load_weights`, so weights can be checked "
            "against its architecture."
        )
    if os.path.isdir(filepath):  # an `OrbaxCheckpoint` directory (root or one step)
        return orbax_reader.load_weights_from_checkpoint(model, filepath)
    if filepath.endswith(".keras"):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No weights file found at {filepath}.")
        saving_lib.load_weights_from_archive(model, filepath)
        return
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            "File format not supported: filepath="
            f"{filepath}. kerax reads `.weights.h5` and `.keras` weights files."
        )
    saving_lib.load_weights_only(model, filepath)
