"""`kerax.losses`: Keras 3's losses as pure functions plus thin config classes.

CONTRACT (used by the engine):

- `Loss.call(y_true, y_pred) -> per-sample values` (unreduced, pure, jit-able).
- `Loss.__call__(y_true, y_pred, sample_weight=None, mask=None) -> scalar`, reduced as
  Keras 3 does (`reduce_weighted_values`). `mask` marks real rows: for
  "sum_over_batch_size"/"mean" the sum is divided by the number of *valid* entries, so
  padded rows in a short last batch change nothing (masked entries count as exactly 0,
  even when their loss is nan). Losses that mix rows (`Dice`/`Tversky` over the batch,
  `Circle`) leave masked rows out of the computation itself (`Loss.masked_call`); values a
  loss marks as not counting (`ignore_class`, Circle's zeros) come from
  `Loss.output_mask` and are combined with `mask`, as Keras combines masks.
- Shapes of `y_true` and `y_pred` are checked in Python (at trace time); an incompatible
  pair raises a ValueError naming both shapes instead of broadcasting silently. Shapes
  that Keras' `squeeze_or_expand_to_same_rank` reconciles, such as (32,) with (32, 1), are
  accepted.
- `get(identifier)` accepts a Keras name ("mse", "sparse_categorical_crossentropy", ...),
  a `Loss` instance, a config dict, or a callable `fn(y_true, y_pred)`.
"""

from kerax.losses.loss import Loss
from kerax.losses.loss import reduce_values
from kerax.losses.loss import reduce_weighted_values
from kerax.losses.loss import squeeze_or_expand_to_same_rank
from kerax.losses.loss import standardize_reduction
from kerax.losses.losses import ALL_CLASSES
from kerax.losses.losses import ALL_FUNCTIONS
from kerax.losses.losses import CTC
from kerax.losses.losses import BinaryCrossentropy
from kerax.losses.losses import BinaryFocalCrossentropy
from kerax.losses.losses import CategoricalCrossentropy
from kerax.losses.losses import CategoricalFocalCrossentropy
from kerax.losses.losses import CategoricalGeneralizedCrossEntropy
from kerax.losses.losses import CategoricalHinge
from kerax.losses.losses import Circle
from kerax.losses.losses import CosineSimilarity
from kerax.losses.losses import Dice
from kerax.losses.losses import Hinge
from kerax.losses.losses import Huber
from kerax.losses.losses import KLDivergence
from kerax.losses.losses import LogCosh
from kerax.losses.losses import LossFunctionWrapper
from kerax.losses.losses import MeanAbsoluteError
from kerax.losses.losses import MeanAbsolutePercentageError
from kerax.losses.losses import MeanSquaredError
from kerax.losses.losses import MeanSquaredLogarithmicError
from kerax.losses.losses import Poisson
from kerax.losses.losses import SparseCategoricalCrossentropy
from kerax.losses.losses import SquaredHinge
from kerax.losses.losses import Tversky
from kerax.losses.losses import binary_crossentropy
from kerax.losses.losses import binary_focal_crossentropy
from kerax.losses.losses import categorical_crossentropy
from kerax.losses.losses import categorical_focal_crossentropy
from kerax.losses.losses import categorical_generalized_cross_entropy
from kerax.losses.losses import categorical_hinge
from kerax.losses.losses import circle
from kerax.losses.losses import cosine_similarity
from kerax.losses.losses import ctc
from kerax.losses.losses import dice
from kerax.losses.losses import hinge
from kerax.losses.losses import huber
from kerax.losses.losses import kl_divergence
from kerax.losses.losses import log_cosh
from kerax.losses.losses import mean_absolute_error
from kerax.losses.losses import mean_absolute_percentage_error
from kerax.losses.losses import mean_squared_error
from kerax.losses.losses import mean_squared_logarithmic_error
from kerax.losses.losses import poisson
from kerax.losses.losses import sparse_categorical_crossentropy
from kerax.losses.losses import squared_hinge
from kerax.losses.losses import tversky
from kerax.serialization import registry

ALL = {c.__name__: c for c in ALL_CLASSES}
FUNCTIONS = {f.__name__: f for f in ALL_FUNCTIONS}
# Keras' own aliases, then the legacy ones Keras 2 users still write.
ALIASES = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence, "huber_loss": huber,
}
ALL_OBJECTS_DICT = {**ALL, **FUNCTIONS, **ALIASES}


_REGISTRY = registry.ObjectRegistry(
    "loss", ALL_OBJECTS_DICT,
    expected="a loss name such as 'mse', a `Loss` instance, a config dict, or a "
    "function(y_true, y_pred)",
)


def serialize(loss):
    """Serializes a `Loss` or a loss function into Keras 3's config format.

    Example:
    >>> serialize(Huber())["class_name"]
    'Huber'
    """
    return _REGISTRY.serialize(loss)


def deserialize(name, custom_objects=None):
    """Builds a `Loss` or loss function from `serialize`'s output.

    Example:
    >>> deserialize(serialize(Huber(name="h"))).name
    'h'
    """
    return _REGISTRY.deserialize(name, custom_objects)


def get(identifier):
    """Resolves a loss: a Keras name, a `Loss`, a config dict, or a callable.

    A function name ("mse", "categorical_crossentropy") gives the function; a class name
    ("CategoricalCrossentropy") gives an instance with default arguments, as in Keras.

    Example:
    >>> get("mse") is mean_squared_error
    True
    >>> type(get("CategoricalCrossentropy")).__name__
    'CategoricalCrossentropy'
    """
    return _REGISTRY.get(identifier)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALIASES", "ALL", "ALL_CLASSES", "ALL_FUNCTIONS", "ALL_OBJECTS_DICT", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy", "CategoricalHinge", "Circle", "CosineSimilarity",
    "Dice", "FUNCTIONS", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss",
    "LossFunctionWrapper", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy", "categorical_hinge", "circle", "cosine_similarity",
    "ctc", "deserialize", "dice", "get", "hinge", "huber", "kl_divergence", "log_cosh",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "reduce_values", "reduce_weighted_values",
    "serialize", "sparse_categorical_crossentropy", "squared_hinge",
    "squeeze_or_expand_to_same_rank", "standardize_reduction", "tversky",
]
