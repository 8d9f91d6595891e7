"""`kerax.backend`: Keras' backend helpers, over JAX."""

from kerax import _exports
from kerax.backend.config import (  # noqa: F401
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    standardize_data_format,
)
from kerax.backend.dtypes import (  # noqa: F401
    is_float_dtype,
    is_int_dtype,
    result_type,
    standardize_dtype,
)
from kerax.backend.global_state import clear_session  # noqa: F401
from kerax.backend.keras_tensor import is_keras_tensor  # noqa: F401
from kerax.backend.naming import get_uid  # noqa: F401

__all__ = _exports.public_names(globals())
