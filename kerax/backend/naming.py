"""Keras' automatic names: `dense`, `dense_1`, ... (reset by `clear_session`)."""

import collections
import re

from kerax.backend import global_state

_UIDS = collections.defaultdict(int)


def to_snake_case(name):
    """`"BatchNormalization"` -> `"batch_normalization"`, as Keras does."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(name):
    """Returns `name` the first time, then `name_1`, `name_2`, ..."""
    unique = f"{name}_{_UIDS[name]}" if name in _UIDS else name
    _UIDS[name] += 1
    return unique


def auto_name(prefix):
    """A fresh Keras-style name for an object of class `prefix`."""
    return uniquify(to_snake_case(prefix))


def get_uid(prefix=""):
    """Associates a string prefix with an integer counter (starts at 1)."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids():
    _UIDS.clear()


global_state.register_reset(reset_uids)


def key_path_str(path):
    """A pytree key path as a Keras-like path string.

    Example:
    >>> import jax
    >>> key_path_str((jax.tree_util.DictKey("dense"), jax.tree_util.DictKey("kernel")))
    'dense/kernel'
    """
    parts = []
    for k in path:
        for attr in ("key", "idx", "name"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return "/".join(parts)
