"""`RandomSearch`: values drawn at random (seeded), without repeats."""

from kerax.tuner import trial as trial_module
from kerax.tuner.oracle import Oracle
from kerax.tuner.tuner import Tuner


class RandomSearchOracle(Oracle):
    """Draws each trial's values at random; stops after `max_trials` or when 20 draws in
    a row repeat earlier trials."""

    def __init__(self, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3):
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
                         allow_new_entries=allow_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)

    def populate_space(self, trial_id):
        values = self._random_values()
        if values is None:
            return {"status": trial_module.TrialStatus.STOPPED, "values": None}
        return {"status": trial_module.TrialStatus.RUNNING, "values": values}


class RandomSearch(Tuner):
    """Random search over the space `hypermodel` declares.

    Example:
    >>> import kerax, kerax.tuner as kt, tempfile
    >>> def build(hp):
    ...     model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(
    ...         hp.Int("units", 2, 8, step=2)), kerax.layers.Dense(1)])
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> tuner = kt.RandomSearch(build, objective="loss", max_trials=2,
    ...                         directory=tempfile.mkdtemp(), seed=1)
    >>> tuner.oracle.max_trials
    2
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, **kwargs):
        self.seed = seed
        oracle = RandomSearchOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
