"""A layer's dtype policy (mixed precision) and remat policy (`RematScope`).

Both are fixed when the layer is created, as in Keras 3, and both act in `apply` as
wrappers around the layer's pure `forward`, never as branches inside a layer:
`autocast` casts params and inputs to the compute dtype, `rematerialized` wraps `forward`
in `jax.checkpoint` where the remat mode asks for it.
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax import dtype_policies
from kerax.backend import apply_scope as scope_lib
from kerax.backend import remat


class DTypePolicyMixin:
    """Mixin of `Layer`: Keras' `dtype`, `compute_dtype`, `variable_dtype`, `dtype_policy`."""

    def _init_policies(self, dtype, autocast):
        # The policy is fixed at construction (the global one unless `dtype` is given).
        self._dtype_policy = dtype_policies.get(dtype)
        self._dtype = self._dtype_policy.name if dtype is not None else None
        self.autocast = autocast
        self._remat_mode = remat.get_current_remat_mode()  # as Keras: fixed at creation

    @property
    def dtype(self):
        """The dtype of the layer's variables (its policy's `variable_dtype`)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (its policy's `compute_dtype`)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def dtype_policy(self):
        """The layer's `kerax.dtype_policies.DTypePolicy`."""
        return self._dtype_policy

    @property
    def quantization_mode(self):
        """The layer's quantization mode (`"int8"`, `"float8"`), None if not quantized."""
        return self._dtype_policy.quantization_mode

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        if policy.quantization_mode is not None and self.quantization_mode is None \
                and self.built and hasattr(self, "quantize"):
            self.quantize(policy.quantization_mode)  # as Keras: a built layer is quantized
        self._dtype_policy = policy
        self._dtype = self._dtype_policy.name

    def quantized_forward(self, *args, **kwargs):
        """The forward pass under a quantized policy: only layers that quantize have one."""
        raise NotImplementedError(
            f"Layer {type(self).__name__} '{self.name}' has the quantized dtype policy "
            f"'{self._dtype_policy.name}', but kerax quantizes only Dense, EinsumDense, "
            "Embedding and ReversibleEmbedding layers. Give it a float policy such as "
            "'float32'."
        )

    def _dtype_config(self):
        return dtype_policies.serialize(self._dtype_policy)


def autocast(layer, params, inputs):
    """Casts floating params and inputs to the layer's compute dtype (mixed precision)."""
    policy = layer._dtype_policy
    compute = jnp.dtype(policy.compute_dtype)
    if policy.is_mixed:
        def cast(p):
            return p.astype(compute) if jnp.issubdtype(p.dtype, jnp.floating) else p

        # Keras' `add_weight(autocast=False)`: these keep the variable dtype in `call`.
        keep = getattr(layer, "_variables_not_autocast", ())
        if isinstance(params, dict):  # (a JaxLayer's params may be any pytree)
            params = {name: value if name in keep else jax.tree_util.tree_map(cast, value)
                      for name, value in params.items()}
        else:
            params = jax.tree_util.tree_map(cast, params)
    if layer.autocast:
        inputs = jax.tree_util.tree_map(
            lambda x: policy.convert_input(x) if hasattr(x, "dtype") else x, inputs)
    return params, inputs


def rematerialized(layer, forward, params, state, inputs, training, rng, kwargs):
    """`forward` under the layer's `RematScope` mode (Keras 3's rules): recomputed in the
    backward pass instead of keeping its activations (`jax.checkpoint`)."""
    mode = layer._remat_mode

    def checkpointed(p, s, *xs, training, rng, **kw):
        traced = {}
        # Python options (`use_causal_mask=True`, ...) stay Python values: only arrays
        # are traced through `jax.checkpoint`.
        static = {k: v for k, v in kw.items()
                  if not any(hasattr(a, "shape") for a in jax.tree_util.tree_leaves(v))}
        kw = {k: v for k, v in kw.items() if k not in static}

        def inner(p, s, xs, rng, kw):  # what `forward` records leaves as outputs
            with scope_lib.record_forward() as record:
                out = forward(p, s, *xs, training=training, rng=rng, **kw, **static)
            traced["row_dependent"] = record.row_dependent
            return out, record.losses, record.masks

        out, losses, masks = jax.checkpoint(inner)(p, s, xs, rng, kw)
        outer = scope_lib.current_record()
        if outer is not None:
            outer.losses.extend(losses)
            outer.masks.update(masks)
            outer.row_dependent = outer.row_dependent or traced["row_dependent"]
        return out

    if mode.mode == "full":
        return checkpointed
    if mode.mode == "list_of_layers":
        return checkpointed if layer.name in mode.layer_names else forward
    if mode.mode == "larger_than":
        out = jax.eval_shape(lambda p, s, xs: forward(p, s, *xs, training=training, rng=rng,
                                                      **kwargs)[0], params, state, inputs)
        size = sum(int(np.prod(o.shape)) for o in jax.tree_util.tree_leaves(out))
        return checkpointed if size > mode.output_size_threshold else forward
    if mode.mode == "activations" and callable(getattr(layer, "activation", None)):
        def with_remat_activation(*args, **kw):
            original = layer.activation
            object.__setattr__(layer, "activation", jax.checkpoint(original))
            try:
                return forward(*args, **kw)
            finally:
                object.__setattr__(layer, "activation", original)
        return with_remat_activation
    return forward
