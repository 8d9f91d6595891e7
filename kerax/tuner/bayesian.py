"""`BayesianOptimization`: keras-tuner's Gaussian-process oracle, in numpy.

As keras-tuner: the first `num_initial_points` trials (default `max(3 * dims, 3)`) are
random; afterwards each trial's values map to a vector of cumulative probabilities in
[0, 1] (one per non-fixed hyperparameter), a Matern-5/2 Gaussian process with
`alpha` noise and normalized scores is fitted to the completed trials, and the next
values minimize the lower confidence bound `mean - beta * std` of the (minimized)
score. keras-tuner minimizes that bound with scipy's L-BFGS-B from 50 random starts;
here the 50 starts (drawn from the same seeded stream) and 2000 more random points are
evaluated, and the best few refined with a compass search, without scipy.
"""

import numpy as np

from kerax.tuner import hp_types
from kerax.tuner import hyperparameters as hp_module
from kerax.tuner import trial as trial_module
from kerax.tuner.gaussian_process import GaussianProcess
from kerax.tuner.oracle import Oracle
from kerax.tuner.tuner import Tuner


def minimize_in_unit_cube(fn, starts, random_state, num_random=2000, num_refined=5):
    """The point of `[0, 1]^d` with the smallest `fn` (vectorized over rows) found from
    `starts`, `num_random` uniform points and a compass search around the best."""
    d = starts.shape[1]
    points = np.concatenate([starts, random_state.uniform(size=(num_random, d))])
    values = fn(points)
    best_x, best_v = points[np.argmin(values)], float(values.min())
    directions = np.concatenate([np.eye(d), -np.eye(d)])
    for i in np.argsort(values)[:num_refined]:
        x, v, step = points[i], float(values[i]), 0.1
        while step > 1e-7:
            trial = np.clip(x + step * directions, 0.0, 1.0)
            trial_values = fn(trial)
            j = int(np.argmin(trial_values))
            if trial_values[j] < v:
                x, v = trial[j], float(trial_values[j])
            else:
                step /= 2
        if v < best_v:
            best_x, best_v = x, v
    return best_x, best_v


class BayesianOptimizationOracle(Oracle):
    """Gaussian-process Bayesian optimization (see the module docstring).

    Args:
        num_initial_points: random trials before the Gaussian process is used.
        alpha: noise added to the kernel's diagonal.
        beta: how much the bound trusts uncertainty (exploration).
    """

    def __init__(self, objective=None, max_trials=10, num_initial_points=None, alpha=1e-4,
                 beta=2.6, seed=None, hyperparameters=None, allow_new_entries=True,
                 tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3):
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
                         allow_new_entries=allow_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)
        self.num_initial_points = num_initial_points
        self.alpha = alpha
        self.beta = beta
        self._random_state = np.random.RandomState(self.seed)
        self.gp = None

    def populate_space(self, trial_id):
        completed = [t for t in self.trials.values() if t.status == "COMPLETED"]
        num_initial = self.num_initial_points or max(3 * len(self.hyperparameters.space), 3)
        if len(completed) < num_initial:
            values = self._random_values()
            if values is None:
                return {"status": trial_module.TrialStatus.STOPPED, "values": None}
            return {"status": trial_module.TrialStatus.RUNNING, "values": values}
        x, y = self._vectorize_trials()
        x = np.nan_to_num(x, posinf=0, neginf=0)
        y = np.nan_to_num(y, posinf=0, neginf=0)
        self.gp = GaussianProcess(alpha=self.alpha).fit(x, y)

        def lower_confidence_bound(points):
            mean, std = self.gp.predict(points)
            return mean - self.beta * std

        starts = self._random_state.uniform(0.0, 1.0, size=(50, x.shape[1]))
        best, _ = minimize_in_unit_cube(lower_confidence_bound, starts, self._random_state)
        return {"status": trial_module.TrialStatus.RUNNING,
                "values": self._vector_to_values(best)}

    def _nonfixed_space(self):
        return [hp for hp in self.hyperparameters.space if not isinstance(hp, hp_types.Fixed)]

    def _vectorize_trials(self):
        x, y = [], []
        ongoing = {t.trial_id for t in self.ongoing_trials.values()}
        for trial in self.trials.values():
            hps = trial.hyperparameters
            vector = [hp.value_to_prob(hps.values[hp.name] if hps.is_active(hp)
                                       and hp.name in hps.values else hp.default)
                      for hp in self._nonfixed_space()]
            if trial.trial_id in ongoing:
                if self.gp is None:
                    continue
                mean, std = self.gp.predict(np.array([vector]))
                score = mean[0] + std[0]
            elif trial.status == "COMPLETED":
                score = -trial.score if self.objective.direction == "max" else trial.score
            else:
                continue
            x.append(vector)
            y.append(score)
        return np.array(x), np.array(y)

    def _vector_to_values(self, vector):
        hps = hp_module.HyperParameters()
        index = 0
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if isinstance(hp, hp_types.Fixed):
                value = hp.value
            else:
                value = hp.prob_to_value(float(vector[index]))
                index += 1
            if hps.is_active(hp):
                hps.values[hp.name] = value
        return hps.values

    def get_state(self):
        state = super().get_state()
        state.update(num_initial_points=self.num_initial_points, alpha=self.alpha,
                     beta=self.beta)
        return state

    def set_state(self, state):
        super().set_state(state)
        self.num_initial_points = state["num_initial_points"]
        self.alpha = state["alpha"]
        self.beta = state["beta"]
        self.gp = None


class BayesianOptimization(Tuner):
    """Bayesian optimization with a Gaussian process (see `BayesianOptimizationOracle`)."""

    def __init__(self, hypermodel=None, objective=None, max_trials=10, num_initial_points=None,
                 alpha=1e-4, beta=2.6, seed=None, hyperparameters=None, tune_new_entries=True,
                 allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, **kwargs):
        oracle = BayesianOptimizationOracle(
            objective=objective, max_trials=max_trials, num_initial_points=num_initial_points,
            alpha=alpha, beta=beta, seed=seed, hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries, allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
