"""`kerax.tuner`: hyperparameter search with keras-tuner 1.4's API, for kerax models.

Use it as keras-tuner is used (with `kt` being `kerax.tuner`)::

    def build(hp):
        model = kerax.Sequential([...hp.Int("units", 32, 128, step=32)...])
        model.compile(...)
        return model

    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=10)
    tuner.search(x, y, epochs=5, validation_split=0.2)
    best = tuner.get_best_models(1)[0]

Results are stored as keras-tuner stores them (`directory/project_name/oracle.json`,
`trial_<id>/trial.json`, `trial_<id>/checkpoint.weights.h5`), and a search started again
with `overwrite=False` resumes where it stopped.
"""

from kerax import _exports
from kerax.tuner import errors, oracles, tuners  # noqa: F401
from kerax.tuner.base_tuner import BaseTuner  # noqa: F401
from kerax.tuner.bayesian import BayesianOptimization, BayesianOptimizationOracle  # noqa: F401
from kerax.tuner.errors import (  # noqa: F401
    FailedTrialError, FatalError, FatalRuntimeError, FatalTypeError, FatalValueError)
from kerax.tuner.grid_search import GridSearch, GridSearchOracle  # noqa: F401
from kerax.tuner.hyperband import Hyperband, HyperbandOracle  # noqa: F401
from kerax.tuner.hypermodel import HyperModel  # noqa: F401
from kerax.tuner.hyperparameters import HyperParameters  # noqa: F401
from kerax.tuner.objective import Objective  # noqa: F401
from kerax.tuner.oracle import Oracle  # noqa: F401
from kerax.tuner.random_search import RandomSearch, RandomSearchOracle  # noqa: F401
from kerax.tuner.trial import Trial, TrialStatus  # noqa: F401
from kerax.tuner.tuner import Tuner  # noqa: F401

__all__ = _exports.public_names(globals())
