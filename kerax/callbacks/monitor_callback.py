"""`MonitorCallback`: the shared "is this value an improvement?" logic of Keras 3."""

import re
import warnings

import numpy as np

from kerax.callbacks.callback import Callback

# Metrics that improve upwards when they carry no `_direction` (Keras 3's "up" metrics).
_UP = re.compile(r"accuracy|auc|precision|recall|f1|fbeta|iou|r2|cosine_similarity|"
                 r"true_positives|true_negatives|at_recall|at_precision|at_sensitivity|"
                 r"at_specificity", re.IGNORECASE)


def _direction(metric):
    direction = getattr(metric, "_direction", None)
    if direction is not None:
        return direction
    names = f"{type(metric).__name__} {getattr(metric, 'name', '')}"
    return "up" if _UP.search(re.sub(r"(?<!^)(?=[A-Z])", "_", names)) else "down"


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged value (`monitor`) for improvements.

    Args:
        monitor: the `logs` key to watch, e.g. `"val_loss"`.
        mode: `"min"`, `"max"` or `"auto"` (from the metric's direction).
        baseline: the value to beat at first (None: the first value).
        min_delta: the smallest change that counts as an improvement.

    Example:
    >>> cb = MonitorCallback(monitor="loss", mode="min", min_delta=0.1)
    >>> cb._set_monitor_op()
    >>> cb._is_improvement(0.85, 1.0), cb._is_improvement(0.95, 1.0)
    (True, False)
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to "
                          "auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = np.less
            # As Keras: the metrics inside the "compile_metrics" container.
            containers = [m for m in getattr(self.model, "metrics", None) or []
                          if isinstance(getattr(m, "metrics", None), list)]
            for m in [s for c in containers for s in c.metrics]:
                if m.name == name:
                    self.monitor_op = np.greater if _direction(m) == "up" else np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "kerax isn't able to automatically determine whether that metric should "
                    "be maximized or minimized. Pass `mode='max'` in order to monitor based "
                    "on the highest metric value, or pass `mode='min'` in order to use the "
                    "lowest value."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
