"""`kerax.tuner.oracles`: the oracles, where keras-tuner's `keras_tuner.oracles` has them."""

from kerax import _exports
from kerax.tuner.bayesian import BayesianOptimizationOracle  # noqa: F401
from kerax.tuner.grid_search import GridSearchOracle  # noqa: F401
from kerax.tuner.hyperband import HyperbandOracle  # noqa: F401
from kerax.tuner.random_search import RandomSearchOracle  # noqa: F401

__all__ = _exports.public_names(globals())
