"""`kerax.metrics`: Keras 3's metrics, pure (`init`/`update`/`result`) under Keras' shell."""

from kerax.metrics.accuracy_metrics import (  # noqa: F401
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kerax.metrics.auc import AUC  # noqa: F401
from kerax.metrics.confusion_metrics import (  # noqa: F401
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from kerax.metrics.correlation_metrics import (  # noqa: F401
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from kerax.metrics.f_score_metrics import F1Score, FBetaScore  # noqa: F401
from kerax.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge  # noqa: F401
from kerax.metrics.iou_metrics import (  # noqa: F401
    BinaryIoU,
    IoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
)
from kerax.losses import (  # noqa: F401  (Keras exports these as metrics too)
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kerax.metrics.metric import (  # noqa: F401
    Mean,
    MeanMetricWrapper,
    Metric,
    Sum,
    metric_from_function,
)
from kerax.metrics.probabilistic_metrics import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from kerax.metrics.regression_metrics import (  # noqa: F401
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)
from kerax.serialization import registry
from kerax.utils import naming

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    ConcordanceCorrelation, PearsonCorrelation,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives,
    F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)
_FUNCTIONS = (
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    concordance_correlation, pearson_correlation,
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)

ALL = {c.__name__: c for c in _CLASSES}
FUNCTIONS = {f.__name__: f for f in _FUNCTIONS}
ALIASES = {
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
}
# Keras' string table: class names, their snake_case forms, and the short aliases.
ALL_OBJECTS_DICT = {**ALL, **{naming.to_snake_case(n): c for n, c in ALL.items()}}
ALL_OBJECTS_DICT.update(ALIASES)


_REGISTRY = registry.ObjectRegistry(
    "metric", ALL_OBJECTS_DICT, functions=FUNCTIONS,
    expected="a metric name (e.g. 'mae'), a `kerax.metrics.Metric`, a config dict, or a "
    "function `fn(y_true, y_pred)`",
)


def serialize(metric):
    """Serializes a `Metric` (or a metric function) into Keras 3's dict format.

    Example:
    >>> serialize(BinaryAccuracy(threshold=0.3))["config"]["threshold"]
    0.3
    """
    return _REGISTRY.serialize(metric)


def deserialize(config, custom_objects=None):
    """Builds a metric (or metric function) from `serialize`'s output.

    Example:
    >>> deserialize(serialize(BinaryAccuracy(threshold=0.3))).threshold
    0.3
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """Resolves a metric as Keras 3 does: a name, a `Metric`, a config dict, or a callable.

    Strings name metric classes (`"BinaryAccuracy"`, `"binary_accuracy"`, `"mse"`, ...)
    and return a new instance; callables are returned as they are (use `as_metric` to
    always get a `Metric`). `"acc"` and the loss-dependent meaning of `"accuracy"` are
    resolved by `compile`, as in Keras.

    Example:
    >>> get("binary_accuracy").name
    'binary_accuracy'
    """
    return _REGISTRY.get(identifier)


def _check_name(name):
    """Raises `UnknownIdentifierError` (with close matches) when `name` is not a metric's
    name; builds no metric, so no automatic name is taken.

    Example:
    >>> _check_name("mae")
    >>> _check_name("maee")
    Traceback (most recent call last):
    ...
    kerax.errors.UnknownIdentifierError: Unknown metric identifier: 'maee'. Did you mean: 'mae', ...
    """
    _REGISTRY.check_name(name)


def as_metric(identifier):
    """Like `get`, but always returns a `Metric`: functions become a `MeanMetricWrapper`.

    Example:
    >>> as_metric(binary_accuracy).name
    'binary_accuracy'
    """
    metric = get(identifier)
    if metric is None or isinstance(metric, Metric):
        return metric
    return metric_from_function(metric)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALIASES", "ALL", "ALL_OBJECTS_DICT", "AUC", "Accuracy", "BinaryAccuracy",
    "BinaryCrossentropy", "BinaryIoU", "CategoricalAccuracy", "CategoricalCrossentropy",
    "CategoricalHinge", "ConcordanceCorrelation", "CosineSimilarity", "F1Score", "FBetaScore",
    "FUNCTIONS", "FalseNegatives", "FalsePositives", "Hinge", "IoU", "KLDivergence",
    "LogCoshError", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU",
    "MeanMetricWrapper", "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric",
    "OneHotIoU", "OneHotMeanIoU", "PearsonCorrelation", "Poisson", "Precision",
    "PrecisionAtRecall", "R2Score", "Recall", "RecallAtPrecision", "RootMeanSquaredError",
    "SensitivityAtSpecificity", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity", "SquaredHinge", "Sum",
    "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives", "accuracy", "as_metric",
    "binary_accuracy", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_accuracy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "concordance_correlation", "deserialize", "get", "hinge", "huber",
    "kl_divergence", "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "metric_from_function",
    "pearson_correlation", "poisson", "serialize", "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy", "squared_hinge",
    "top_k_categorical_accuracy",
]
