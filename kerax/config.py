"""`kerax.config`: global settings, named as in `keras.config`."""

from kerax.backend.config import (  # noqa: F401
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
