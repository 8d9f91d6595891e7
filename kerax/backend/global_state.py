"""`clear_session`: resets the process-wide state kerax keeps, as Keras 3 does.

Each module that keeps such state registers how to reset it (`register_reset`) when it
is imported, so this module, at the bottom of the layers, imports none of them.
"""

import gc

from kerax.serialization import serialization_lib

_RESETS = []  # what `clear_session` calls, in registration (import) order


def register_reset(fn):
    """Makes `clear_session()` call `fn()` (registered by the module that owns the state).

    Example:
    >>> state = {"count": 3}
    >>> register_reset(lambda: state.update(count=0))
    >>> clear_session(free_memory=False)
    >>> state
    {'count': 0}
    >>> _RESETS.pop() and None
    """
    _RESETS.append(fn)


def clear_session(free_memory=True):
    """Resets the global state kerax keeps, as `keras.utils.clear_session()` does.

    What is reset, as in Keras 3: the automatic-name counters (the next `Dense` is named
    `dense` again), the open `name_scope`s and `RematScope`s, the global dtype policy,
    the current distribution, the interactive-logging switch (back to on) and
    `enable_unsafe_deserialization()` (back to safe mode). What is kept, as in Keras 3:
    `floatx`, `epsilon`, `image_data_format`, `max_epochs`, `max_steps_per_epoch` and
    registered custom objects. The global random stream of `set_random_seed` is kept too:
    a seeded program stays reproducible and draws new numbers after `clear_session`,
    which is what Keras' re-created seed generator gives. JAX's compilation caches are
    left alone (Keras' JAX backend does not clear them either; see `jax.clear_caches`).

    Args:
        free_memory: whether to run Python's garbage collector (`gc.collect()`), which
            frees the memory of deleted models at once. It can take a moment; pass
            `False` in a short loop.

    Example:
    >>> import kerax
    >>> _ = kerax.layers.Dense(2), kerax.layers.Dense(2)
    >>> kerax.utils.clear_session()
    >>> kerax.layers.Dense(2).name
    'dense'
    """

    for reset in _RESETS:
        reset()
    serialization_lib._UNSAFE_GLOBAL[0] = False
    if free_memory:
        gc.collect()
