"""Checks shared by convolution, pooling and reshaping layers: int tuples and paddings."""


def standardize_tuple(value, n, name, allow_zero=False):
    """Returns `value` (an int or `n` ints) as a tuple of `n` ints, checking signs.

    Example:
    >>> standardize_tuple(3, 2, "kernel_size")
    (3, 3)
    >>> standardize_tuple((1, 2), 2, "strides")
    (1, 2)
    """
    bound = ">= 0" if allow_zero else "> 0"
    hint = (f"The `{name}` argument must be an int or a tuple of {n} integers {bound}. "
            f"Received: {name}={value!r}")
    if isinstance(value, bool):
        raise ValueError(hint)
    if isinstance(value, int):
        out = (value,) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(hint) from None
        if len(out) != n:
            raise ValueError(hint)
    if any(v < 0 or (v == 0 and not allow_zero) for v in out):
        raise ValueError(hint)
    return out


def standardize_padding(value, allow_causal=False):
    """Lower-cases a padding name and checks it is `"valid"`, `"same"` (or `"causal"`).

    Example:
    >>> standardize_padding("SAME")
    'same'
    """
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {allowed}. Received: padding={value!r}"
        )
    return padding


def dimension_numbers(rank, data_format):
    """`lax` dimension numbers for a convolution over `rank` spatial axes.

    The kernel is in Keras' layout (spatial..., in, out), so a channels-last input needs
    no transpose: e.g. `("NHWC", "HWIO", "NHWC")`.

    Example:
    >>> dimension_numbers(2, "channels_last")
    ('NHWC', 'HWIO', 'NHWC')
    """
    spatial = "DHW"[-rank:] if rank <= 3 else None
    if spatial is None:
        raise ValueError(f"Convolutions support 1 to 3 spatial axes. Received: rank={rank}")
    lhs = "N" + spatial + "C" if data_format == "channels_last" else "NC" + spatial
    return lhs, spatial + "IO", lhs
