"""kerax's optax optimizer state as Keras 3's list of optimizer variables, and back.

Keras saves `optimizer.variables`: `iteration`, `learning_rate` (absent with a
schedule), then the optimizer's slots in Keras' order. kerax's `optimizer.variables`
are exactly that list wherever the optimizer declares Keras' slot layout (all the
built-in Keras optimizers but Adafactor and Muon), so those states map both ways. Other
optimizers are saved as the flat leaves of the optax state under a kerax-specific group,
which Keras ignores (it then starts with a fresh optimizer state).
"""

import contextlib

import jax
import numpy as np


def ensure_built(model):
    """Builds `model.optimizer.state` for the model's trainable params (as `fit` would)."""
    from kerax.trainer import steps as steps_lib
    from kerax.trainer.trainer import _signature

    mask = model._trainable_mask()
    if model.optimizer.state is None or model._opt_mask_signature != _signature(mask):
        trainable, _ = steps_lib.partition(model.variables["params"], mask)
        model.optimizer.build(trainable)
        model._opt_mask_signature = _signature(mask)
    if getattr(model.optimizer, "_owner", False) is None:
        model.optimizer._bind_owner(model)  # Keras' variable order


def _exact(model):
    exact = getattr(model.optimizer, "_keras_layout_exact", None)
    return exact is not None and exact()


def keras_variables(model):
    """The optimizer state as Keras' variable list (NumPy arrays), or None if unmappable."""
    if not _exact(model):
        return None
    out = [np.asarray(v) for v in model.optimizer.variables]
    out[0] = np.asarray(out[0], np.int64)
    return out


def expected_shapes(model):
    """Shapes of `keras_variables(model)` (None if unmappable), without reading values."""
    if not _exact(model):
        return None
    return [tuple(v.shape) for v in model.optimizer.variables]


def assign_keras_variables(model, arrays):
    """Sets the optimizer state from Keras' variable list (shapes already checked)."""
    model.optimizer._assign_variables(arrays)


def state_leaves(model):
    """The optax state's leaves (kerax's own layout, for unmappable optimizers)."""
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model.optimizer.state)]


def state_shapes(model):
    return [tuple(np.shape(x)) for x in jax.tree_util.tree_leaves(model.optimizer.state)]


def assign_state_leaves(model, arrays):
    leaves, treedef = jax.tree_util.tree_flatten(model.optimizer.state)
    new = [jax.numpy.asarray(a, jax.numpy.asarray(old).dtype) for a, old in zip(arrays, leaves)]
    model.optimizer.state = jax.tree_util.tree_unflatten(treedef, new)


_MODEL_STATE = ("_opt_mask_signature", "_train_rng")


@contextlib.contextmanager
def unchanged_on_error(model):
    """Puts the model's variables and optimizer state back if the block raises.

    Loading reads and checks everything before assigning; this makes the guarantee hold
    also when an optimizer is built on the way (`ensure_built`) or an assignment fails
    late: a failed load leaves the model exactly as it was.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> before = m.get_weights()[0].copy()
    >>> try:
    ...     with unchanged_on_error(m):
    ...         m.set_weights([w * 0 for w in m.get_weights()])
    ...         raise OSError("disk gone")
    ... except OSError:
    ...     pass
    >>> bool((m.get_weights()[0] == before).all())
    True
    """
    opt = getattr(model, "optimizer", None)
    variables = model._variables
    opt_state = getattr(opt, "state", None)
    attrs = {k: model.__dict__[k] for k in _MODEL_STATE if k in model.__dict__}
    try:
        yield
    except BaseException:
        model._variables = variables
        if opt is not None:
            opt.state = opt_state
        for k in _MODEL_STATE:
            if k in attrs:
                model.__dict__[k] = attrs[k]
            else:
                model.__dict__.pop(k, None)
        raise
