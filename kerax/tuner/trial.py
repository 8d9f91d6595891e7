"""`Trial`: one set of hyperparameter values, its status, metrics and score."""

import json
import os

from kerax.tuner import hyperparameters as hp_module
from kerax.tuner import objective as obj_module


class TrialStatus:
    RUNNING = "RUNNING"
    IDLE = "IDLE"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


def save_json(path, obj):
    """Write `obj` as JSON atomically (a kill never leaves half a file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def load_json(path):
    with open(path) as f:
        return json.load(f)


class Trial:
    """A trial as keras-tuner stores it in `trial_<id>/trial.json`.

    Example:
    >>> t = Trial(hp_module.HyperParameters(), trial_id="00")
    >>> Trial.from_state(t.get_state()).status
    'RUNNING'
    """

    def __init__(self, hyperparameters, trial_id=None, status=TrialStatus.RUNNING,
                 message=None):
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.metrics = obj_module.MetricsTracker()
        self.score = None
        self.best_step = 0
        self.status = status
        self.message = message

    def summary(self):
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        self.display_hyperparameters()
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message is not None:
            print(self.message)

    def display_hyperparameters(self):
        if self.hyperparameters.values:
            for name, value in self.hyperparameters.values.items():
                print(f"{name}:", value)
        else:
            print("default configuration")

    def get_state(self):
        return {"trial_id": self.trial_id,
                "hyperparameters": self.hyperparameters.get_config(),
                "metrics": self.metrics.get_config(),
                "score": None if self.score is None else float(self.score),
                "best_step": self.best_step, "status": self.status, "message": self.message}

    def set_state(self, state):
        self.trial_id = state["trial_id"]
        self.hyperparameters = hp_module.HyperParameters.from_config(state["hyperparameters"])
        self.metrics = obj_module.MetricsTracker.from_config(state["metrics"])
        self.score = state["score"]
        self.best_step = state["best_step"]
        self.status = state["status"]
        self.message = state["message"]

    @classmethod
    def from_state(cls, state):
        trial = cls(hyperparameters=None)
        trial.set_state(state)
        return trial

    def save(self, fname):
        save_json(fname, self.get_state())

    @classmethod
    def load(cls, fname):
        return cls.from_state(load_json(fname))
