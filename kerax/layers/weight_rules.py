"""Weight regularizers and constraints, and the losses layers add, as pure functions.

Keras adds three kinds of layer losses to the training loss, and so does kerax:

- **weight regularizers**: a layer declares, for each param it creates, its regularizer
  and constraint with `param_rules()`, a dict `{param name: (regularizer, constraint)}`.
  A built-in layer builds it from its constructor arguments, named as in Keras (`Dense`:
  `{"kernel": (kernel_regularizer, kernel_constraint), "bias": (bias_regularizer,
  bias_constraint)}`); a Keras-style layer declares them in `add_weight(regularizer=...,
  constraint=...)` (which calls `declare`; the default `param_rules()` returns those).
  A nested dict in the table holds the rules of a sub-dict of params that belongs to no
  sub-layer (MultiHeadAttention's projections). Only trainable weights count, as in Keras.
- **activity regularizers** (`activity_regularizer=` on any layer, `ActivityRegularization`)
  and **`self.add_loss(value)`** inside `call`: these come out of the forward pass through
  `kerax.backend.apply_scope.record_forward` (see `apply_with_losses`).

Keras sums them all into the loss before the loss tracker sees it. Constraints (the
second entry of each rule) are applied to the new params after
every optimizer update (`apply_constraints`).

The training engine calls `regularization_loss`, `apply_constraints` and
`has_weight_rules`; a hand-written loop uses `apply_with_losses`.
"""

import jax.numpy as jnp

from kerax.backend import apply_scope as scope_lib
from kerax.layers import batch_mask

_INDEX = {"regularizer": 0, "constraint": 1}


def declare(layer, name, regularizer=None, constraint=None):
    """Declares the regularizer and constraint of `layer`'s own weight `name` (resolved
    objects or None), as `add_weight(regularizer=..., constraint=...)` does; the default
    `Layer.param_rules()` returns these declarations.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax import regularizers
    >>> from kerax.layers import Layer
    >>> layer = Layer()
    >>> declare(layer, "w", regularizer=regularizers.L2(0.5))
    >>> [float(x) for x in weight_regularization_losses(layer, {"w": jnp.ones(2)})]
    [1.0]
    """
    rules = layer.__dict__.setdefault("_declared_rules", {})
    if regularizer is None and constraint is None:
        rules.pop(name, None)
    else:
        rules[name] = (regularizer, constraint)


def declared(layer):
    """`{name: (regularizer, constraint)}` as `declare` recorded them for `layer`.

    Example:
    >>> from kerax.layers import Layer
    >>> layer = Layer()
    >>> declare(layer, "w", constraint=abs)
    >>> declared(layer)
    {'w': (None, <built-in function abs>)}
    """
    return dict(layer.__dict__.get("_declared_rules", {}))


def _select(table, params, suffix):
    """`{name: fn}` for the entries of a `param_rules()` table with a `suffix` rule, and
    `{name: sub-table}` for its nested tables (a sub-dict of params owned by no child)."""
    rules = {}
    for name, rule in table.items():
        value = params.get(name)
        if isinstance(rule, dict):
            if isinstance(value, dict):
                rules[name] = rule
        elif value is not None and not isinstance(value, dict):
            fn = rule[_INDEX[suffix]]
            if fn is not None:
                rules[name] = fn
    return rules


def _walk(layer, params, suffix, visit):
    """Calls `visit(fn, leaf)` for each regularized/constrained param; returns new params.

    The rules of a layer's own params are its `param_rules()`; a sub-dict belongs to the
    child layer of that name, or else follows the owner's nested table for it (a layer's
    internal projections, e.g. MultiHeadAttention's `query`).
    """
    if not getattr(layer, "trainable", True):
        return params
    rules = _select(layer.param_rules(), params, suffix)
    frozen = getattr(type(layer), "_frozen_params", None)  # LoRA's frozen base weight
    for name in frozen(layer, params) if frozen is not None else ():
        rules.pop(name, None)
    children = layer._children()
    # Keras' order: the layer's own weights as created, then its sub-layers'.
    created = {n: i for i, n in enumerate(getattr(layer, "_weight_names", ((),))[0])}
    out = {}
    for name, value in sorted(params.items(), key=lambda kv: created.get(kv[0], len(created))):
        if isinstance(value, dict) and name in children:
            out[name] = _walk(children[name], value, suffix, visit)
        else:
            out[name] = _visit(rules.get(name), value, suffix, visit)
    return out


def _visit(rule, value, suffix, visit):
    if rule is None:
        return value
    if isinstance(rule, dict):
        rules = _select(rule, value, suffix)
        return {k: _visit(rules.get(k), v, suffix, visit) for k, v in value.items()}
    return visit(rule, value)


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


__all__ = ["declare", "declared", "activity_penalty", "weight_regularization_losses",
           "regularization_loss", "apply_constraints", "apply_with_losses", "has_weight_rules"]
