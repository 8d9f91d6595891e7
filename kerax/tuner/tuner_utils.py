"""What a trial's `fit` hands back, turned into metrics; the callbacks a trial adds."""

import collections
import statistics

import numpy as np

from kerax.callbacks import Callback, History
from kerax.tuner import errors
from kerax.tuner import objective as obj_module


class TunerCallback(Callback):
    """Forwards epoch and batch hooks to the tuner's `on_epoch_end(trial, model, ...)`."""

    def __init__(self, tuner, trial):
        super().__init__()
        self.tuner = tuner
        self.trial = trial

    def on_epoch_begin(self, epoch, logs=None):
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self.tuner.on_batch_begin(self.trial, self.model, batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.tuner.on_batch_end(self.trial, self.model, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)


class SaveBestEpoch(Callback):
    """Saves the model's weights at each epoch whose objective beats the best so far
    (at every epoch when the logs lack the objective)."""

    def __init__(self, objective, filepath):
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = float("-inf") if objective.direction == "max" else float("inf")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self.objective.has_value(logs):
            self.model.save_weights(self.filepath)
            return
        value = float(self.objective.get_value(logs))
        if self.objective.better_than(value, self.best_value):
            self.best_value = value
            self.model.save_weights(self.filepath)


def _best_epoch(history, objective):
    """(the logs of the best epoch, its index) of a `History`."""
    epochs = collections.defaultdict(dict)
    for name, values in history.history.items():
        for epoch, value in enumerate(values):
            epochs[epoch][name] = float(value)
    best = 0
    for epoch, logs in epochs.items():
        value = objective.get_value(logs)
        logs.setdefault(objective.name, value)
        if objective.better_than(value, epochs[best][objective.name]):
            best = epoch
    return epochs[best], best


def convert_to_metrics_dict(results, objective):
    """A trial's metrics from a float, a dict, a `History`, or a list of them (averaged)."""
    if isinstance(results, list):
        dicts = [convert_to_metrics_dict(r, objective) for r in results]
        merged = collections.defaultdict(list)
        for d in dicts:
            for name, value in d.items():
                merged[name].append(value)
        return {name: float(np.mean(values)) for name, values in merged.items()}
    if isinstance(results, (int, float, np.floating)):
        return {objective.name: float(results)}
    if isinstance(results, dict):
        return results
    return _best_epoch(results, objective)[0]


def validate_trial_results(results, objective, func_name):
    if isinstance(results, list):
        for r in results:
            validate_trial_results(r, objective, func_name)
        return
    if isinstance(results, (int, float, np.floating)):
        return
    if results is None:
        raise errors.FatalTypeError(
            f"The return value of {func_name} is None. Did you forget to return the metrics? ")
    if (isinstance(objective, obj_module.DefaultObjective)
            and not (isinstance(results, dict) and objective.name in results)):
        raise errors.FatalTypeError(
            f"Expected the return value of {func_name} to be a single float when `objective` "
            f"is left unspecified. Received return value: {results} of type {type(results)}.")
    if isinstance(results, dict):
        if objective.name not in results:
            raise errors.FatalValueError(
                f"Expected the returned dictionary from {func_name} to have the specified "
                f"objective, {objective.name}, as one of the keys. Received: {results}.")
        return
    if isinstance(results, History):
        return
    raise errors.FatalTypeError(
        f"Expected the return value of {func_name} to be one of float, dict, "
        f"kerax.callbacks.History, or a list of one of these types. Received return value: "
        f"{results} of type {type(results)}.")


def get_best_step(results, objective):
    if isinstance(results, list):
        return int(statistics.mean(get_best_step(r, objective) for r in results))
    if isinstance(results, History):
        return _best_epoch(results, objective)[1]
    return 0
