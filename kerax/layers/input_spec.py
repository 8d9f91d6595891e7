"""`InputSpec` and the input check that names the layer, the expected and the received shape."""

from kerax.errors import LayerShapeError


class InputSpec:
    """Declares the rank, shape or axis sizes a layer accepts (Keras' `InputSpec`).

    Example:
    >>> spec = InputSpec(min_ndim=2, axes={-1: 4})
    >>> spec.axes
    {-1: 4}
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = dict(axes or {})
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}


def _describe(spec):
    parts = []
    if spec.ndim is not None:
        parts.append(f"rank {spec.ndim}")
    if spec.min_ndim is not None:
        parts.append(f"rank >= {spec.min_ndim}")
    if spec.max_ndim is not None:
        parts.append(f"rank <= {spec.max_ndim}")
    for axis, size in spec.axes.items():
        if size is not None:
            where = "the last input axis" if axis == -1 else f"input axis {axis}"
            parts.append(f"{where} to be {size}")
    if spec.shape is not None:
        parts.append(f"shape {spec.shape}")
    return " and ".join(parts)


def assert_input_compatibility(layer, spec, x):
    """Raises `LayerShapeError` if `x` does not fit `spec`, naming layer and both shapes."""
    if spec is None or x is None or not hasattr(x, "shape"):
        return
    shape = tuple(x.shape)
    ndim = len(shape)
    ok = True
    if spec.ndim is not None and ndim != spec.ndim:
        ok = False
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        ok = False
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        ok = False
    if ok:
        for axis, size in spec.axes.items():
            if size is None:
                continue
            if -ndim <= axis < ndim and shape[axis] is not None and shape[axis] != size:
                ok = False
    if ok and spec.shape is not None:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                ok = False
    if not ok:
        set_at = " (set at init)" if spec.axes else ""
        raise LayerShapeError(
            f"{type(layer).__name__} '{layer.name}': expected {_describe(spec)}{set_at}, "
            f"received input of shape {shape}."
        )


def relax_input_spec(layer, x):
    """Keeps the unknown (`None`) dimensions of the symbolic input `x` unknown in
    `layer.input_spec`: a layer built from a placeholder size (1) for a dimension Keras
    leaves unknown (a sequence length, an image size) must accept any size there later.

    Example:
    >>> from kerax.backend.keras_tensor import KerasTensor
    >>> from kerax.layers import Layer
    >>> layer = Layer()
    >>> layer.input_spec = InputSpec(shape=(None, 1, 3), axes={1: 1, -1: 3})
    >>> relax_input_spec(layer, KerasTensor((None, None, 3)))
    >>> layer.input_spec.shape, layer.input_spec.axes
    ((None, None, 3), {1: None, -1: 3})
    """
    spec = getattr(layer, "input_spec", None)
    shape = getattr(x, "shape", None)
    if not isinstance(spec, InputSpec) or shape is None:
        return
    unknown = {i for i, d in enumerate(shape) if d is None}
    if not unknown:
        return
    rank = len(shape)
    if spec.shape is not None and len(spec.shape) == rank:
        spec.shape = tuple(None if i in unknown else d for i, d in enumerate(spec.shape))
    spec.axes = {axis: None if -rank <= axis < rank and axis % rank in unknown else size
                 for axis, size in spec.axes.items()}
