"""`kerax.config`: global settings, named as in `keras.config` (plus `enable_determinism`)."""

from kerax import _exports
from kerax.backend.config import (  # noqa: F401
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from kerax.backend.switches import (  # noqa: F401
    disable_interactive_logging,
    disable_traceback_filtering,
    enable_determinism,
    enable_interactive_logging,
    enable_traceback_filtering,
    is_determinism_enabled,
    is_interactive_logging_enabled,
    is_traceback_filtering_enabled,
    max_epochs,
    max_steps_per_epoch,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from kerax.dtype_policies.dtype_policy import dtype_policy, set_dtype_policy  # noqa: F401
from kerax.serialization.serialization_lib import enable_unsafe_deserialization  # noqa: F401

__all__ = _exports.public_names(globals())
