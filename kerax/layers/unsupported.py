"""Keras arguments kerax accepts for compatibility but does not implement.

A Keras 3 program must not silently train something else than it asked for: such an
argument is accepted at its neutral value (what Keras' own configs carry, e.g.
`quantization_config: None`) and refused with a `NotImplementedError` otherwise.
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
    >>> refuse("Dense", "quantization_config", None)
    >>> refuse("Dense", "quantization_config", {"mode": "int8"})
    Traceback (most recent call last):
    ...
    NotImplementedError: Dense: `quantization_config` is not supported by kerax (expected ...
    """
    if value is neutral or (neutral is not None and value == neutral):
        return
    raise NotImplementedError(
        f"{owner}: `{argument}` is not supported by kerax (expected {neutral!r}, received "
        f"{value!r}). {hint or 'Remove the argument.'}"
    )


def check_quantization_config(owner, quantization_config):
    """Refuses a quantization config on a layer kerax does not quantize (Dense,
    EinsumDense and Embedding do; see `kerax.layers.core.quantization`).

    Example:
    >>> check_quantization_config("Dense", None)  # what Keras' configs carry: accepted
    """
    refuse(owner, "quantization_config", quantization_config,
           hint=f"kerax does not quantize {owner} layers (Dense, EinsumDense and Embedding "
                "quantize); remove the argument (or pass None).")


__all__ = ["refuse", "check_quantization_config"]
