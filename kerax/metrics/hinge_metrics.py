"""Hinge metrics (Keras' `hinge_metrics`), for labels in {-1, 1} (or {0, 1})."""

from kerax import losses as lf
from kerax.metrics.metric import MeanMetricWrapper


class Hinge(MeanMetricWrapper):
    """Mean hinge loss `max(1 - y_true * y_pred, 0)`.

    Example:
    >>> m = Hinge()
    >>> m.update_state([[1.0], [-1.0]], [[0.5], [0.5]])
    >>> float(m.result())
    1.0
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(lf.hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss `max(1 - y_true * y_pred, 0) ** 2`.

    Example:
    >>> m = SquaredHinge()
    >>> m.update_state([[1.0], [-1.0]], [[0.5], [0.5]])
    >>> float(m.result())
    1.25
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(lf.squared_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss `max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Example:
    >>> m = CategoricalHinge()
    >>> m.update_state([[0.0, 1.0]], [[0.2, 0.8]])
    >>> round(float(m.result()), 4)
    0.4
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(lf.categorical_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
