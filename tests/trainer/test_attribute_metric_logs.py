"""As Keras 3's built-in steps, `fit` and `evaluate` log every metric of `model.metrics`:
a metric held as an attribute and never updated by the step logs its reset value."""

import numpy as np

import kerax

X = np.random.default_rng(0).standard_normal((4, 4)).astype("float32")
Y = np.ones((4, 1), "float32")


def _run(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1, kernel_initializer="ones")
            self.tracker = lib.metrics.Mean(name="tracked")
            self.a_sum = lib.metrics.Sum(name="a_sum")

        def call(self, x):
            return self.dense(x)

    model = Net()
    model.compile("sgd", "mse", metrics=["mse", "mae"])
    model.tracker.update_state(5.0)  # reset by fit, as in Keras
    history = model.fit(X, Y, batch_size=2, epochs=2, verbose=0, shuffle=False,
                        validation_data=(X, Y)).history
    as_list = model.evaluate(X, Y, verbose=0)
    as_dict = model.evaluate(X, Y, verbose=0, return_dict=True)
    return (list(history), {k: np.round(v, 4).tolist() for k, v in history.items()},
            list(as_dict), np.round(as_list, 4).tolist(), float(model.tracker.result()),
            model.metrics_names)


def test_attribute_metrics_are_logged_as_in_keras(keras):
    mine = _run(kerax)
    assert mine == _run(keras)
    assert "tracked" in mine[0] and "val_a_sum" in mine[0]
