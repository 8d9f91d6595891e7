"""Bounded work on load: a model's `config.json` is checked before anything is built.

A config must be a JSON object describing one model, nested no deeper than a model
could need; otherwise `CheckpointCorruptedError` says what is wrong (instead of a
`RecursionError` or an `AttributeError` from deep inside). The bytes of the variables
the config describes are then computed abstractly (the model is built once under
`jax.eval_shape`, so no array is allocated) and compared with a limit before the real
build: a 1 KB config asking for `Dense(units=2_000_000_000)` is refused, not allocated.
A model that reads concrete values while it builds (a custom layer calling `np.asarray`
on a weight in `build`) cannot be sized this way; it is built without the bound.
"""

import copy
import json
import os

import jax
import numpy as np

from kerax.backend import random_state
from kerax.errors import CheckpointCorruptedError, UnsafeModelError
from kerax.saving import model_config

MAX_DEPTH = 256  # Keras configs nest a few dozen levels; nothing legitimate nests deeper
DEFAULT_MAX_BYTES = 1 << 30
# Errors that mean "this model needs concrete values to build" under `jax.eval_shape`.
_NEEDS_VALUES = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                 jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError,
                 jax.errors.UnexpectedTracerError)


def parse_config(raw, where, member="config.json"):
    """The model config in `raw` (JSON text or bytes), checked to be one model's object.

    `where` names the file and `member` the config inside it, for the messages.

    Raises:
        CheckpointCorruptedError: not JSON, not an object, nested too deeply, or without
            a `class_name`.

    Example:
    >>> parse_config('{"class_name": "Sequential", "config": {}}', "m.keras")["class_name"]
    'Sequential'
    >>> parse_config("[1, 2]", "m.keras")
    Traceback (most recent call last):
    ...
    kerax.errors.CheckpointCorruptedError: m.keras: config.json must hold a JSON object ...
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        config = json.loads(text)
    except RecursionError:
        raise _malformed(where, f"{member} is nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise _malformed(where, f"{member} is not valid JSON: {e}") from e
    check_model_config(config, where, member)
    return config


def check_model_config(config, where, member="config.json"):
    """Raises `CheckpointCorruptedError` unless `config` (parsed JSON) is one model's
    object with a `class_name`, nested no deeper than `MAX_DEPTH`."""
    if not isinstance(config, dict):
        raise _malformed(where, f"{member} must hold a JSON object with a 'class_name' and "
                                f"a 'config', but it holds a JSON {_json_type(config)}")
    check_depth(config, where, member)
    if not isinstance(config.get("class_name"), str) or not isinstance(
            config.get("config", {}), (dict, type(None))):
        raise _malformed(where, f"{member} has no string 'class_name' and 'config' object "
                                "at its top level, as Keras writes for a model")


def check_depth(config, where, member="config.json"):
    """Raises if `config` nests lists and objects deeper than `MAX_DEPTH` (iteratively)."""
    stack = [(config, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _malformed(where, f"{member} is nested deeper than {MAX_DEPTH} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _malformed(where, why):
    return CheckpointCorruptedError(
        f"{where}: {why}. The file is corrupted or not a Keras model file; restore it from "
        "a backup or save the model again."
    )


def _json_type(value):
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def variable_bytes(config, custom_objects=None):
    """Bytes of the variables the model `config` describes, without allocating them.

    Returns None when the model cannot be built abstractly (a custom layer that reads
    concrete values while it builds); its size is then known only after building.

    Example:
    >>> import kerax
    >>> cfg = model_config.serialize_model(
    ...     kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)]))
    >>> variable_bytes(cfg)  # kernel (3, 2) and bias (2,), float32
    32
    """
    total = []

    def build():  # on a copy: a user's `from_config` may change the dict it is given
        model = model_config.model_from_config(copy.deepcopy(config),
                                                custom_objects=custom_objects)
        total.append(sum(int(np.prod(x.shape, dtype=object)) * np.dtype(x.dtype).itemsize
                         for x in jax.tree_util.tree_leaves(model._variables or {})
                         if hasattr(x, "shape") and hasattr(x, "dtype")))

    try:
        with random_state.preserved():  # a seeded program draws as if nothing was built
            jax.eval_shape(build)
    except _NEEDS_VALUES:
        return None
    return total[0]


def tree_bytes(directory):
    """The total size of the files under `directory` (a checkpoint step)."""
    total = 0
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def check_variable_bytes(config, custom_objects, max_bytes, file_bytes, where):
    """Refuses a config whose variables need more than the load limit (see `load_model`).

    The limit is `max_bytes` when given; otherwise the larger of `DEFAULT_MAX_BYTES` and
    twice the file's size (`file_bytes`: a file must hold every variable it describes).
    """
    limit = max_bytes if max_bytes is not None else max(DEFAULT_MAX_BYTES, 2 * file_bytes)
    needed = variable_bytes(config, custom_objects)
    if needed is not None and needed > limit:
        why = (f"`max_bytes={max_bytes}`" if max_bytes is not None else
               f"the default: the larger of {DEFAULT_MAX_BYTES:,} bytes and twice the "
               f"file's {file_bytes:,} bytes")
        raise UnsafeModelError(
            f"Refusing to load {where}: its config describes variables of {needed:,} bytes, "
            f"more than the {limit:,} bytes an untrusted file may make kerax allocate "
            f"({why}). If you trust the file, pass `max_bytes={needed}` (or more) to "
            "`load_model`."
        )
    return needed
