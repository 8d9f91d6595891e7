"""`kerax.remat` (gradient checkpointing of a function) and `kerax.RematScope`."""

import collections
import threading

import jax

from kerax.backend import global_state

_LOCAL = threading.local()
_MODES = ("full", "activations", "larger_than", "list_of_layers", None)

RematMode = collections.namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


def _stack():
    if not hasattr(_LOCAL, "stack"):
        _LOCAL.stack = []
    return _LOCAL.stack


def reset_stack():
    """Forgets every open `RematScope` (used by `clear_session`)."""
    _LOCAL.stack = []


global_state.register_reset(reset_stack)


def remat(f):
    """Rematerializes `f`: its intermediates are recomputed in the backward pass.

    This is `jax.checkpoint(f)`, as in Keras 3 on JAX: gradients are unchanged, and
    the activations inside `f` are not kept for the backward pass, trading compute for
    memory. Use it inside a layer's `call` or any function you differentiate.

    Args:
        f: a callable on arrays (a function or a bound method).

    Returns:
        The wrapped callable, with the same outputs and gradients as `f`.

    Example:
    >>> import jax, jax.numpy as jnp, kerax
    >>> f = kerax.remat(lambda x: jnp.sin(x) * x)
    >>> float(jax.grad(f)(1.0)) == float(jax.grad(lambda x: jnp.sin(x) * x)(1.0))
    True
    """
    if not callable(f):
        raise TypeError(
            f"remat() takes a callable (a function or a layer's method). Received: {f!r} "
            f"of type {type(f).__name__}."
        )
    return jax.checkpoint(f)


class RematScope:
    """Rematerialization (gradient checkpointing) for the layers created inside it.

    As in Keras 3, a layer created inside the scope keeps the scope's mode and applies
    it whenever it runs (its pure `apply`, hence `fit`): `"full"` recomputes every such
    layer's activations in the backward pass (`jax.checkpoint` around its forward),
    `"list_of_layers"` only the layers named in `layer_names`, `"larger_than"` the layers
    whose outputs have more than `output_size_threshold` elements, and `"activations"`
    the activation function of layers that have one (`Dense(..., activation="relu")`).
    Outputs and gradients are unchanged; activation memory goes down, compute goes up.

    Args:
        mode: `"full"`, `"activations"`, `"larger_than"`, `"list_of_layers"` or `None`.
        output_size_threshold: the output size above which `"larger_than"` applies
            (default 1024).
        layer_names: the layer names for `"list_of_layers"` (default: none).

    Raises:
        ValueError: for an unknown `mode`.

    Example:
    >>> import kerax
    >>> from kerax.backend.remat import get_current_remat_mode
    >>> with kerax.RematScope(mode="larger_than", output_size_threshold=2048):
    ...     get_current_remat_mode().output_size_threshold
    2048
    >>> get_current_remat_mode() is None
    True
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _MODES:
            raise ValueError(
                f"RematScope: unknown mode {mode!r}. Expected one of 'full', 'activations', "
                "'larger_than', 'list_of_layers', or None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []
        self._pushed = False

    def __enter__(self):
        _stack().append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc):
        stack = _stack()
        if self._pushed and stack and stack[-1] is self:
            stack.pop()
        self._pushed = False


def get_current_remat_mode():
    """The innermost open `RematScope` as a `RematMode`, or None when none is open."""
    stack = _stack()
    if not stack:
        return None
    top = stack[-1]
    return RematMode(top.mode, top.output_size_threshold, top.layer_names)
