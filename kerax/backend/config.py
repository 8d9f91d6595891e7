"""Global settings, as in `keras.config`: float type, fuzz factor, image layout."""

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx():
    """Returns the default float type, as a string (`"float32"` unless set).

    Example:
    >>> import kerax
    >>> kerax.config.floatx()
    'float32'
    """
    return _FLOATX


def set_floatx(value):
    """Sets the default float type: one of `"float16"`, `"bfloat16"`, `"float32"`, `"float64"`.

    Example:
    >>> import kerax
    >>> kerax.config.set_floatx("float32")
    """
    global _FLOATX
    accepted = ("bfloat16", "float16", "float32", "float64")
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {accepted}.")
    _FLOATX = str(value)


def epsilon():
    """Returns the fuzz factor used in numeric expressions (default `1e-7`).

    Example:
    >>> import kerax
    >>> kerax.config.epsilon()
    1e-07
    """
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions.

    Example:
    >>> import kerax
    >>> kerax.config.set_epsilon(1e-7)
    """
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import kerax
    >>> kerax.config.image_data_format()
    'channels_last'
    """
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image layout: `"channels_last"` or `"channels_first"`.

    Example:
    >>> import kerax
    >>> kerax.config.set_image_data_format("channels_last")
    """
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "`data_format` must be 'channels_first' or 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """Returns `data_format` lower-cased, or the global default when it is None."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "`data_format` must be 'channels_first' or 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def backend():
    """Returns the name of the backend: always `"jax"`.

    Example:
    >>> import kerax
    >>> kerax.config.backend()
    'jax'
    """
    return "jax"
