"""`GridSearch`: every combination of values, in keras-tuner's order.

The first trial takes every default; each later trial "increments" an earlier trial's
values like an odometer whose last hyperparameter turns fastest, each digit running
through the default first, then the other values in order.
"""

import collections
import copy

from kerax.tuner import trial as trial_module
from kerax.tuner.oracle import Oracle
from kerax.tuner.tuner import Tuner


class _LinkedList:
    """Trial ids in grid order (a new trial is inserted after the one it came from)."""

    def __init__(self):
        self._memory = []
        self._data_to_index = {}
        self._next_index = collections.defaultdict(lambda: None)
        self._last_index = None

    def insert(self, data, data_pre=None):
        self._memory.append(data)
        new = len(self._memory) - 1
        self._data_to_index[data] = new
        index = self._last_index if data_pre is None else self._data_to_index[data_pre]
        self._next_index[new] = self._next_index[index]
        self._next_index[index] = new
        while self._next_index[self._last_index] is not None:
            self._last_index = self._next_index[self._last_index]

    def next(self, data):
        following = self._next_index[self._data_to_index[data]]
        return None if following is None else self._memory[following]


def _ordered_values(hp):
    values = list(hp.values)
    if hp.default in values:
        values.remove(hp.default)
    return [hp.default] + values


class GridSearchOracle(Oracle):
    """Walks the grid; a `Float` without `step` contributes ten bucket centres."""

    def __init__(self, objective=None, max_trials=None, seed=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3):
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
                         allow_new_entries=allow_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)
        self._ordered_ids = _LinkedList()
        self._populate_next = []

    def populate_space(self, trial_id):
        values = None
        if not self.start_order:
            self._ordered_ids.insert(trial_id)
            hps = self.get_space()
            values = {hp.name: hp.default for hp in hps.space if hps.is_active(hp)}
            self._populate_next.append(trial_id)
        while self._populate_next and values is None:
            old_id = self._populate_next.pop(0)
            new_values = self._get_next_combination(self.trials[old_id].hyperparameters.values)
            if new_values is None:
                continue
            next_id = self._ordered_ids.next(old_id)
            if next_id is not None and self._compare(
                    new_values, self.trials[next_id].hyperparameters.values) >= 0:
                continue
            self._ordered_ids.insert(trial_id, old_id)
            values = new_values
        if values is not None:
            return {"status": trial_module.TrialStatus.RUNNING, "values": values}
        if self.ongoing_trials:
            return {"status": trial_module.TrialStatus.IDLE, "values": None}
        return {"status": trial_module.TrialStatus.STOPPED, "values": None}

    def _compare(self, a, b):
        for hp in self.get_space().space:
            if hp.name not in a or a[hp.name] == b[hp.name]:
                continue
            order = _ordered_values(hp)
            return -1 if order.index(a[hp.name]) < order.index(b[hp.name]) else 1
        return 0

    def _get_next_combination(self, values):
        hps = self.get_space()
        all_values = {hp.name: _ordered_values(hp) for hp in hps.space}
        defaults = {hp.name: hp.default for hp in hps.space}
        hps.values = copy.deepcopy(values)
        bumped = False
        for hp in reversed(hps.space):
            name = hp.name
            if hps.is_active(hp):
                value = hps.values[name]
                if value != all_values[name][-1]:
                    hps.values[name] = all_values[name][all_values[name].index(value) + 1]
                    bumped = True
                    break
            hps.values[name] = defaults[name]
        hps.ensure_active_values()
        return hps.values if bumped else None

    def end_trial(self, trial):
        super().end_trial(trial)
        self._populate_next.append(trial.trial_id)
        self.save()

    def get_state(self):
        # keras-tuner does not save its grid position, so a resumed GridSearch stops
        # early there; kerax saves it (extra keys in oracle.json).
        state = super().get_state()
        ids = self._ordered_ids
        state["grid"] = {"memory": ids._memory, "last_index": ids._last_index,
                         "next_index": [[k, v] for k, v in ids._next_index.items()],
                         "populate_next": self._populate_next}
        return state

    def set_state(self, state):
        super().set_state(state)
        grid = state.get("grid")
        if grid is None:
            return
        ids = _LinkedList()
        ids._memory = list(grid["memory"])
        ids._data_to_index = {d: i for i, d in enumerate(ids._memory)}
        ids._last_index = grid["last_index"]
        ids._next_index.update({k: v for k, v in grid["next_index"]})
        self._ordered_ids = ids
        self._populate_next = list(grid["populate_next"])


class GridSearch(Tuner):
    """Grid search: every combination of the space's values (see `GridSearchOracle`)."""

    def __init__(self, hypermodel=None, objective=None, max_trials=None, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, **kwargs):
        self.seed = seed
        oracle = GridSearchOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
