"""BayesianOptimization: the numpy Gaussian process against scikit-learn's (what
keras-tuner uses), the acquisition minimum against scipy's L-BFGS-B, the initial random
trials against keras-tuner's, and a search that finds a known optimum."""

import math

import numpy as np
import pytest

import kerax
import kerax.tuner as kt
from kerax.tuner.bayesian import minimize_in_unit_cube
from kerax.tuner.gaussian_process import GaussianProcess
from tests.tuner.helpers import data, make_build

kt_ref = pytest.importorskip("keras_tuner")
gaussian_process = pytest.importorskip("sklearn.gaussian_process")
scipy_optimize = pytest.importorskip("scipy.optimize")


def _sklearn_gp(x, y):
    return gaussian_process.GaussianProcessRegressor(
        kernel=gaussian_process.kernels.Matern(nu=2.5), n_restarts_optimizer=20,
        normalize_y=True, alpha=1e-4, random_state=1).fit(x, y)


@pytest.mark.parametrize("dims", [1, 3])
def test_gaussian_process_matches_scikit_learn(dims):
    rs = np.random.RandomState(dims)
    x = rs.rand(9, dims)
    y = np.sin(6 * x).sum(1) + 0.1 * rs.randn(9)
    ref = _sklearn_gp(x, y)
    ours = GaussianProcess(alpha=1e-4).fit(x, y)
    # Our length scale is at least as likely as scikit-learn's (its global maximum).
    assert (ours.log_marginal_likelihood(math.log(ours.length_scale))
            >= ref.log_marginal_likelihood_value_ - 1e-9)
    np.testing.assert_allclose(ours.length_scale, ref.kernel_.length_scale, rtol=1e-4)
    test = rs.rand(20, dims)
    mean, std = ref.predict(test, return_std=True)
    got_mean, got_std = ours.predict(test)
    np.testing.assert_allclose(got_mean, mean, atol=1e-6)
    np.testing.assert_allclose(got_std, std, atol=1e-6)


def test_acquisition_minimum_is_as_low_as_scipy_lbfgsb():
    rs = np.random.RandomState(0)
    x = rs.rand(8, 2)
    y = ((x - [0.3, 0.7]) ** 2).sum(1)
    gp = GaussianProcess().fit(x, y)

    def bound(points):
        mean, std = gp.predict(points)
        return mean - 2.6 * std

    starts = rs.uniform(size=(50, 2))
    _, ours = minimize_in_unit_cube(bound, starts, np.random.RandomState(1))
    ref = min(scipy_optimize.minimize(lambda p: bound(p.reshape(1, -1))[0], x0=s,
                                      bounds=[[0, 1]] * 2, method="L-BFGS-B").fun
              for s in starts)
    assert ours <= ref + 1e-6


def _space(lib):
    hp = lib.HyperParameters()
    hp.Float("a", 0.0, 1.0)
    hp.Float("b", 0.0, 1.0)
    hp.Fixed("c", 1)
    return hp


def _drive(oracle, tmp_path, fn, metric="loss"):
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    log = []
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            return log
        values = dict(trial.hyperparameters.values)
        log.append(values)
        oracle.update_trial(trial.trial_id, {metric: fn(values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


def _bowl(values):
    return (values["a"] - 0.3) ** 2 + (values["b"] - 0.7) ** 2


def test_initial_points_match_keras_tuner_and_the_search_finds_the_optimum(tmp_path):
    kwargs = dict(objective="loss", max_trials=14, num_initial_points=4, seed=3)
    ours = _drive(kt.BayesianOptimizationOracle(hyperparameters=_space(kt), **kwargs),
                  tmp_path / "a", _bowl)
    # keras-tuner's scipy/scikit-learn oracle is slow (seconds per trial): its first five.
    ref = _drive(kt_ref.oracles.BayesianOptimizationOracle(
        hyperparameters=_space(kt_ref), **dict(kwargs, max_trials=5)), tmp_path / "b", _bowl)
    assert len(ours) == 14 and len(ref) == 5
    assert ours[:4] == ref[:4]
    assert all(0 <= v["a"] <= 1 and 0 <= v["b"] <= 1 and v["c"] == 1 for v in ours)
    best = min(_bowl(v) for v in ours)
    assert best < 2e-3
    assert best < min(_bowl(v) for v in ours[:4])


def test_maximized_objective_and_a_kerax_model_search(tmp_path):
    log = _drive(kt.BayesianOptimizationOracle(
        objective=kt.Objective("score", "max"), max_trials=10, num_initial_points=3, seed=5,
        hyperparameters=_space(kt)), tmp_path / "max",
        lambda v: -_bowl(v), metric="score")
    assert min(_bowl(v) for v in log) < min(_bowl(v) for v in log[:3])

    tuner = kt.BayesianOptimization(make_build(kerax), objective="val_loss", max_trials=2,
                                    num_initial_points=1, seed=1, directory=str(tmp_path))
    tuner.search(*data(), epochs=1, validation_split=0.25, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2
    assert tuner.oracle.gp is not None
    assert tuner.get_best_models(1)[0].count_params() > 0
