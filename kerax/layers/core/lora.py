"""LoRA, as Keras 3 does it: a frozen weight plus a trained low-rank update.

`Dense`, `EinsumDense`, `Embedding` (and `ReversibleEmbedding`) and `Conv1D/2D/3D` take
`lora_rank` / `lora_alpha`, or `layer.enable_lora(rank)` once built, as in Keras 3.15.
LoRA then adds two float32 factors next to the layer's weight `w` (`kernel`, or
`embeddings`), freezes `w`, and the layer computes with

    w + (lora_alpha / lora_rank) * a @ b

where `a` has `w`'s shape with the last axis replaced by `rank` (he_uniform) and `b` is
`(rank, w.shape[-1])` (zeros, so a fresh adapter changes nothing). The layer's own forward
code does not know about LoRA: it starts with `params = self._lora_params(params)`, which
returns `params` with `w` merged and the factors removed (unchanged without an adapter).
Whether LoRA is on is a property of the params pytree — the factors are there or not.

As in Keras, a Keras weights file holds only the merged `w` (and the layer's other weights),
and loading one sets both factors to zeros.
"""

from typing import NamedTuple

import jax.numpy as jnp

from kerax import initializers
from kerax.backend import apply_scope as scope_lib
from kerax.backend import host_prng, random_state


class LoraTarget(NamedTuple):
    """Which weight LoRA adapts (`base`), the names of its factors, and the layer
    attributes holding the base weight's constraint and regularizer."""

    base: str
    a: str
    b: str
    constraint: str
    regularizer: str


def factors(target, key, base_shape, rank, a_initializer="he_uniform", b_initializer="zeros"):
    """The two float32 LoRA factors for a weight of shape `base_shape`, as a dict.

    Example:
    >>> import jax
    >>> t = LoraTarget("kernel", "lora_kernel_a", "lora_kernel_b", "", "")
    >>> f = factors(t, jax.random.PRNGKey(0), (4, 3), 2)
    >>> f["lora_kernel_a"].shape, f["lora_kernel_b"].shape, float(abs(f["lora_kernel_b"]).sum())
    ((4, 2), (2, 3), 0.0)
    """
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        raise ValueError(
            f"LoRA's `rank` must be a positive integer. Received: rank={rank!r}. Pass e.g. "
            "`enable_lora(4)`."
        )
    key_a, key_b = host_prng.split(key)
    a = initializers.get(a_initializer)(tuple(base_shape[:-1]) + (rank,), "float32", key=key_a)
    b = initializers.get(b_initializer)((rank, base_shape[-1]), "float32", key=key_b)
    return {target.a: a, target.b: b}


def merged_weight(base, a, b, alpha, dtype):
    """`base + (alpha / rank) * a @ b`, cast to `dtype` (Keras' LoRA kernel).

    Example:
    >>> import jax.numpy as jnp
    >>> merged_weight(jnp.zeros((2, 2)), jnp.ones((2, 1)), jnp.ones((1, 2)), 2, "float32")
    Array([[2., 2.],
           [2., 2.]], dtype=float32)
    """
    rank = a.shape[-1]
    return (base + (alpha / rank) * jnp.matmul(a, b)).astype(dtype)


def merge(target, params, alpha, dtype):
    """`params` with `target.base` merged with its LoRA factors, which are removed;
    `params` itself when it has no factors.

    Example:
    >>> import jax.numpy as jnp
    >>> t = LoraTarget("kernel", "lora_kernel_a", "lora_kernel_b", "", "")
    >>> p = {"kernel": jnp.zeros((2, 2)), "lora_kernel_a": jnp.ones((2, 1)),
    ...      "lora_kernel_b": jnp.ones((1, 2))}
    >>> merged = merge(t, p, alpha=1, dtype="float32")
    >>> sorted(merged), float(merged["kernel"][0, 0])
    (['kernel'], 1.0)
    >>> merge(t, {"kernel": jnp.zeros((2, 2))}, 1, "float32").keys()
    dict_keys(['kernel'])
    """
    if target.a not in params:
        return params
    out = {k: v for k, v in params.items() if k not in (target.a, target.b)}
    out[target.base] = merged_weight(params[target.base], params[target.a],
                                     params[target.b], alpha, dtype)
    return out


class LoraMixin:
    """LoRA for a layer whose class sets `_lora_target` (see the module docstring).

    The layer calls `self._lora_init(lora_rank, lora_alpha)` in its constructor, adds
    `self._lora_factors(key, weight_shape)` to the params it builds, starts its `forward`
    with `params = self._lora_params(params)`, and adds `self._lora_rules()` to its
    `param_rules()`.
    """

    _lora_target = None

    def _lora_init(self, lora_rank, lora_alpha):
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank

    def _lora_rules(self):
        """The factors' entries of `param_rules()`: as Keras' `enable_lora`, they share
        the base weight's regularizer and have no constraint."""
        target = self._lora_target
        rule = (getattr(self, target.regularizer), None)
        return {target.a: rule, target.b: rule}

    def _lora_factors(self, key, base_shape):
        """The factors to build with the layer's weights (none unless `lora_rank`);
        `key` is the layer's init key (a key derived from it is used)."""
        if not self.lora_rank:
            return {}
        self._check_lora_allowed()
        return factors(self._lora_target, host_prng.fold_in(key, 1), base_shape,
                       self.lora_rank)

    def _lora_params(self, params):
        return merge(self._lora_target, params, self.lora_alpha, self.compute_dtype)

    @property
    def lora_enabled(self):
        """Whether the layer has LoRA factors (Keras' `lora_enabled`)."""
        return self._lora_target.a in (scope_lib.variables_for(self, "params") or {})

    def _check_lora_allowed(self):
        if getattr(self, self._lora_target.constraint) is not None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': Lora is incompatible with "
                f"{self._lora_target.base} constraints. In order to enable lora on this "
                f"layer, remove the `{self._lora_target.constraint}` argument."
            )

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros"):
        """Adds LoRA factors of `rank` to the built layer and freezes its weight.

        Args:
            rank: the rank of the update `a @ b`.
            lora_alpha: the update is scaled by `lora_alpha / rank` (default: `rank`).
            a_initializer, b_initializer: initializers of the factors.

        Raises:
            ValueError: if the layer has a constraint on the weight, is not built, or
                already has LoRA.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(3)
        >>> _ = layer(np.ones((1, 4)))
        >>> layer.enable_lora(2)
        >>> [(w.name, w.trainable) for w in layer.weights]
        [('kernel', False), ('bias', True), ('lora_kernel_a', True), ('lora_kernel_b', True)]
        """
        self._check_lora_allowed()
        if getattr(self, "quantization_mode", None) is not None:
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}': kerax does not enable LoRA on a "
                f"quantized layer (dtype_policy='{self.dtype_policy.name}'). Enable LoRA on "
                "the float model, or quantize after training the adapter."
            )
        target = self._lora_target
        own = self._own_variables_tree("params")
        if own is None or target.base not in own:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': Cannot enable lora on a layer that "
                "isn't yet built. Call it on an input (or `build(input_shape)`) first."
            )
        if target.a in own:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': lora is already enabled. This can only "
                f"be done once per layer (it has rank {self.lora_rank})."
            )
        new = factors(target, random_state.next_key(), own[target.base].shape, rank,
                      a_initializer, b_initializer)
        variables = self._variables
        self._variables = {"params": {**variables["params"], **new},
                           "state": variables["state"]}
        names, state_names = self._weight_names
        self._weight_names = (names + (target.a, target.b), state_names)
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank

    # ---------------------------------------------------------- frozen base weight --
    def _frozen_params(self, params):
        """Names of the own `params` that are not trained: the base weight under LoRA."""
        return (self._lora_target.base,) if self._lora_target.a in params else ()

    def trainable_mask(self, params):
        mask = super().trainable_mask(params)
        return {**mask, **{name: False for name in self._frozen_params(params)}}

    def _lora_merged_value(self):
        """Keras' `layer.kernel` / `layer.embeddings`: the view of the weight, or under
        LoRA the merged array (in the compute dtype)."""
        target = self._lora_target
        quantized = target.base in (scope_lib.variables_for(self, "state") or {})
        view = self._built_view("state" if quantized else "params", target.base)
        if not self.lora_enabled:
            return view
        a, b = self._view("params", target.a), self._view("params", target.b)
        return merged_weight(view.value, a.value, b.value, self.lora_alpha, self.compute_dtype)

    # ------------------------------------------------------------ Keras weights file --
    def _keras_own_leaves(self, variables, prefix):
        """This layer's slots in a Keras weights file: its weights without the factors."""
        skip = (self._lora_target.a, self._lora_target.b)
        leaves = []
        for coll, names in zip(("params", "state"), self._weight_names):
            tree = _at(variables.get(coll, {}), prefix)
            leaves += [(coll, prefix + (n,)) for n in names if n in tree and n not in skip]
        return leaves

    def _keras_file_values(self, variables, prefix, leaves):
        """The arrays Keras writes for this layer (its `save_own_variables`): the weight
        merged with the factors, which the file does not hold."""
        merged = self._lora_params(_at(variables["params"], prefix))
        return [merged[path[-1]] if coll == "params" else _get(variables[coll], path)
                for coll, path in leaves]

    def _keras_after_load(self, variables, prefix):
        """As Keras' `load_own_variables`: the factors restart at zeros."""
        params = _at(variables["params"], prefix)
        for name in (self._lora_target.a, self._lora_target.b):
            if name in params:
                params[name] = jnp.zeros_like(params[name])


def _at(tree, path):
    for p in path:
        tree = tree.get(p, {})
    return tree


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


__all__ = ["LoraTarget", "LoraMixin", "factors", "merge", "merged_weight"]
