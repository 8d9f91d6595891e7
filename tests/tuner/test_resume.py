"""Resuming a search: `overwrite=False` keeps finished trials, a trial that was running
when the process died restarts from scratch, failed trials are retried."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import kerax
import kerax.tuner as kt
from tests.tuner.helpers import data, make_build

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """Stands for a kill: not an `Exception`, so the tuner does not catch it."""


def _search(tmp_path, max_trials, calls, kill_at=None, tuner_class=kt.RandomSearch,
            **kwargs):
    def extra(hp):
        if kill_at is not None and len(calls) == kill_at:
            raise Killed()

    tuner = tuner_class(make_build(kerax, calls=calls, extra=extra), objective="loss",
                        max_trials=max_trials, directory=str(tmp_path), project_name="p",
                        **kwargs)
    tuner.search(*data(), epochs=1, verbose=0)
    return tuner


def test_overwrite_false_resumes_without_rerunning_finished_trials(tmp_path):
    first_calls = []
    first = _search(tmp_path, 2, first_calls, seed=9)
    values = [t.hyperparameters.values for t in first.oracle.trials.values()]
    calls = []
    resumed = _search(tmp_path, 3, calls, seed=9)
    # The resumed tuner reloads the space (no declaring build) and runs only trial 2.
    assert len(calls) == 1 and sorted(resumed.oracle.trials) == ["0", "1", "2"]
    assert [resumed.oracle.trials[i].hyperparameters.values for i in "01"] == values
    assert all(t.status == "COMPLETED" for t in resumed.oracle.trials.values())
    assert calls[-1] == resumed.oracle.trials["2"].hyperparameters.values
    calls = []
    fresh = _search(tmp_path, 1, calls, seed=9, overwrite=True)
    assert sorted(fresh.oracle.trials) == ["0"]


@pytest.mark.parametrize("tuner_class", [
    kt.RandomSearch, pytest.param(kt.GridSearch, marks=pytest.mark.slow)])
def test_a_trial_killed_midway_restarts_cleanly(tmp_path, tuner_class):
    calls = []
    # calls: [declare-space build, trial 0, trial 1 (killed while building)]
    with pytest.raises(Killed):
        _search(tmp_path, 3, calls, kill_at=2, tuner_class=tuner_class, seed=2)
    oracle = json.loads((tmp_path / "p" / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {"tuner0": "1"} and oracle["end_order"] == ["0"]
    killed_values = json.loads(
        (tmp_path / "p" / "trial_1" / "trial.json").read_text())["hyperparameters"]["values"]
    calls = []
    resumed = _search(tmp_path, 3, calls, tuner_class=tuner_class, seed=2)
    trials = resumed.oracle.trials
    assert sorted(trials) == ["0", "1", "2"]
    assert calls == [killed_values, trials["2"].hyperparameters.values]
    assert all(t.status == "COMPLETED" for t in trials.values())
    assert len(trials["1"].metrics.get_history("loss")) == 1
    assert resumed.oracle.end_order == ["0", "1", "2"]
    if tuner_class is kt.GridSearch:
        # The grid continues where it stopped, in the order of an uninterrupted search.
        whole = _search(tmp_path / "whole", 3, [], tuner_class=tuner_class)
        assert ([trials[i].hyperparameters.values for i in "012"]
                == [whole.oracle.trials[i].hyperparameters.values for i in "012"])


def test_a_failing_trial_is_retried_then_marked_failed(tmp_path):
    calls = []
    failures = {"left": 1}

    def extra(hp):
        if len(calls) == 1 and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("transient failure")

    tuner = kt.RandomSearch(make_build(kerax, calls=calls, extra=extra), objective="loss",
                            max_trials=2, max_retries_per_trial=1, seed=1,
                            directory=str(tmp_path))
    tuner.search(*data(), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED", "COMPLETED"]
    assert tuner.oracle._run_times["0"] == 2

    later_calls = []

    def always(hp):
        if later_calls:  # the declaring build succeeds, every trial fails
            raise RuntimeError("always fails")

    tuner = kt.RandomSearch(make_build(kerax, calls=later_calls, extra=always),
                            objective="loss", max_trials=1, directory=str(tmp_path),
                            project_name="fail")
    tuner.search(*data(), epochs=1, verbose=0)
    trial = tuner.oracle.trials["0"]
    assert trial.status == "FAILED" and "always fails" in trial.message


def test_a_killed_process_resumes(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.tuner.kill_driver", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 17, proc.stderr[-2000:]
    project = tmp_path / "p"
    assert (project / "trial_1" / "checkpoint.weights.h5").exists() is False
    calls = []
    resumed = _search(tmp_path, 3, calls, seed=4)
    trials = resumed.oracle.trials
    assert [t.status for t in trials.values()] == ["COMPLETED"] * 3
    # Trial 1 again, then trial 2; trial 0 is not rerun.
    assert calls == [trials["1"].hyperparameters.values,
                         trials["2"].hyperparameters.values]
    assert resumed.get_best_models(1)[0] is not None


@pytest.mark.slow  # ~25 s on 2 cores; the other resume tests cover the mechanism
def test_hyperband_resumes_its_brackets(tmp_path):
    def run(path, calls, kill_at=None):
        def extra(hp):
            if kill_at is not None and len(calls) == kill_at:
                raise Killed()

        # The same initial weights in every run, so the same trial is promoted.
        kerax.utils.set_random_seed(0)
        tuner = kt.Hyperband(make_build(kerax, calls=calls, extra=extra), objective="loss",
                             max_epochs=2, factor=2, seed=6, directory=str(path),
                             project_name="p")
        tuner.search(*data(), verbose=0)
        return tuner

    def schedule(tuner):
        return [t.hyperparameters.values for t in tuner.oracle.trials.values()]

    whole = run(tmp_path / "whole", [])
    # R=2, f=2: two 1-epoch trials, the best continued to 2 epochs; then two 2-epoch trials.
    assert [v["tuner/epochs"] for v in schedule(whole)] == [1, 1, 2, 2, 2]
    calls = []
    with pytest.raises(Killed):
        run(tmp_path / "killed", calls, kill_at=3)  # while building the promoted trial
    calls = []
    resumed = run(tmp_path / "killed", calls)
    assert schedule(resumed) == schedule(whole)
    assert len(calls) == 3  # the promoted trial again, then the last bracket's two
    assert all(t.status == "COMPLETED" for t in resumed.oracle.trials.values())
