"""`kerax.name_scope`: a named scope, as `keras.name_scope` on the JAX backend.

kerax names parameters by their place in the pytree (`params["dense"]["kernel"]`), not
by a variable-path hierarchy, so the scope does not change any parameter or layer name.
What it does, as Keras on JAX does: it opens a `jax.named_scope`, so the operations
traced inside carry the name in the lowered program and in profiler traces, and it
records the stack of open scopes (`current_path()`).
"""

import threading

import jax

from kerax.backend import global_state

_LOCAL = threading.local()


def _stack():
    if not hasattr(_LOCAL, "stack"):
        _LOCAL.stack = []
    return _LOCAL.stack


def reset_stack():
    """Forgets every open scope (used by `clear_session`)."""
    _LOCAL.stack = []


global_state.register_reset(reset_stack)


class name_scope:  # noqa: N801 (Keras' name)
    """Opens a named scope: `with kerax.name_scope("block1"): ...`.

    Operations traced inside get the name in their location metadata (what
    `jax.named_scope` does: visible in lowered programs and profiles). kerax keeps no
    variable-path hierarchy, so layer and parameter names are unchanged.

    Args:
        name: the scope's name, a string without `/`.
        caller: optional object opening the scope (e.g. a layer). With `deduplicate`,
            re-entering the same `name` from the same `caller` as the innermost open
            scope opens no new level.
        deduplicate: see `caller` (default True).
        override_parent: an absolute path (`"a/b"`) replacing the enclosing scopes in
            `current_path()`.

    Raises:
        ValueError: if `name` is not a string or contains `/`.

    Example:
    >>> import kerax
    >>> from kerax.backend.name_scope import current_path
    >>> with kerax.name_scope("encoder"):
    ...     with kerax.name_scope("block1"):
    ...         current_path()
    'encoder/block1'
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "name_scope: `name` must be a string without '/'. Received: "
                f"name={name!r}. Open nested scopes for a path, e.g. "
                "`with name_scope('a'): with name_scope('b'): ...`."
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        if override_parent is None and deduplicate:
            self.override_parent = getattr(caller, "_parent_path", None)
        self._jax_scope = None

    def __enter__(self):
        stack = _stack()
        if self.deduplicate and stack and self.caller is not None:
            top = stack[-1]
            if top.caller is self.caller and top.name == self.name:
                return self
        stack.append(self)
        self._jax_scope = jax.named_scope(self.name)
        self._jax_scope.__enter__()
        return self

    def __exit__(self, *exc):
        if self._jax_scope is None:
            return
        stack = _stack()
        if stack and stack[-1] is self:
            stack.pop()
        scope, self._jax_scope = self._jax_scope, None
        scope.__exit__(*exc)


def current_path():
    """The `/`-joined names of the open scopes (`""` when none is open)."""
    parts = []
    for scope in _stack():
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)
