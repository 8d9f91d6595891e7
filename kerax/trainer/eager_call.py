"""A built model's eager call `model(x)` as one jitted `apply` per input shape and dtype.

An eager call runs the forward op by op, as Keras does: for a 784-512-512-10 MLP about
0.5 ms of dispatch around 0.08 ms of arithmetic. kerax runs the first `EAGER_CALLS` calls
with a given input shape, dtype and `training` eagerly (the first builds the model and
raises the shape errors; a few calls are not worth a compile, ~50-200 ms for that MLP);
from the next such call on, when that forward is pure — built-in layers only,
`training` not true, no loss added in `call`, no output mask, no weight assigned in
`call` — it runs `jax.jit(apply)` on the model's live variables, read at every call (so
the weights `fit`, `set_weights` or `assign` left are the ones used), and stores the
state the forward returned when it changed any, as the eager call does. The cache lives
in the model's `_programs` (reset by `compile` and by a change of its layers).

Example:
>>> import numpy as np, kerax
>>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
>>> x = np.ones((4, 3), "float32")
>>> outs = [model(x) for _ in range(EAGER_CALLS + 1)]  # eager, then the jitted apply
>>> bool(np.allclose(outs[0], outs[-1]))
True
"""

import jax
import numpy as np

from kerax.backend import apply_scope as scope_lib
from kerax.distribution import placement
from kerax.layers import keras_mask, live_variables, seed_state
from kerax.trainer import compile_cache
from kerax.trainer.pytrees import all_layers

EAGER = object()  # `call`'s answer where the eager call must run
EAGER_CALLS = 3  # calls per key that run eagerly before the forward is compiled
_NOT_PURE = "eager"  # a cache entry: this key's forward is not pure; always eager


class _NotPure(Exception):
    pass


def call(model, args, kwargs):
    """`model(*args, **kwargs)` through the cached jitted `apply`, or `EAGER`."""
    if len(args) != 1 or (kwargs and (len(kwargs) > 1 or "training" not in kwargs)):
        return EAGER
    x, training = args[0], kwargs.get("training")
    if (training or not (type(x) is np.ndarray or isinstance(x, jax.Array))
            or isinstance(x, jax.core.Tracer) or getattr(x, "_keras_mask", None) is not None
            or not model.built or placement.current() is not None):
        return EAGER
    key = ("eager_call", x.shape, x.dtype, training)
    entry = model._programs.get(key, 0)
    if entry is _NOT_PURE:
        return EAGER
    if isinstance(entry, int):
        if entry < EAGER_CALLS:
            model._programs[key] = entry + 1  # (the count of eager calls)
            return EAGER
        compile_cache.ensure_configured()
        entry = model._programs[key] = _Jitted(model, training)
    variables = live_variables.read_checked(model) or model._variables
    if variables is None:
        return EAGER
    try:
        out, state = entry(variables, x)
    except Exception:  # noqa: BLE001 (a forward that needs concrete values: the eager
        model._programs[key] = _NOT_PURE  # call runs it, and raises its own errors)
        return EAGER
    model.__dict__["_eager_losses"] = []
    if state is not None:
        model._variables = {"params": variables["params"], "state": state}
    return out


class _Jitted:
    """`(outputs, state or None)` of the model's pure forward, jitted; raises `_NotPure`
    while tracing a forward the eager call must run."""

    def __init__(self, model, training):
        self.model, self.training = model, training
        self.fn = jax.jit(self._forward)

    def _forward(self, variables, x):
        model = self.model
        if any(not type(layer).__module__.startswith("kerax.") for layer in all_layers(model)):
            raise _NotPure  # a user's layer: its `call` may act on Python objects
        with scope_lib.record_forward() as record, seed_state.implicit_rng(False):
            out, state = model.apply(variables, x, training=bool(self.training))
        if (record.losses or record.assigned_params or record.output_mask(model) is not None
                or keras_mask.output_mask(model, x, None) is not None):
            raise _NotPure
        before = jax.tree_util.tree_leaves(variables["state"])
        after = jax.tree_util.tree_leaves(state)
        changed = len(before) != len(after) or any(a is not b for a, b in zip(after, before))
        return out, (state if changed else None)

    def __call__(self, variables, x):
        return self.fn(variables, x)


__all__ = ["EAGER", "EAGER_CALLS", "call"]
