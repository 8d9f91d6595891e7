import jax.numpy as jnp

from kerax import regularizers
from kerax.layers import batch_mask
from kerax.layers.layer import Layer


class ActivityRegularization(Layer):
    """Identity layer that penalizes its output's activity: `l1 * sum|x| + l2 * sum x²`.

    The output equals the input. The penalty is what Keras adds to the loss for this
    layer: `L1L2(l1, l2)(outputs) / batch_size`. `apply` does not return losses, so the
    training engine adds `layer.penalty(outputs)` (see `penalty`); this is the same value
    as `layer.activity_regularizer(outputs) / batch_size`, which is how any layer with an
    `activity_regularizer` contributes.

    Args:
        l1: L1 factor (non-negative float).
        l2: L2 factor (non-negative float).

    Example:
    >>> import jax.numpy as jnp
    >>> layer = ActivityRegularization(l1=0.1)
    >>> x = jnp.array([[1.0, -2.0], [3.0, 0.0]])
    >>> bool(jnp.all(layer.apply({}, x)[0] == x))
    True
    >>> round(float(layer.penalty(x)), 4)
    0.3
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return inputs, state

    def penalty(self, outputs):
        """The loss term Keras adds for `outputs`: the regularizer over the batch size.

        Inside `kerax.layers.batch_mask.use(rows)` only the real rows count (padded rows
        add nothing and the division is by the number of real rows), so a padded last
        batch gives Keras' value for the unpadded one.
        """
        x = jnp.asarray(outputs)
        if x.ndim == 0:
            return self.activity_regularizer(x)
        rows = batch_mask.current()
        if rows is None:
            return self.activity_regularizer(x) / x.shape[0]
        keep = jnp.reshape(rows, (-1,) + (1,) * (x.ndim - 1))
        count = jnp.maximum(jnp.sum(rows.astype(x.dtype)), 1)
        return self.activity_regularizer(jnp.where(keep, x, 0)) / count

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
