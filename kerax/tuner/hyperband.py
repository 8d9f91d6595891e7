"""`Hyperband`: keras-tuner's bracket schedule of successive halving.

With `max_epochs=R` and `factor=f`, there are `s_max + 1` brackets (`s_max` = how many
times R can be divided by f while staying >= 1, minus one). Bracket `b` starts
`ceil(ceil(1 + log_f R) / (b + 1) * f**b)` trials for `ceil(R / f**b)` epochs; each later
round keeps the best `size(b, r)` trials of the round before and trains them, from the
previous round's checkpoint, up to `ceil(R / f**(b - r))` epochs. Brackets run from the
most exploratory (`b = s_max`) down to `b = 0`, `hyperband_iterations` times.
"""

import copy
import math

from kerax.tuner.oracle import Oracle
from kerax.tuner.tuner import Tuner


class HyperbandOracle(Oracle):
    """Hands out Hyperband's trials; each carries `tuner/epochs`, `tuner/initial_epoch`,
    `tuner/bracket`, `tuner/round` and, after round 0, `tuner/trial_id` (the trial whose
    weights it continues from)."""

    def __init__(self, objective=None, max_epochs=100, factor=3, hyperband_iterations=1,
                 seed=None, hyperparameters=None, allow_new_entries=True,
                 tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3):
        super().__init__(objective=objective, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries,
                         tune_new_entries=tune_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)
        if factor < 2:
            raise ValueError(f"factor needs to be a int larger than 1. Received: factor={factor}")
        self.hyperband_iterations = hyperband_iterations or float("inf")
        self.max_epochs = max_epochs
        self.min_epochs = 1
        self.factor = factor
        self._current_iteration = 0
        self._current_bracket = self._get_num_brackets() - 1
        self._brackets = []
        self._start_new_bracket()

    def populate_space(self, trial_id):
        self._remove_completed_brackets()
        for bracket in self._brackets:
            num, rounds = bracket["bracket_num"], bracket["rounds"]
            if len(rounds[0]) < self._get_size(num, 0):
                return self._random_trial(trial_id, bracket)
            for round_num in range(1, len(rounds)):
                round_info, past_info = rounds[round_num], rounds[round_num - 1]
                size = self._get_size(num, round_num)
                past_size = self._get_size(num, round_num - 1)
                selected = [info["past_id"] for info in round_info]
                candidates = [self.trials[info["id"]] for info in past_info
                              if info["id"] not in selected]
                candidates = [t for t in candidates if t.status == "COMPLETED"]
                if len(candidates) > past_size - size:
                    best = sorted(candidates, key=lambda t: t.score,
                                  reverse=self.objective.direction == "max")[0]
                    values = best.hyperparameters.values.copy()
                    values["tuner/trial_id"] = best.trial_id
                    values["tuner/epochs"] = self._get_epochs(num, round_num)
                    values["tuner/initial_epoch"] = self._get_epochs(num, round_num - 1)
                    values["tuner/bracket"] = self._current_bracket
                    values["tuner/round"] = round_num
                    round_info.append({"past_id": best.trial_id, "id": trial_id})
                    return {"status": "RUNNING", "values": values}
        if (self._current_bracket == 0
                and self._current_iteration + 1 == self.hyperband_iterations):
            return {"status": "IDLE"} if self.ongoing_trials else {"status": "STOPPED"}
        self._increment_bracket_num()
        self._start_new_bracket()
        return self._random_trial(trial_id, self._brackets[-1])

    def _start_new_bracket(self):
        rounds = [[] for _ in range(self._get_num_rounds(self._current_bracket))]
        self._brackets.append({"bracket_num": self._current_bracket, "rounds": rounds})

    def _increment_bracket_num(self):
        self._current_bracket -= 1
        if self._current_bracket < 0:
            self._current_bracket = self._get_num_brackets() - 1
            self._current_iteration += 1

    def _remove_completed_brackets(self):
        def incomplete(bracket):
            last = len(bracket["rounds"]) - 1
            return len(bracket["rounds"][last]) != self._get_size(bracket["bracket_num"], last)

        self._brackets = [b for b in self._brackets if incomplete(b)]

    def _compute_values_hash(self, values):
        values = copy.copy(values)
        for key in ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round"):
            values.pop(key, None)
        return super()._compute_values_hash(values)

    def _random_trial(self, trial_id, bracket):
        num, rounds = bracket["bracket_num"], bracket["rounds"]
        values = self._random_values()
        if values:
            values["tuner/epochs"] = self._get_epochs(num, 0)
            values["tuner/initial_epoch"] = 0
            values["tuner/bracket"] = self._current_bracket
            values["tuner/round"] = 0
            rounds[0].append({"past_id": None, "id": trial_id})
            return {"status": "RUNNING", "values": values}
        return {"status": "IDLE"} if self.ongoing_trials else {"status": "STOPPED"}

    def _get_size(self, bracket_num, round_num):
        bracket0_end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        bracket_end_size = bracket0_end_size / (bracket_num + 1)
        return math.ceil(bracket_end_size * self.factor ** (bracket_num - round_num))

    def _get_epochs(self, bracket_num, round_num):
        return math.ceil(self.max_epochs / self.factor ** (bracket_num - round_num))

    def _get_num_rounds(self, bracket_num):
        return bracket_num + 1

    def _get_num_brackets(self):
        epochs, brackets = self.max_epochs, 0
        while epochs >= self.min_epochs:
            epochs = epochs / self.factor
            brackets += 1
        return brackets

    def get_state(self):
        state = super().get_state()
        state.update(hyperband_iterations=self.hyperband_iterations,
                     max_epochs=self.max_epochs, min_epochs=self.min_epochs,
                     factor=self.factor, brackets=self._brackets,
                     current_bracket=self._current_bracket,
                     current_iteration=self._current_iteration)
        return state

    def set_state(self, state):
        super().set_state(state)
        self.hyperband_iterations = state["hyperband_iterations"]
        self.max_epochs = state["max_epochs"]
        self.min_epochs = state["min_epochs"]
        self.factor = state["factor"]
        self._brackets = state["brackets"]
        self._current_bracket = state["current_bracket"]
        self._current_iteration = state["current_iteration"]


class Hyperband(Tuner):
    """Hyperband (Li et al., 2018) with keras-tuner's schedule (see the module docstring).

    `search` sets each trial's `epochs` and `initial_epoch`; a trial that continues an
    earlier one starts from that trial's best-epoch checkpoint.
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, factor=3,
                 hyperband_iterations=1, seed=None, hyperparameters=None,
                 tune_new_entries=True, allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, **kwargs):
        oracle = HyperbandOracle(
            objective, max_epochs=max_epochs, factor=factor,
            hyperband_iterations=hyperband_iterations, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)

    def _trial_fit_kwargs(self, trial, fit_kwargs):
        hp = trial.hyperparameters
        if "tuner/epochs" in hp.values:
            fit_kwargs = {**fit_kwargs, "epochs": hp.values["tuner/epochs"],
                          "initial_epoch": hp.values["tuner/initial_epoch"]}
        return fit_kwargs

    def _build_hypermodel(self, hp):
        model = super()._build_hypermodel(hp)
        if "tuner/trial_id" in hp.values:
            self._load_trial_weights(model, hp.values["tuner/trial_id"])
        return model
