"""`Masking`, and kerax's mask-propagation convention (Keras 3's, made explicit).

A *mask* is a bool array over the leading axes of a tensor, usually `(batch, steps)`:
True marks a usable step, False a padded one. Masks are not attached to arrays (JAX
arrays take no attributes); containers carry them alongside the outputs:

1. **Producing.** After a layer runs, the mask of its output is
   `output_mask(layer, inputs, previous_mask)`: if `layer.supports_masking`, it is
   `layer.compute_mask(inputs, previous_mask)` when the layer defines `compute_mask`
   (`Embedding(mask_zero=True)` returns `inputs != 0`, `Masking` returns the steps not
   entirely equal to `mask_value`), otherwise `previous_mask` unchanged (Dropout, Dense,
   normalization layers pass it through). A layer with `supports_masking=False` drops it.
   `previous_mask` is the mask of the layer's first input.
2. **Consuming.** A layer whose `forward` (explicit style) or `call` (Keras style)
   accepts a `mask` argument receives the mask of its single tensor input as `mask=`;
   a layer with several tensor inputs receives `<arg>_mask=` for each argument whose
   name has one (`MultiHeadAttention`: `query_mask`, `value_mask`, `key_mask`), as Keras'
   `Layer.__call__` does. `mask_kwargs(layer, {"query": m1, "value": m2})` builds these
   keyword arguments. An explicitly passed argument is never overwritten.

`Sequential` and functional models apply both rules at every node, so
`Embedding(mask_zero=True)` followed by an RNN or attention layer sees the padding.
"""

import jax.numpy as jnp

from kerax import ops
from kerax.layers import keras_mask
from kerax.layers.layer import Layer


# The rules live in `kerax.layers.keras_mask` (which `Layer` itself uses).
output_mask = keras_mask.output_mask
mask_kwargs = keras_mask.mask_kwargs
_call_parameters = keras_mask.call_parameters


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    The output is the input with masked steps set to 0; the mask (True = keep) is
    `compute_mask(inputs)`, an array of shape `inputs.shape[:-1]`, which containers pass
    to downstream layers (see the module docstring).

    Args:
        mask_value: the value that marks a padded feature.

    Example:
    >>> import jax.numpy as jnp
    >>> layer = Masking(mask_value=0.0)
    >>> x = jnp.array([[[1.0, 2.0], [0.0, 0.0]]])
    >>> layer.compute_mask(x).tolist()
    [[True, False]]
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        """True for steps with at least one feature different from `mask_value`."""
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)  # symbolic too

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        keep = jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return jnp.where(keep, inputs, jnp.zeros((), inputs.dtype)), state

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
