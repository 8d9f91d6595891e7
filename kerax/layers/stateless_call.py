"""Keras' `Layer.stateless_call`: the pure `apply` over flat lists in Keras' order.

Keras 3's JAX-backend code passes a layer's variables as two lists —
`trainable_variables` and `non_trainable_variables` (SeedGenerator states included), in
the order of `layer.trainable_variables` / `layer.non_trainable_variables` — and gets the
outputs and the updated non-trainable list back. `variables_to_lists` and
`lists_to_variables` convert between those lists and kerax's `{"params", "state"}` tree.
"""

import jax

from kerax.backend import apply_scope as scope_lib
from kerax.layers import seed_state
from kerax.layers import weight_rules
from kerax.layers.variable_view import VariableView


def leaf_at(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def copy_tree(tree):
    return {k: copy_tree(v) for k, v in tree.items()} if isinstance(tree, dict) else tree


def _with_leaves(variables, leaves, values):
    out = {c: copy_tree(v) for c, v in variables.items()}
    for (coll, path), value in zip(leaves, values):
        node = out[coll]
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
    return out


def variables_to_lists(layer, variables):
    """`(trainable_variables, non_trainable_variables)` lists from a variables pytree."""
    train, other = layer._keras_variable_layout()
    return ([leaf_at(variables[c], p) for c, p in train], [leaf_at(variables[c], p) for c, p in other])


def lists_to_variables(layer, trainable_variables, non_trainable_variables, base=None):
    """The variables pytree for Keras-ordered lists (inverse of `variables_to_lists`),
    over `base` (default: the layer's variables)."""
    train, other = layer._keras_variable_layout()
    for what, given, want in (("trainable_variables", trainable_variables, train),
                              ("non_trainable_variables", non_trainable_variables, other)):
        if len(given) != len(want):
            kind = "model" if hasattr(layer, "compile") else "layer"
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': `{what}` has {len(given)} arrays, "
                f"but the {kind} has {len(want)}. Pass lists like `{kind}.{what}` (the "
                "values, in the same order; in `train_step`, the lists of its `state`)."
            )
    values = [v.value if isinstance(v, VariableView) else v
              for v in list(trainable_variables) + list(non_trainable_variables)]
    return _with_leaves(layer._variables if base is None else base, train + other, values)


class StatelessCall:
    """Mixin of `Layer`: Keras' `stateless_call` (Model adds fit's step key and losses)."""

    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, **kwargs):
        """Keras' pure call of a layer: `(outputs, non_trainable_variables)` from lists.

        Random layers without `rng=` draw from their seed states (in
        `non_trainable_variables`, returned advanced), as in Keras.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dropout
        >>> layer = Dropout(0.5, seed=1)
        >>> _ = layer(np.ones((1, 4)))
        >>> y, ntv = layer.stateless_call([], [v.value for v in layer.non_trainable_variables],
        ...                               np.ones((1, 4)), training=True)
        >>> np.asarray(ntv[0]).tolist()
        [1, 1]
        """
        variables = lists_to_variables(self, trainable_variables, non_trainable_variables)
        training = bool(kwargs.pop("training", False))
        rng = kwargs.pop("rng", None)
        implicit = rng is None
        if implicit and training:
            rng = jax.random.PRNGKey(0)  # for layers with no seed state of their own
        with scope_lib.record_forward() as record, seed_state.implicit_rng(implicit):
            outputs, state = self.apply(variables, *args, training=training, rng=rng, **kwargs)
        _, non_trainable = variables_to_lists(self, {**variables, "state": state})
        if return_losses:
            losses = weight_rules.weight_regularization_losses(self, variables["params"])
            return outputs, non_trainable, losses + list(record.losses)
        return outputs, non_trainable


__all__ = ["StatelessCall", "copy_tree", "leaf_at", "lists_to_variables", "variables_to_lists"]
