"""Runs a RandomSearch and kills the process (os._exit) inside trial 1's first epoch.

Usage: python -m tests.tuner.kill_driver DIRECTORY
"""

import os
import sys

import kerax
import kerax.tuner as kt
from tests.tuner.helpers import data, make_build


class KilledSearch(kt.RandomSearch):
    def on_epoch_end(self, trial, model, epoch, logs=None):
        if trial.trial_id == "1":
            os._exit(17)


if __name__ == "__main__":
    tuner = KilledSearch(make_build(kerax), objective="loss", max_trials=3, seed=4,
                         directory=sys.argv[1], project_name="p")
    tuner.search(*data(), epochs=1, verbose=0)
