"""`kerax.tuner.tuners`: the tuners, where keras-tuner's `keras_tuner.tuners` has them."""

from kerax import _exports
from kerax.tuner.bayesian import BayesianOptimization  # noqa: F401
from kerax.tuner.grid_search import GridSearch  # noqa: F401
from kerax.tuner.hyperband import Hyperband  # noqa: F401
from kerax.tuner.random_search import RandomSearch  # noqa: F401
from kerax.tuner.tuner import Tuner  # noqa: F401

__all__ = _exports.public_names(globals())
