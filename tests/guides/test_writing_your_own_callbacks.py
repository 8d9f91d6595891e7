"""Our own port of the keras.io guide "Writing your own callbacks", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. What the callbacks print (hook order, log keys, losses) is
compared line by line. Where the guide loads MNIST, the cell uses `offline_mnist(64, 64)`,
so each epoch is one batch and shuffling cannot change what is printed.
"""

import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

CELLS = [
    # ports writing_your_own_callbacks, cell 0
    Cell("""
import numpy as np
import keras
"""),
    # ports writing_your_own_callbacks, cell 1
    Cell("""
def fresh_model():
    # one Dense unit, compiled with a loss and one metric
    m = keras.Sequential()
    m.add(keras.layers.Dense(1))
    m.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.05),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return m
"""),
    # ports writing_your_own_callbacks, cell 2
    Cell("""
(train_x, train_y), (eval_x, eval_y) = offline_mnist(64, 64)  # [data] stands in for MNIST
train_x = train_x.reshape(-1, 28 * 28).astype("float32") / 255.0
eval_x = eval_x.reshape(-1, 28 * 28).astype("float32") / 255.0
# keep a slice only, to stay quick
train_x, train_y = train_x[:500], train_y[:500]
eval_x, eval_y = eval_x[:500], eval_y[:500]
""", exact=True),
    # ports writing_your_own_callbacks, cell 3
    Cell("""
def _say(what, logs):
    print(f"{what}, logs: {sorted(logs)}")


class HookTracer(keras.callbacks.Callback):
    # every hook of fit / evaluate / predict, printing the log keys it gets
    def on_train_begin(self, logs=None):
        _say("train begins", logs)

    def on_train_end(self, logs=None):
        _say("train ends", logs)

    def on_epoch_begin(self, epoch, logs=None):
        _say(f"epoch {epoch} begins", logs)

    def on_epoch_end(self, epoch, logs=None):
        _say(f"epoch {epoch} ends", logs)

    def on_test_begin(self, logs=None):
        _say("test begins", logs)

    def on_test_end(self, logs=None):
        _say("test ends", logs)

    def on_predict_begin(self, logs=None):
        _say("predict begins", logs)

    def on_predict_end(self, logs=None):
        _say("predict ends", logs)

    def on_train_batch_begin(self, batch, logs=None):
        _say(f"train batch {batch} begins", logs)

    def on_train_batch_end(self, batch, logs=None):
        _say(f"train batch {batch} ends", logs)

    def on_test_batch_begin(self, batch, logs=None):
        _say(f"test batch {batch} begins", logs)

    def on_test_batch_end(self, batch, logs=None):
        _say(f"test batch {batch} ends", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        _say(f"predict batch {batch} begins", logs)

    def on_predict_batch_end(self, batch, logs=None):
        _say(f"predict batch {batch} ends", logs)
"""),
    # ports writing_your_own_callbacks, cell 4
    Cell("""
net = fresh_model()
net.fit(train_x, train_y, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
        callbacks=[HookTracer()])
scores = net.evaluate(eval_x, eval_y, batch_size=128, verbose=0, callbacks=[HookTracer()])
# verbose=0: Keras redraws its progress bar depending on timing, which is not compared
preds = net.predict(eval_x, batch_size=128, verbose=0, callbacks=[HookTracer()])
""", exact=True, sync_fit=True, stdout=True),
    # ports writing_your_own_callbacks, cell 5
    Cell("""
class LossReporter(keras.callbacks.Callback):
    # reads the running loss and metric values out of the logs
    def on_train_batch_end(self, batch, logs=None):
        print(f"train batch {batch}: mean loss so far {logs['loss']:8.3f}")

    def on_test_batch_end(self, batch, logs=None):
        print(f"test batch {batch}: mean loss so far {logs['loss']:8.3f}")

    def on_epoch_end(self, epoch, logs=None):
        print(f"epoch {epoch}: loss {logs['loss']:8.3f}, mae {logs['mean_absolute_error']:8.3f}")


net = fresh_model()
net.fit(train_x, train_y, batch_size=128, epochs=2, verbose=0, callbacks=[LossReporter()])
scores = net.evaluate(eval_x, eval_y, batch_size=128, verbose=0, callbacks=[LossReporter()])
""", exact=True, sync_fit=True, stdout=True),
    # ports writing_your_own_callbacks, cell 6
    Cell('''
class StopWhenLossRises(keras.callbacks.Callback):
    """Stops once the loss has not improved for `wait_epochs` epochs and puts the best
    weights seen back into the model."""

    def __init__(self, wait_epochs=0):
        super().__init__()
        self.wait_epochs = wait_epochs
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.waited, self.stop_epoch, self.best = 0, 0, np.inf

    def on_epoch_end(self, epoch, logs=None):
        loss = logs.get("loss")
        if np.less(loss, self.best):
            self.best, self.waited = loss, 0
            self.best_weights = self.model.get_weights()
            return
        self.waited += 1
        if self.waited >= self.wait_epochs:
            self.stop_epoch = epoch
            self.model.stop_training = True  # fit ends after this epoch
            print("going back to the best weights")
            self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stop_epoch > 0:
            print(f"stopped after epoch {self.stop_epoch + 1}")


net = fresh_model()
hist = net.fit(train_x, train_y, batch_size=64, epochs=12, verbose=0,
               callbacks=[LossReporter(), StopWhenLossRises()])
''', exact=True, sync_fit=True, stdout=True),
    # ports writing_your_own_callbacks, cell 7
    Cell('''
class EpochRate(keras.callbacks.Callback):
    """Sets the optimizer's learning rate at the start of each epoch from `plan`."""

    def __init__(self, plan):
        super().__init__()
        self.plan = plan

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError("this optimizer has no learning_rate")
        rate = self.plan(epoch, self.model.optimizer.learning_rate)
        self.model.optimizer.learning_rate = rate
        print(f"epoch {epoch}: rate {float(np.array(rate))}")


STEPS = {2: 0.02, 4: 0.01, 6: 0.002}  # epoch -> new rate


def plan(epoch, rate):
    return STEPS.get(epoch, rate)


net = fresh_model()
hist = net.fit(train_x, train_y, batch_size=64, epochs=8, verbose=0,
               callbacks=[LossReporter(), EpochRate(plan)])
''', exact=True, sync_fit=True, stdout=True),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "callbacks", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
