"""Keras 2's full-model HDF5 file (`model.save("m.h5")`, `load_model("m.h5")`).

As Keras 3 writes it: root attributes `keras_version`, `backend`, `model_config` (the
model's JSON config) and, for a compiled model, `training_config` (the compile arguments
with `optimizer_config`); the weights in `model_weights` (the legacy layout of
`legacy_h5`); the optimizer's variables in `optimizer_weights`.

Loading is as safe as `.keras` loading: the config is parsed with bounded depth,
refused if it holds code (Lambda bytecode) unless `safe_mode=False`, its variables are
sized abstractly before anything is allocated, and the weights are loaded all or
nothing.
"""

import hashlib
import json
import logging
import os
import warnings

import numpy as np

from kerax.errors import KeraxError
from kerax.saving import (h5_store, legacy_h5, load_guard, load_limits, model_config,
                          object_registration, optimizer_vars, saving_lib,
                          serialization_lib)

MAX_ATTR_BYTES = 64 << 20  # a model's JSON config is far smaller


def _json_bytes(value):
    return json.dumps(value).encode("utf8")


def _digest(text_bytes):
    return hashlib.sha256(text_bytes).hexdigest()


def _write_json_attr(f, name, value):
    """The JSON attribute `name` plus its sha256 (`kerax_<name>_sha256`, an attribute
    Keras ignores): a flipped byte in a config would otherwise load as another model."""
    data = _json_bytes(value)
    f.attrs[name] = data
    f.attrs[f"kerax_{name}_sha256"] = _digest(data)


def _training_config(model):
    config = model_config.get_compile_config(model)
    if config is None:
        return None
    optimizer = config.pop("optimizer")
    config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                  "config": optimizer["config"]}
    return config


def save_model(model, filepath, include_optimizer=True):
    """Writes `model` as a legacy Keras 2 HDF5 model file that Keras 3 loads (crash-safe).

    Example:
    >>> import os, tempfile, numpy as np, kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
    >>> save_model(m, path)
    >>> np.allclose(load_model(path).get_weights()[0], m.get_weights()[0])
    True
    """
    h5py = h5_store.h5py_module()
    config = json.loads(json.dumps(serialization_lib.serialize_keras_object(model)))
    config = {"class_name": config["class_name"], "config": config["config"]}
    with saving_lib.atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["keras_version"] = saving_lib.KERAS_VERSION
            f.attrs["backend"] = "jax"
            _write_json_attr(f, "model_config", config)
            training = _training_config(model) if include_optimizer else None
            if training is not None:
                _write_json_attr(f, "training_config", training)
            legacy_h5.save_weights_to_group(f.create_group("model_weights"), model,
                                            saving_lib.KERAS_VERSION)
            opt = getattr(model, "optimizer", None)
            arrays = None
            if include_optimizer and opt is not None and getattr(opt, "state", None) is not None:
                arrays = optimizer_vars.keras_variables(model)
            if arrays:
                group = f.create_group("optimizer_weights")
                names = [f"{opt.name}/variable_{i}" for i in range(len(arrays))]
                legacy_h5._save_subset(group, names, arrays)
                # How many were written (Keras ignores it): a damaged group is then
                # reported, not replaced by a fresh optimizer.
                f.attrs["kerax_optimizer_variables"] = len(arrays)


def _attr_text(f, name, where):
    value = f.attrs.get(name)
    if value is None:
        if f.attrs.get(f"kerax_{name}_sha256") is not None:  # kerax wrote it: it was there
            raise legacy_h5._corrupted(where, f"attribute '{name}' is missing")
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "SUO" and value.shape == ():
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise legacy_h5._corrupted(where, f"attribute '{name}' is not JSON text")
    if len(value) > MAX_ATTR_BYTES:
        raise legacy_h5._corrupted(where, f"attribute '{name}' is larger than "
                                          f"{MAX_ATTR_BYTES} bytes")
    expected = f.attrs.get(f"kerax_{name}_sha256")  # absent in files Keras wrote
    if expected is not None:
        if isinstance(expected, bytes):
            expected = expected.decode("ascii", "replace")
        if str(expected) != _digest(value.encode("utf-8", "surrogatepass")):
            raise legacy_h5._corrupted(where, f"attribute '{name}' does not match its "
                                              "checksum")
    return value


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, max_bytes=None):
    """Loads a legacy `.h5`/`.hdf5` model file (see `kerax.saving.load_model`)."""
    h5py = h5_store.h5py_module()
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file found at {filepath}.")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise legacy_h5._corrupted(filepath, f"not a readable HDF5 file: {e}") from e
    with f:
        try:
            return _load(h5py, f, filepath, custom_objects, compile, safe_mode, max_bytes)
        except KeraxError:
            raise
        except (OSError, RuntimeError, KeyError) as e:  # from h5py
            raise legacy_h5._corrupted(filepath, f"reading the file failed: {e}") from e
        except ValueError as e:
            if _raised_in_h5py(e):  # a damaged header (a dtype, a shape)
                raise legacy_h5._corrupted(filepath, f"reading the file failed: {e}") from e
            raise


def _raised_in_h5py(error):
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return "h5py" in tb.tb_frame.f_code.co_filename


def _load(h5py, f, filepath, custom_objects, compile, safe_mode, max_bytes):
    # Reading every attribute name first: damaged attribute storage raises here (a
    # RuntimeError, reported as corruption) instead of hiding attributes from `get`.
    list(f.attrs.keys())
    raw = _attr_text(f, "model_config", filepath)
    if raw is None:
        raise ValueError(f"No model config found in the file at {filepath}.")
    config = load_limits.parse_config(raw, filepath, "the 'model_config' attribute")
    with serialization_lib.SafeModeScope(safe_mode):
        serialization_lib.check_config_safety(config, where=filepath)
        with object_registration.CustomObjectScope(custom_objects or {}):
            load_limits.check_variable_bytes(config, custom_objects, max_bytes,
                                             os.path.getsize(filepath), filepath)
            model = model_config.model_from_config(config, custom_objects=custom_objects)
            group = legacy_h5._group(h5py, f, "model_weights", filepath)
            legacy_h5.load_weights_from_group(group, model, where=filepath)
            if compile:
                _compile(h5py, f, model, filepath)
    return model


def _compile(h5py, f, model, filepath):
    raw = _attr_text(f, "training_config", filepath)
    if raw is None:
        logging.getLogger("kerax").warning(
            "No training configuration found in the save file, so the model was *not* "
            "compiled. Compile it manually.")
        return
    try:
        training = json.loads(raw)
    except ValueError as e:
        raise legacy_h5._corrupted(filepath, f"'training_config' is not valid JSON: {e}") from e
    if not isinstance(training, dict) or not isinstance(training.get("optimizer_config"), dict):
        raise legacy_h5._corrupted(filepath, "'training_config' has no 'optimizer_config'")
    load_limits.check_depth(training, filepath, "the 'training_config' attribute")
    config = dict(training)
    config["optimizer"] = config.pop("optimizer_config")
    model_config.compile_from_config(model, config)
    written = f.attrs.get("kerax_optimizer_variables")  # absent in files Keras wrote
    if "optimizer_weights" not in f:
        if written is not None:
            raise legacy_h5._corrupted(filepath, "its 'optimizer_weights' group is missing")
        return
    group = legacy_h5._group(h5py, f, "optimizer_weights", filepath)
    saved = legacy_h5._subset(h5py, group, filepath)
    if written is not None and int(np.asarray(written)) != len(saved):
        raise legacy_h5._corrupted(filepath, f"'optimizer_weights' holds {len(saved)} "
                                             f"variables where {int(np.asarray(written))} "
                                             "were written")
    with load_guard.unchanged_on_error(model):
        optimizer_vars.ensure_built(model)
        shapes = optimizer_vars.expected_shapes(model)
        mismatch = shapes is None or [tuple(s) for s in shapes] != [s.shape for s in saved]
        if mismatch and written is not None:  # kerax wrote them for this very model
            raise legacy_h5._corrupted(filepath, "its optimizer variables' shapes do not "
                                                 "match the model's optimizer")
        if mismatch:
            warnings.warn(
                f"{filepath}: Error in loading the saved optimizer state (the file has "
                f"{len(saved)} optimizer variables that do not match optimizer "
                f"'{model.optimizer.name}'). As a result, your model is starting with a "
                "freshly initialized optimizer.", stacklevel=3)
            return
        optimizer_vars.assign_keras_variables(model, [s.read(None) for s in saved])

