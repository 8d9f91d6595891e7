"""`Objective` and the per-trial metric history, as keras-tuner 1.4 defines them."""

import numpy as np

from kerax import losses, metrics

_MAX_METRICS = ("Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
                "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
                "SparseTopKCategoricalAccuracy", "TruePositives", "TrueNegatives",
                "Precision", "Recall", "AUC", "SensitivityAtSpecificity",
                "SpecificityAtSensitivity")
_MAX_METRIC_FNS = ("accuracy", "categorical_accuracy", "binary_accuracy",
                   "sparse_categorical_accuracy")


def infer_metric_direction(metric):
    """`"min"`, `"max"` or `None` for a metric name, as keras-tuner infers it.

    Example:
    >>> infer_metric_direction("val_accuracy"), infer_metric_direction("val_loss")
    ('max', 'min')
    """
    name = metric
    if name.startswith("val_"):
        name = name.replace("val_", "", 1)
    if name.startswith("weighted_"):
        name = name.replace("weighted_", "", 1)
    if name in ("loss", "crossentropy", "ce"):
        return "min"
    if name == "acc":
        return "max"
    for module in (metrics, losses):
        try:
            obj = module.get(name)
        except Exception:  # an unknown identifier: try the next namespace
            continue
        kind = getattr(obj, "__name__", type(obj).__name__)
        return "max" if kind in _MAX_METRICS or kind in _MAX_METRIC_FNS else "min"
    return None


class Objective:
    """A metric name and whether to minimize or maximize it.

    Example:
    >>> Objective("val_auc", direction="max").better_than(0.9, 0.8)
    True
    """

    def __init__(self, name, direction):
        self.name = name
        self.direction = direction

    def has_value(self, logs):
        return self.name in logs

    def get_value(self, logs):
        return logs[self.name]

    def better_than(self, a, b):
        return (a > b and self.direction == "max") or (a < b and self.direction == "min")

    def __eq__(self, other):
        return self.name == other.name and self.direction == other.direction

    def __str__(self):
        return f'Objective(name="{self.name}", direction="{self.direction}")'


class DefaultObjective(Objective):
    """The objective when none is given: the value `run_trial` returns, minimized."""

    def __init__(self):
        super().__init__(name="default_objective", direction="min")


class MultiObjective(Objective):
    """Several objectives summed (those to maximize with a minus sign), minimized."""

    def __init__(self, objectives):
        super().__init__(name="multi_objective", direction="min")
        self.objectives = objectives
        self.name_to_direction = {o.name: o.direction for o in objectives}

    def has_value(self, logs):
        return all(key in logs for key in self.name_to_direction)

    def get_value(self, logs):
        value = 0
        for name, v in logs.items():
            if name in self.name_to_direction:
                value += v if self.name_to_direction[name] == "min" else -v
        return value

    def __eq__(self, other):
        return (getattr(other, "name_to_direction", None) == self.name_to_direction)

    def __str__(self):
        return "Multi" + super().__str__() + f": [{', '.join(map(str, self.objectives))}]"


def create_objective(objective):
    """An `Objective` from `None`, a name, an `Objective` or a list of them."""
    if objective is None:
        return DefaultObjective()
    if isinstance(objective, list):
        return MultiObjective([create_objective(o) for o in objective])
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(
            f"`objective` not understood, expected str or `Objective` object, found: "
            f"{objective}")
    direction = infer_metric_direction(objective)
    if direction is None:
        raise ValueError(
            f'Could not infer optimization direction ("min" or "max") for unknown metric '
            f'"{objective}". Please specify the objective as a `kerax.tuner.Objective`, for '
            f'example `kerax.tuner.Objective("{objective}", direction="min")`.')
    return Objective(name=objective, direction=direction)


class MetricHistory:
    """One metric's observations by step (several per step: one per execution)."""

    def __init__(self, direction="min"):
        if direction not in ("min", "max"):
            raise ValueError(
                f'`direction` should be one of {{"min", "max"}}, but got: {direction}')
        self.direction = direction
        self._observations = {}

    def update(self, value, step):
        self._observations.setdefault(step, []).append(float(value))

    def get_best_value(self):
        values = [np.mean(v) for v in self._observations.values()]
        if not values:
            return None
        return np.nanmin(values) if self.direction == "min" else np.nanmax(values)

    def get_best_step(self):
        best = self.get_best_value()
        for step, values in self._observations.items():
            if best is not None and np.mean(values) == best:
                return step
        return None

    def get_history(self):
        return [(step, self._observations[step]) for step in sorted(self._observations)]

    def get_last_value(self):
        history = self.get_history()
        return float(np.mean(history[-1][1])) if history else None

    def get_config(self):
        return {"direction": self.direction,
                "observations": [{"value": v, "step": s} for s, v in self.get_history()]}

    @classmethod
    def from_config(cls, config):
        history = cls(config["direction"])
        for obs in config["observations"]:
            history._observations.setdefault(obs["step"], []).extend(obs["value"])
        return history


class MetricsTracker:
    """The `MetricHistory` of each metric a trial reported."""

    def __init__(self):
        self.metrics = {}

    def exists(self, name):
        return name in self.metrics

    def register(self, name, direction=None):
        if name in self.metrics:
            raise ValueError(f"Metric already exists: {name}")
        self.metrics[name] = MetricHistory(direction or infer_metric_direction(name) or "min")

    def update(self, name, value, step=0):
        if name not in self.metrics:
            self.register(name)
        self.metrics[name].update(value, step)

    def _get(self, name):
        if name not in self.metrics:
            raise ValueError(f"Unknown metric: {name}; known metrics: {sorted(self.metrics)}")
        return self.metrics[name]

    def get_best_value(self, name):
        return self._get(name).get_best_value()

    def get_best_step(self, name):
        return self._get(name).get_best_step()

    def get_last_value(self, name):
        return self._get(name).get_last_value()

    def get_history(self, name):
        return self._get(name).get_history()

    def get_config(self):
        return {"metrics": {n: h.get_config() for n, h in self.metrics.items()}}

    @classmethod
    def from_config(cls, config):
        tracker = cls()
        tracker.metrics = {n: MetricHistory.from_config(h)
                           for n, h in config["metrics"].items()}
        return tracker
