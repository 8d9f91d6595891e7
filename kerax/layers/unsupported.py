"""Keras arguments kerax accepts for compatibility but does not implement.

A Keras 3 program must not silently train something else than it asked for: such an
argument is accepted at its neutral value (what Keras' own configs carry, e.g.
`gptq_unpacked_column_size: None`) and refused with a `NotImplementedError` otherwise.
"""


def refuse(owner, argument, value, neutral=None, hint=""):
    """Raises `NotImplementedError` unless `value` is the argument's neutral value.

    Args:
        owner: what received the argument, e.g. `"Dense"`.
        argument: the argument's name.
        value: the value received.
        neutral: the value kerax supports (the argument's default).
        hint: what to do instead.

    Example:
    >>> refuse("EinsumDense", "gptq_unpacked_column_size", None)
    >>> refuse("EinsumDense", "gptq_unpacked_column_size", 8)
    Traceback (most recent call last):
    ...
    NotImplementedError: EinsumDense: `gptq_unpacked_column_size` is not supported by kerax ...
    """
    if value is neutral or (neutral is not None and value == neutral):
        return
    raise NotImplementedError(
        f"{owner}: `{argument}` is not supported by kerax (expected {neutral!r}, received "
        f"{value!r}). {hint or 'Remove the argument.'}"
    )


__all__ = ["refuse"]
