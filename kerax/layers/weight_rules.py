"""Weight regularizers and constraints, and the losses layers add, as pure functions.

Keras adds three kinds of layer losses to the training loss, and so does kerax:

- **weight regularizers**: in a built-in (explicit-style) layer, the constructor argument
  `<prefix>_regularizer` (Keras' names) penalizes the param of
  the same prefix (`kernel_regularizer` -> `params["kernel"]`, `embeddings_regularizer`
  -> `params["embeddings"]`, `recurrent_regularizer` -> `params["recurrent_kernel"]`,
  `depthwise_regularizer` -> the depthwise kernel), and `add_weight(regularizer=...)`
  penalizes that weight (`declare` records it for that weight when it is created). Only
  trainable weights count, as in Keras.
- **activity regularizers** (`activity_regularizer=` on any layer, `ActivityRegularization`)
  and **`self.add_loss(value)`** inside `call`: these come out of the forward pass through
  `kerax.backend.apply_scope.record_forward` (see `apply_with_losses`).

Keras sums them all into the loss before the loss tracker sees it. Constraints
(`<prefix>_constraint`, `add_weight(constraint=...)`) are applied to the new params after
every optimizer update (`apply_constraints`).

The training engine calls `regularization_loss`, `apply_constraints` and
`has_weight_rules`; a hand-written loop uses `apply_with_losses`.
"""

import jax.numpy as jnp

from kerax.backend import apply_scope as scope_lib
from kerax.layers import batch_mask

# Prefixes whose param is not simply named `<prefix>` or `<prefix>_kernel`.
_ALIASES = {"depthwise": ("depthwise_kernel", "kernel"), "recurrent": ("recurrent_kernel",)}


def declare(layer, name, regularizer=None, constraint=None):
    """Declares the regularizer and constraint of `layer`'s own weight `name` (resolved
    objects or None), as `add_weight(regularizer=..., constraint=...)` does.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax import regularizers
    >>> from kerax.layers import Layer
    >>> layer = Layer()
    >>> declare(layer, "w", regularizer=regularizers.L2(0.5))
    >>> [float(x) for x in weight_regularization_losses(layer, {"w": jnp.ones(2)})]
    [1.0]
    """
    for suffix, fn in (("regularizer", regularizer), ("constraint", constraint)):
        rules = layer.__dict__.setdefault(f"_weight_{suffix}s", {})
        if fn is not None:
            rules[name] = fn
        else:
            rules.pop(name, None)


def _attribute_rules(layer, suffix):
    """`{prefix: value}` for the layer's non-None `<prefix>_<suffix>` attributes."""
    out = {}
    for attr, value in vars(layer).items():
        if value is None or not attr.endswith("_" + suffix) or attr.startswith("_"):
            continue
        prefix = attr[: -len(suffix) - 1]
        if prefix != "activity":
            out[prefix] = value
    return out


def _rules(layer, params, suffix):
    """`{param_name: fn}` for the params of `layer` that carry a regularizer/constraint."""
    rules = {}
    # A Keras-style layer declares its weights' rules in `add_weight` only (as in Keras,
    # where a `kernel_regularizer` attribute alone regularizes nothing); an explicit-style
    # layer declares them with its constructor arguments, named as in Keras.
    keras_style = getattr(type(layer).build_variables, "creates_weights_in_build", False)
    attrs = {} if keras_style else _attribute_rules(layer, suffix)
    for prefix, fn in attrs.items():
        for name in _ALIASES.get(prefix, (prefix, prefix + "_kernel")):
            if name in params and not isinstance(params[name], dict):
                if name == "kernel" and prefix != "kernel" and "kernel" in attrs:
                    continue
                rules.setdefault(name, fn)
                break
    own = layer.__dict__.get(f"_weight_{suffix}s", {})
    for name, fn in own.items():
        if name in params and not isinstance(params[name], dict):
            rules[name] = fn
    frozen = getattr(type(layer), "_frozen_params", None)  # LoRA's frozen base weight
    for name in frozen(layer, params) if frozen is not None else ():
        rules.pop(name, None)
    return rules, attrs


def _walk(layer, params, suffix, visit, attrs_from=None):
    """Calls `visit(fn, leaf)` for each regularized/constrained param; returns new params.

    A sub-dict of `params` that belongs to no registered child (a layer's internal
    projections, e.g. MultiHeadAttention's) follows the rules of the layer that owns it.
    """
    if not getattr(layer, "trainable", True):
        return params
    rules, attrs = _rules(layer, params, suffix) if attrs_from is None else (
        _rules(attrs_from, params, suffix))
    children = layer._children() if attrs_from is None else {}
    out = {}
    # Keras' order: the layer's own weights as created, then its sub-layers'.
    created = {n: i for i, n in enumerate(getattr(layer, "_weight_names", ((),))[0])}
    for name, value in sorted(params.items(), key=lambda kv: created.get(kv[0], len(created))):
        if isinstance(value, dict):
            if name in children:
                out[name] = _walk(children[name], value, suffix, visit)
            else:
                out[name] = _walk(layer, value, suffix, visit,
                                  attrs_from=layer if attrs_from is None else attrs_from)
        elif name in rules:
            out[name] = visit(rules[name], value)
        else:
            out[name] = value
    return out


def weight_regularization_losses(model, params):
    """The weight regularization terms of `model` for `params`, as a list of scalars.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = Dense(2, kernel_regularizer="l2")
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    >>> params = {"kernel": jnp.ones((3, 2)), "bias": jnp.zeros(2)}
    >>> [round(float(x), 4) for x in weight_regularization_losses(layer, params)]
    [0.06]
    """
    losses = []

    def visit(fn, leaf):
        losses.append(jnp.asarray(fn(leaf)))
        return leaf

    _walk(model, params, "regularizer", visit)
    return losses


def has_weight_rules(model, params, suffix):
    """Whether any param of `model` has a regularizer (`suffix="regularizer"`) or constraint."""
    found = []
    _walk(model, params, suffix, lambda fn, leaf: found.append(1) or leaf)
    return bool(found)


def regularization_loss(model, params, added_losses=()):
    """The sum of weight regularization terms and `added_losses`, or None if there are none.

    `added_losses` are the activity/`add_loss` values of the forward pass
    (`ForwardRecord.losses`). Each is summed to a scalar as Keras does.
    """
    terms = weight_regularization_losses(model, params)
    terms += [jnp.sum(jnp.asarray(x)) for x in added_losses]
    if not terms:
        return None
    total = terms[0].astype(jnp.float32)
    for term in terms[1:]:
        total = total + term.astype(jnp.float32)
    return total


def apply_constraints(model, params):
    """`params` with every constraint of `model` applied (after an optimizer update).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = Dense(2, kernel_constraint="non_neg")
    >>> params = {"kernel": -jnp.ones((3, 2)), "bias": -jnp.ones(2)}
    >>> new = apply_constraints(layer, params)
    >>> float(new["kernel"].min()), float(new["bias"].min())
    (0.0, -1.0)
    """
    return _walk(model, params, "constraint", lambda fn, leaf: jnp.asarray(fn(leaf), leaf.dtype))


def apply_with_losses(model, variables, *inputs, **kwargs):
    """`model.apply` that also returns the layer losses: `(outputs, state, losses)`.

    `losses` is the list of every weight regularization, activity regularization and
    `add_loss` term of this forward pass; add `sum(losses)` to your loss when you write
    your own training loop with `jax.grad`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    >>> y, state, losses = apply_with_losses(layer, v, jnp.ones((1, 3)))
    >>> len(losses)
    2
    """
    with scope_lib.record_forward() as record:
        outputs, state = model.apply(variables, *inputs, **kwargs)
    losses = weight_regularization_losses(model, variables.get("params", {}))
    return outputs, state, losses + list(record.losses)


def activity_penalty(regularizer, output):
    """Keras' activity loss: `regularizer(output) / batch_size`, real rows only.

    Inside `kerax.layers.batch_mask.use(rows)` (the engine's padded last batch) padded
    rows add nothing and the division is by the number of real rows.
    """
    x = jnp.asarray(output)
    if x.ndim == 0:
        return regularizer(x)
    rows = batch_mask.current()
    if rows is None or rows.shape[0] != x.shape[0]:
        return regularizer(x) / jnp.asarray(x.shape[0], x.dtype)
    keep = jnp.reshape(rows, (-1,) + (1,) * (x.ndim - 1))
    count = jnp.maximum(jnp.sum(rows.astype(x.dtype)), 1)
    return regularizer(jnp.where(keep, x, jnp.zeros((), x.dtype))) / count


__all__ = ["declare", "activity_penalty", "weight_regularization_losses", "regularization_loss", "apply_constraints",
           "apply_with_losses", "has_weight_rules"]
