"""`kerax.device`: run computations on a chosen device, as `keras.device` on JAX."""

import jax


def device(device_name):
    """A context manager placing new arrays and computations on one device.

    This is `jax.default_device` for the device named `"type:index"` (`"cpu:0"`,
    `"gpu:1"`, `"tpu:0"`; the index defaults to 0), as in Keras 3 on JAX. Arrays
    already placed elsewhere, and `jit` functions given committed arrays, stay where
    their inputs are (JAX's rule).

    Args:
        device_name: a string `"type:index"` (case-insensitive) or a `jax.Device`.

    Returns:
        A context manager.

    Raises:
        ValueError: if `device_name` is neither a string nor a `jax.Device`, or names a
            device that is not present.

    Example:
    >>> import jax.numpy as jnp, kerax
    >>> with kerax.device("cpu:0"):
    ...     x = jnp.ones((2,))
    >>> x.devices().pop().platform
    'cpu'
    """
    if isinstance(device_name, jax.Device):
        return jax.default_device(device_name)
    if not isinstance(device_name, str):
        raise ValueError(
            "device() takes a string like 'cpu:0' or 'gpu:0', or a jax.Device. "
            f"Received: device_name={device_name!r} of type {type(device_name).__name__}."
        )
    return jax.default_device(_find(device_name.lower()))


def _find(name):
    platform, _, index = name.partition(":")
    if index and not index.isdigit():
        raise ValueError(
            f"device(): the index in {name!r} must be an integer, e.g. 'gpu:0'."
        )
    index = int(index or 0)
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        devices = []
    for d in devices:
        if d.id == index:
            return d
    available = [f"{d.platform}:{d.id}" for d in jax.devices()]
    raise ValueError(
        f"device(): no device {name!r} is present. Available devices: {available}. "
        "Pass one of these, e.g. device('cpu:0')."
    )
