"""`kerax.utils.plot_history`: one panel per metric with the training and validation
curves of a real `fit` (matplotlib's Agg backend; skipped without matplotlib)."""

import sys

import numpy as np
import pytest

import kerax


@pytest.fixture
def history():
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = (x.sum(1) > 0).astype("float32")[:, None]
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)


def test_panels_hold_the_history(history, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    fig = kerax.utils.plot_history(history, path=tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0
    logged = [k for k in history.history if not k.startswith("val_")]
    assert sorted(logged) == ["accuracy", "loss"]
    assert [ax.get_title() for ax in fig.axes] == logged  # in the order `fit` logged them
    for ax in fig.axes:
        name = ax.get_title()
        train, val = ax.get_lines()
        assert [l.get_text() for l in ax.get_legend().get_texts()] == ["training", "validation"]
        np.testing.assert_allclose(train.get_ydata(), history.history[name], rtol=1e-6)
        np.testing.assert_allclose(val.get_ydata(), history.history["val_" + name], rtol=1e-6)
        assert list(train.get_xdata()) == [1, 2, 3]
    only = kerax.utils.plot_history(history.history, metrics=["loss"])
    assert [ax.get_title() for ax in only.axes] == ["loss"]


def test_errors(history, monkeypatch):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"`metrics` names \['auc'\].*Logged: \['accuracy'"):
        kerax.utils.plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="The history is empty"):
        kerax.utils.plot_history({})
    with pytest.raises(TypeError, match="expects the `History` returned by `fit`.*list"):
        kerax.utils.plot_history([1.0, 2.0])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        kerax.utils.plot_history(history)
