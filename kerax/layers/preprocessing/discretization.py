"""`Discretization`: buckets continuous values by boundaries (given, or from `adapt`)."""

import jax.numpy as jnp
import numpy as np

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer
from kerax.layers.preprocessing.category_encoding import encode

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _summary(values, epsilon):
    """Every `1/epsilon`-th sorted value, with the count each one stands for."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size * epsilon, 1)
    points = values[int(step - 1)::int(step)]
    return np.stack([points, np.full_like(points, step)])


def _compress(summary, epsilon):
    """Re-samples a weighted summary at the cumulative-weight quantiles `epsilon, 2*epsilon, ...`."""
    if summary.shape[1] * epsilon < 1:
        return summary
    targets = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    fractions = cum / cum[-1]
    points = np.interp(targets, fractions, summary[0])
    cum = np.interp(targets, fractions, cum)
    return np.stack([points, np.diff(cum, prepend=0.0)]).astype("float32")


class Discretization(Layer):
    """Maps each value to the index of its bucket: `bin_boundaries[i-1] <= x < bin_boundaries[i]`.

    Args:
        bin_boundaries: sorted list of boundaries (n boundaries make n+1 buckets).
        num_bins: the number of buckets `adapt()` should find (instead of boundaries).
        epsilon: the quantile approximation error of `adapt()` (Keras' summary algorithm).
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: must be False.

    Example:
    >>> import numpy as np
    >>> Discretization(bin_boundaries=[0.0, 1.0])(np.array([[-1.0, 0.5, 2.0]])).tolist()
    [[0, 1, 2]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        if output_mode not in OUTPUT_MODES:
            raise unknown_identifier("output_mode", output_mode, OUTPUT_MODES)
        if sparse:
            raise ValueError("Discretization: `sparse=True` is not supported by kerax (JAX "
                             "arrays are dense). Use `sparse=False`.")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. "
                             f"Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: `num_bins={num_bins}` and "
                             f"`bin_boundaries={bin_boundaries}`")
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name")
        super().__init__(dtype=dtype, name=name, **kwargs)
        self.bin_boundaries = list(bin_boundaries) if bin_boundaries is not None else None
        self.num_bins, self.epsilon = num_bins, epsilon
        self.output_mode, self.sparse = output_mode, sparse

    def adapt(self, data):
        """Sets `bin_boundaries` to the `num_bins` quantiles of `data` (array or batches)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        batches = [data] if hasattr(data, "shape") else list(data)
        summary = np.zeros((2, 0), "float32")
        for batch in batches:
            new = _summary(np.asarray(batch, "float32"), self.epsilon)
            merged = np.concatenate([new, summary], axis=1)
            summary = _compress(merged[:, np.argsort(merged[0], kind="stable")], self.epsilon)
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        bounds = jnp.asarray(self.bin_boundaries, jnp.float32)
        ids = jnp.searchsorted(bounds, jnp.asarray(inputs, jnp.float32), side="right")
        dtype = "int32" if self.output_mode == "int" else self.compute_dtype
        return encode(ids, self.output_mode, len(self.bin_boundaries) + 1, dtype), state

    @classmethod
    def from_config(cls, config):
        """As Keras: an adapted layer's config has both `num_bins` and `bin_boundaries`,
        which `__init__` refuses together, so the boundaries are set after creation."""
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None) if config.get("num_bins") is not None \
            else None
        layer = super().from_config(config)
        if boundaries is not None:
            layer.bin_boundaries = list(boundaries)
        return layer

    def get_config(self):
        # Keras' own keys only: its `__init__` takes no `trainable`, `dtype` is a name
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}
