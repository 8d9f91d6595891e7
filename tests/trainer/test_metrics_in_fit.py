"""Metrics accumulated inside the compiled loop equal the same metrics used standalone."""

import numpy as np
import pytest

import kerax


@pytest.mark.parametrize("make", [
    lambda: kerax.metrics.BinaryAccuracy(),
    lambda: kerax.metrics.Precision(),
    lambda: kerax.metrics.Recall(thresholds=0.3),
    lambda: kerax.metrics.AUC(num_thresholds=50),
    lambda: kerax.metrics.MeanAbsoluteError(),
    lambda: kerax.metrics.BinaryCrossentropy(),
], ids=["binary_accuracy", "precision", "recall", "auc", "mae", "bce"])
def test_evaluate_equals_standalone(make):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 4)).astype("float32")
    y = (rng.random((37, 1)) > 0.5).astype("float32")
    w = rng.random(37).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1, activation="sigmoid")])
    metric, weighted_metric = make(), make()
    model.compile("sgd", "binary_crossentropy", metrics=[metric],
                  weighted_metrics=[weighted_metric])
    logs = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    plain, weighted = make(), make()
    plain.update_state(y, pred)
    weighted.update_state(y, pred, sample_weight=w)
    np.testing.assert_allclose(logs[metric.name], plain.result(), rtol=1e-5, atol=1e-6)
    wname = weighted_metric.name
    if wname == metric.name:
        wname = "weighted_" + wname
    np.testing.assert_allclose(logs[wname], weighted.result(), rtol=1e-5, atol=1e-6)
