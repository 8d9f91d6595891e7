"""`CompileMetrics`: `compile(metrics=..., weighted_metrics=...)` as one container
metric whose sub-metrics are pure (`init() / update(state, y_true, y_pred,
sample_weight) / result(state)`), resolved from the first batch's shapes as Keras does
(`"accuracy"` and `"crossentropy"` follow the loss and the targets' shapes)."""

import jax
import jax.numpy as jnp

from kerax import losses as losses_module
from kerax import metrics as metrics_module
from kerax.trainer.compile_utils import _is_nested, match_targets, output_items, per_output
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
        metrics_module._check_name(identifier)  # without building it: names count


def _object_name(obj):
    """Keras' `get_object_name`: a metric's name, or a function's in snake_case."""
    if hasattr(obj, "name"):
        return obj.name
    return naming.to_snake_case(getattr(obj, "__name__", None) or type(obj).__name__)


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
        # Renamed after it is made, as Keras: `metrics=["mae"]` logs "mae" while the
        # variables keep their paths ("mean_absolute_error/total"); a function is wrapped
        # in an auto-named `MeanMetricWrapper` and logged under its snake_case name.
        name = identifier if isinstance(identifier, str) else _object_name(metric)
        if not isinstance(metric, metrics_module.Metric):
            metric = metrics_module.MeanMetricWrapper(metric)
        metric.name = name
    return metric


class CompileMetrics(metrics_module.Metric):
    """The compiled metrics: built from the first batch's shapes, then pure.

    As Keras' `CompileMetrics`, it is one container metric named `"compile_metrics"` in
    `model.metrics`: its `metrics` are the resolved `metrics` then `weighted_metrics`, its
    `variables` theirs in that order, its `result()` a dict of their results, and its
    `update_state(y_true, y_pred, sample_weight)` / `stateless_update_state` pass
    `sample_weight` to the weighted ones only.

    With several outputs it also tracks each output's unweighted loss (`<output>_loss`;
    Keras' `CompileLoss.metrics`): the engine updates those with the others.

    Example:
    >>> import numpy as np
    >>> cm = CompileMetrics(["mae"], ["mse"])
    >>> cm.update_state(np.zeros((2, 1)), np.ones((2, 1)), sample_weight=np.array([1., 0.]))
    >>> {k: float(v) for k, v in cm.result().items()}
    {'mae': 1.0, 'mse': 1.0}
    """

    def __init__(self, metrics, weighted_metrics=None, output_names=None):
        super().__init__(name="compile_metrics")
        if metrics and not isinstance(metrics, (list, tuple, dict)):
            raise ValueError(
                "Expected `metrics` argument to be a list, tuple, or dict. Received instead: "
                f"metrics={metrics} of type {type(metrics)}"
            )
        if weighted_metrics and not isinstance(weighted_metrics, (list, tuple, dict)):
            raise ValueError(
                "Expected `weighted_metrics` argument to be a list, tuple, or dict. Received "
                f"instead: weighted_metrics={weighted_metrics} of type "
                f"{type(weighted_metrics)}"
            )
        self.identifiers = metrics
        self.weighted_identifiers = weighted_metrics
        for m in _flat_identifiers(metrics) + _flat_identifiers(weighted_metrics):
            check_metric_identifier(m)
        self.output_names = list(output_names) if output_names else None
        self._unweighted = None
        self._weighted = None
        self.loss_trackers = []
        self._compile_loss = None

    @property
    def built(self):
        return self._unweighted is not None

    @property
    def metrics(self):
        """The resolved metrics, then the weighted ones (empty before the first batch)."""
        return (self._unweighted or []) + (self._weighted or [])

    def build(self, y_true, y_pred, loss, compile_loss=None):
        self._compile_loss = compile_loss
        self._specs = (y_true, y_pred)
        self.loss_trackers = []
        if y_pred is None or not _is_nested(y_pred):
            self._unweighted = [resolve_metric(m, y_true, y_pred, loss)
                                for m in _flat_identifiers(self.identifiers)]
            self._weighted = [resolve_metric(m, y_true, y_pred, loss)
                              for m in _flat_identifiers(self.weighted_identifiers)]
            self._paths = [None] * len(self._unweighted)
            self._wpaths = [None] * len(self._weighted)
        else:
            names = [n for n, _ in output_items(y_pred, self.output_names)]
            losses = per_output(loss, names, "loss") if _is_nested(loss) else {
                n: loss for n in names}
            if compile_loss is not None and len(compile_loss.loss_names(y_pred)) > 1:
                self.loss_trackers = [(n, metrics_module.Mean(name=f"{n}_loss"))
                                      for n in compile_loss.loss_names(y_pred)]
            self._unweighted, self._paths = self._build_nested(
                self.identifiers, y_true, y_pred, names, losses, "metrics")
            self._weighted, self._wpaths = self._build_nested(
                self.weighted_identifiers, y_true, y_pred, names, losses, "weighted_metrics")
        for m in self._weighted:
            if any(m.name == u.name for u in self._unweighted):
                m.name = "weighted_" + m.name

    def _build_nested(self, spec, y_true, y_pred, names, losses, what):
        if not spec:
            return [], []
        if isinstance(spec, (list, tuple)) and len(spec) == len(names) and all(
                m is None or isinstance(m, (list, tuple, dict)) for m in spec):
            spec = dict(zip(names, spec))
        per = per_output(spec, names, what)
        needed = [n for n in names if per[n]]
        metrics, paths = [], []
        for name, yt, yp in match_targets(y_true, y_pred, self.output_names, needed):
            for identifier in _flat_identifiers(per[name]):
                m = resolve_metric(identifier, yt, yp, losses.get(name))
                m.name = f"{name}_{m.name}"
                metrics.append(m)
                paths.append(name)
        return metrics, paths

    def all(self):
        """The per-output loss trackers, then `metrics`: every metric the engine updates."""
        return [m for _, m in self.loss_trackers] + self.metrics

    def init(self):
        """Fresh states; metrics that size their state from the data (R2Score, F1Score,
        multi-label AUC) are shaped from the first batch's specs, for the scan carry."""
        specs = getattr(self, "_specs", None)
        state = {m.name: m.init() for _, m in self.loss_trackers}
        paired = list(zip(self._unweighted or [], getattr(self, "_paths", []))) + list(
            zip(self._weighted or [], getattr(self, "_wpaths", [])))
        for m, path in paired:
            if specs is None or specs[0] is None:
                state[m.name] = m.init()
                continue
            yt, yp = self._pick(specs[0], specs[1], path)
            rows = jax.ShapeDtypeStruct((yp.shape[0],), jnp.float32)
            state[m.name] = m.init_like(yt, yp, sample_weight=rows)
        return state

    def _pick(self, y_true, y_pred, name):
        if name is None:
            return y_true, y_pred
        for n, yt, yp in match_targets(y_true, y_pred, self.output_names, [name]):
            if n == name:
                return yt, yp

    def update(self, state, y_true, y_pred, row_weight=None, sample_weight=None):
        """The new states of `all()`: `row_weight` (None: every row) masks padded rows,
        the loss trackers and the weighted metrics also get `sample_weight`."""
        new = {}
        if self.loss_trackers:
            rows = None if row_weight is None else row_weight > 0
            values = self._compile_loss.per_output(y_true, y_pred, sample_weight, rows)
            count = (jnp.asarray(jnp.shape(jax.tree_util.tree_leaves(y_pred)[0])[0],
                                 jnp.float32) if row_weight is None else jnp.sum(row_weight))
            for name, m in self.loss_trackers:
                new[m.name] = m.update(state[m.name], values[name][0], sample_weight=count)
        new.update(self._update_metrics(state, y_true, y_pred, row_weight, sample_weight))
        return new

    def _update_metrics(self, state, y_true, y_pred, row_weight, sample_weight):
        new = {}
        for m, path in zip(self._unweighted or [], self._paths):
            yt, yp = self._pick(y_true, y_pred, path)
            new[m.name] = m.update(state[m.name], yt, yp, sample_weight=row_weight)
        for m, path in zip(self._weighted or [], self._wpaths):
            yt, yp = self._pick(y_true, y_pred, path)
            sw = sample_weight.get(path) if isinstance(sample_weight, dict) else sample_weight
            w = sw if row_weight is None else row_weight if sw is None else row_weight * sw
            new[m.name] = m.update(state[m.name], yt, yp, sample_weight=w)
        return new

    def result(self, state=None):
        """`{name: value}` of the metrics (of `state`; by default their own states)."""
        if state is None:
            if not self.built:
                raise ValueError(
                    "Cannot get result() since the metric has not yet been built.")
            return {m.name: m.result() for m in self.metrics}
        return {m.name: m.compute(state[m.name]) for m in self.all() if m.name in state}

    def compute(self, state):
        return self.result(state)

    # -- Keras' container-metric shell over the sub-metrics --
    @property
    def state(self):
        return {m.name: m.state for m in self.metrics}

    @state.setter
    def state(self, value):
        for m in self.metrics:
            m.state = value[m.name]

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def _check_built(self, what):
        if not self.built:
            raise ValueError(
                f"Cannot call `{what}` on the 'compile_metrics' container before it is built: "
                "it is built from the first batch of `fit()`/`evaluate()` (or a first "
                "`update_state(y_true, y_pred)`)."
            )

    def _as_state(self, metric_variables):
        self._check_built("stateless_update_state")
        sizes = [len(m.stateless_reset_state()) for m in self.metrics]
        if sum(sizes) != len(metric_variables):
            raise ValueError(
                f"'compile_metrics' expects {sum(sizes)} metric variables (those of "
                f"{[m.name for m in self.metrics]}), received {len(metric_variables)}. Pass "
                "its `variables` or `stateless_reset_state()`."
            )
        state, i = {}, 0
        for m, k in zip(self.metrics, sizes):
            state[m.name] = m._as_state(list(metric_variables[i:i + k]))
            i += k
        return state

    def _as_list(self, state):
        return [v for m in self.metrics for v in state[m.name].values()]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred, None)
        self.state = self._update_metrics(self.state, y_true, y_pred, None, sample_weight)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def stateless_update_state(self, metric_variables, y_true, y_pred, sample_weight=None):
        state = self._as_state(metric_variables)
        return self._as_list(self._update_metrics(state, y_true, y_pred, None, sample_weight))

    def stateless_result(self, metric_variables):
        state = self._as_state(metric_variables)
        return {m.name: m.compute(state[m.name]) for m in self.metrics}

    def stateless_reset_state(self):
        if not self.built:
            return []
        fresh = self.init()
        return self._as_list(fresh)


def _flat_identifiers(spec):
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [m for v in spec.values() for m in _flat_identifiers(v)]
    if isinstance(spec, (list, tuple)):
        return [m for v in spec for m in _flat_identifiers(v)]
    return [spec]


__all__ = ["CompileMetrics", "check_metric_identifier", "resolve_metric"]
