"""`Concatenate`: joins a list of inputs along one axis."""

import jax.numpy as jnp

from kerax.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """Concatenates a list of inputs along `axis`; other axes must match.

    Args:
        axis: the axis to concatenate along (default -1).

    Example:
    >>> import numpy as np
    >>> Concatenate()([np.ones((2, 3)), np.zeros((2, 1))]).shape
    (2, 4)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def check_shapes(self, shapes):
        ranks = {len(s) for s in shapes}
        bad = len(ranks) != 1
        if not bad:
            rank = ranks.pop()
            axis = self.axis % rank
            for i in range(rank):
                dims = {s[i] for s in shapes if s[i] is not None}
                if i != axis and i != 0 and len(dims) > 1:
                    bad = True
        if bad:
            raise ValueError(
                f"Concatenate '{self.name}' requires inputs with matching shapes except for "
                f"the concatenation axis {self.axis}. Received: input_shape={shapes}"
            )

    def merge(self, xs):
        self.check_shapes([tuple(x.shape) for x in xs])
        return jnp.concatenate(xs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `Concatenate(axis, **kwargs)(inputs)`.

    Example:
    >>> import numpy as np
    >>> concatenate([np.ones((1, 2)), np.ones((1, 2))], axis=0).shape
    (2, 2)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
