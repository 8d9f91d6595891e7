"""`kerax.backend`: Keras' backend helpers, over JAX."""

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
from kerax.utils.naming import get_uid  # noqa: F401


def clear_session():
    """Resets the global name counters, as `keras.backend.clear_session()` does.

    Example:
    >>> import kerax
    >>> kerax.backend.clear_session()
    """
    from kerax.utils import naming

    naming.reset_uids()
