"""Keras' automatic names, at Keras' path `utils.naming` (they live in `kerax.backend.naming`)."""

from kerax.backend.naming import (  # noqa: F401
    auto_name,
    get_uid,
    key_path_str,
    reset_uids,
    to_snake_case,
    uniquify,
)
