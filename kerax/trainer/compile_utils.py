"""What `compile` resolves: the loss and the metrics, as pure functions over batches.

`CompileLoss(y_true, y_pred, sample_weight, mask) -> scalar` and `CompileMetrics` with
`init() / update(state, y_true, y_pred, sample_weight) / result(state)`. Metrics named
`"accuracy"` or `"crossentropy"` are resolved from the loss and the shapes of the first
batch, as Keras does.
"""

import jax.numpy as jnp

from kerax import losses as losses_module
from kerax import metrics as metrics_module
from kerax.utils import naming

_SPECIAL = ("accuracy", "acc", "crossentropy", "ce")


def _is_binary_or_sparse(y_true, y_pred, loss):
    is_binary = y_pred.shape[-1] == 1 if len(y_pred.shape) else True
    name = getattr(loss, "name", None) or getattr(loss, "__name__", "")
    if isinstance(loss, losses_module.Loss):
        name = type(loss).__name__
    name = naming.to_snake_case(str(name))
    is_sparse = "sparse" in name or (
        len(y_true.shape) < len(y_pred.shape)
        or (len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1
            and y_pred.shape[-1] != 1)
    )
    if "binary" in name:
        is_binary = True
    return is_binary, is_sparse


def check_metric_identifier(identifier):
    """Raises at `compile` time for an unknown metric name (with close matches)."""
    if isinstance(identifier, str) and identifier.lower() not in _SPECIAL:
        metrics_module.get(identifier)


def resolve_metric(identifier, y_true, y_pred, loss):
    """A `Metric` object for `identifier`, resolving "accuracy" the way Keras does."""
    if isinstance(identifier, str) and identifier.lower() in _SPECIAL:
        is_binary, is_sparse = _is_binary_or_sparse(y_true, y_pred, loss)
        acc = identifier.lower() in ("accuracy", "acc")
        if is_binary:
            cls = "BinaryAccuracy" if acc else "BinaryCrossentropy"
        elif is_sparse:
            cls = "SparseCategoricalAccuracy" if acc else "SparseCategoricalCrossentropy"
        else:
            cls = "CategoricalAccuracy" if acc else "CategoricalCrossentropy"
        metric = getattr(metrics_module, cls)(name=identifier)
    else:
        metric = metrics_module.get(identifier)
        if not isinstance(metric, metrics_module.Metric):
            name = identifier if isinstance(identifier, str) else getattr(
                metric, "__name__", "metric")
            metric = metrics_module.MeanMetricWrapper(metric, name=name)
        elif isinstance(identifier, str):
            metric.name = identifier
    return metric


class CompileLoss:
    """The compiled loss: one Keras loss (or function) over the model's single output."""

    def __init__(self, loss, loss_weights=None):
        self.identifier = loss
        fn = losses_module.get(loss)
        if fn is not None and not isinstance(fn, losses_module.Loss):
            fn = losses_module.LossFunctionWrapper(
                fn, name=getattr(fn, "__name__", "loss"))
        self.loss = fn
        self.loss_weights = loss_weights

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        if self.loss is None:
            return jnp.zeros((), jnp.float32)
        value = self.loss(y_true, y_pred, sample_weight=sample_weight, mask=mask)
        if self.loss_weights is not None:
            value = value * self.loss_weights
        return value


class CompileMetrics:
    """The compiled metrics: built from the first batch's shapes, then pure."""

    def __init__(self, metrics, weighted_metrics=None):
        self.identifiers = list(metrics or [])
        self.weighted_identifiers = list(weighted_metrics or [])
        for m in self.identifiers + self.weighted_identifiers:
            check_metric_identifier(m)
        self.metrics = None
        self.weighted = None

    @property
    def built(self):
        return self.metrics is not None

    def build(self, y_true, y_pred, loss):
        self.metrics = [resolve_metric(m, y_true, y_pred, loss) for m in self.identifiers]
        self.weighted = [resolve_metric(m, y_true, y_pred, loss)
                         for m in self.weighted_identifiers]
        for m in self.weighted:
            if any(m.name == u.name for u in self.metrics):
                m.name = "weighted_" + m.name

    def all(self):
        return (self.metrics or []) + (self.weighted or [])

    def init(self):
        return {m.name: m.init() for m in self.all()}

    def update(self, state, y_true, y_pred, row_weight, sample_weight):
        """`row_weight` masks padded rows; weighted metrics also get `sample_weight`."""
        new = {}
        for m in self.metrics or []:
            new[m.name] = m.update(state[m.name], y_true, y_pred, sample_weight=row_weight)
        for m in self.weighted or []:
            w = row_weight if sample_weight is None else row_weight * sample_weight
            new[m.name] = m.update(state[m.name], y_true, y_pred, sample_weight=w)
        return new

    def result(self, state):
        return {m.name: m.result(state[m.name]) for m in self.all()}
