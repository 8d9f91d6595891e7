"""Which rows of the current batch are real: the engine's padding contract with layers.

The training engine pads the last, short batch to the full batch size so that the step
compiles once (DESIGN.md §4). Layers that mix examples — BatchNormalization's batch
statistics — must then use the real rows only. The engine wraps `apply` in
`use(row_mask)`, where `row_mask` is a bool array of shape `(batch,)` that is True for
real rows; such layers read it with `current()`. Outside `use`, `current()` is None and
every row counts.

The mask may be a traced array: set it inside the jitted step function, around `apply`.

Example:
>>> import jax.numpy as jnp
>>> current() is None
True
>>> with use(jnp.array([True, True, False])):
...     current().tolist()
[True, True, False]
>>> current() is None
True
"""

import contextlib
import contextvars

_ROW_MASK = contextvars.ContextVar("kerax_batch_row_mask", default=None)


def current():
    """The active row mask (bool, shape `(batch,)`), or None when every row is real."""
    return _ROW_MASK.get()


@contextlib.contextmanager
def use(mask):
    """Marks the real rows of the batch for every `apply` run inside the block.

    Args:
        mask: a bool array of shape `(batch,)` (True = real row), or None (all rows).
    """
    token = _ROW_MASK.set(mask)
    try:
        yield mask
    finally:
        _ROW_MASK.reset(token)
