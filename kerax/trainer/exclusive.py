"""One training or evaluation at a time per model: `fit`/`evaluate` on a model that another
thread is fitting or evaluating raise, instead of interleaving two runs' state.

A thread may re-enter its own run (a callback calling `model.evaluate` inside `fit`, `fit`
validating); `predict` takes no part (it may run from several threads at once).
"""

import contextlib
import threading

_lock = threading.Lock()
_owners = {}  # id(model) -> [owning thread id, depth, what]


def check(model, what):
    """Raises if another thread is running `fit`/`evaluate` on `model`.

    Example:
    >>> check(object(), "fit")  # nothing runs: no error
    """
    with _lock:
        owner = _owners.get(id(model))
        if owner is not None and owner[0] != threading.get_ident():
            raise RuntimeError(
                f"`{what}()` was called on model '{getattr(model, 'name', model)}' while "
                f"another thread is running `{owner[2]}()` on it.\n"
                "One model trains or evaluates in one thread at a time: wait for it "
                "(`thread.join()`), or use a copy of the model "
                "(`keras.models.clone_model(model)` with `set_weights`) in the other thread. "
                "`predict` may run from several threads at once.")
        return owner


@contextlib.contextmanager
def guard(model, what):
    """Holds `model` for this thread's `fit`/`evaluate` (re-entrant in the thread).

    Example:
    >>> with guard(object(), "fit"):
    ...     pass
    """
    check(model, what)
    with _lock:
        owner = _owners.setdefault(id(model), [threading.get_ident(), 0, what])
        if owner[0] != threading.get_ident():  # taken between the check and now
            owner = None
        else:
            owner[1] += 1
    if owner is None:
        check(model, what)  # raises
    try:
        yield
    finally:
        with _lock:
            owner[1] -= 1
            if owner[1] == 0:
                del _owners[id(model)]


__all__ = ["check", "guard"]
