"""kerax's optax optimizer state as Keras 3's list of optimizer variables, and back.

Keras saves `optimizer.variables`: `iteration`, `learning_rate` (absent with a
schedule), then the optimizer's slots in Keras' order. kerax's `optimizer.variables`
are exactly that list wherever the optimizer declares Keras' slot layout (all the
built-in Keras optimizers but Adafactor and Muon), so those states map both ways. Other
optimizers are saved as the flat leaves of the optax state under a kerax-specific group,
which Keras ignores (it then starts with a fresh optimizer state).
"""

import jax
import numpy as np


def ensure_built(model):
    """Builds `model.optimizer.state` for the model's trainable params (as `fit` would)."""
    from kerax.trainer import steps as steps_lib
    from kerax.trainer.trainer import _signature

    mask = model._trainable_mask()
    if model.optimizer.state is None or model._opt_mask_signature != _signature(mask):
        trainable, _ = steps_lib.partition(model._variables["params"], mask)
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
