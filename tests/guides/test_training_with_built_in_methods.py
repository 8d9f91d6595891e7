"""Our own port of the keras.io guide "Training & evaluation with the built-in methods",
cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. Where the guide loads MNIST, the cell uses `offline_mnist(128, 32)`:
64 training and 64 validation rows, so a `batch_size=64` epoch is one batch and shuffling
cannot change it. The guide's `import torch` / `import tensorflow` setup is its own
(skipped) cell: neither is installed here, and the `tf.data` / `DataLoader` cells are
skipped with it.
"""

import numpy as np
import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

NO_TF = "uses tf.data: tensorflow is not installed in the test environment"
NO_TORCH = "uses torch.utils.data: torch is not installed in the test environment"
NO_PYDOT = "plot_model needs pydot and graphviz (not installed); it only draws a picture"


def _metric_variable_result(x):
    """Keras 3.15 with the installed JAX cannot trace a `result()` that returns the metric's
    variable ("Triggering __jax_array__() during abstractification"); the guide's text runs
    on kerax, and the next cell's variant (`.value`) is compared with Keras exactly."""
    hist = x["hist"].history
    assert len(hist["loss"]) == 2 and all(np.isfinite(hist["loss"])), hist
    assert len(hist["argmax_hits"]) == 2, sorted(hist)

CELLS = [
    # ports training_with_built_in_methods, cell 0
    Cell("""
import tensorflow as tf  # for tf.data pipelines
import torch  # for DataLoader pipelines
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 1
    Cell("""
import os
import numpy as np
import keras
from keras import layers
from keras import ops
"""),
    # ports training_with_built_in_methods, cell 2
    Cell("""
pixels = keras.Input(shape=(28 * 28,), name="pixels")
t = layers.Dense(24, activation="relu", name="h1")(pixels)
t = layers.Dense(24, activation="relu", name="h2")(t)
probs = layers.Dense(10, activation="softmax", name="probs")(t)
net = keras.Model(inputs=pixels, outputs=probs)
"""),
    # ports training_with_built_in_methods, cell 3
    Cell("""
(train_x, train_y), (test_x, test_y) = offline_mnist(128, 32)  # [data] stands in for MNIST
train_x = train_x.reshape(len(train_x), 28 * 28).astype("float32") / 255
test_x = test_x.reshape(len(test_x), 28 * 28).astype("float32") / 255
train_y = train_y.astype("float32")
test_y = test_y.astype("float32")

# hold the last half out for validation
val_x, val_y = train_x[64:], train_y[64:]
train_x, train_y = train_x[:64], train_y[:64]
""", exact=True),
    # ports training_with_built_in_methods, cell 4
    Cell("""
net.compile(
    optimizer=keras.optimizers.RMSprop(),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
"""),
    # ports training_with_built_in_methods, cell 5
    Cell("""
hist = net.fit(train_x, train_y, batch_size=64, epochs=2, validation_data=(val_x, val_y))
""", exact=True, sync=("net",)),
    # ports training_with_built_in_methods, cell 6
    Cell("""
hist.history
""", exact=True),
    # ports training_with_built_in_methods, cell 7
    Cell("""
scores = net.evaluate(test_x, test_y, batch_size=128)
print("loss and accuracy on the test rows:", scores)
first_probs = net.predict(test_x[:4])
print("probabilities:", first_probs.shape)
""", exact=True),
    # ports training_with_built_in_methods, cell 8
    Cell("""
net.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
"""),
    # ports training_with_built_in_methods, cell 9
    Cell("""
# the same compile, by string names
net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
            metrics=["sparse_categorical_accuracy"])
"""),
    # ports training_with_built_in_methods, cell 10
    Cell("""
def new_net():
    pixels = keras.Input(shape=(28 * 28,), name="pixels")
    t = layers.Dense(24, activation="relu", name="h1")(pixels)
    t = layers.Dense(24, activation="relu", name="h2")(t)
    return keras.Model(pixels, layers.Dense(10, activation="softmax", name="probs")(t))


def new_compiled_net():
    n = new_net()
    n.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
    return n
"""),
    # ports training_with_built_in_methods, cell 11
    Cell("""
def my_mse(y_true, y_pred):
    # a loss as a plain function of (y_true, y_pred)
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


net = new_net()
net.compile(optimizer=keras.optimizers.Adam(), loss=my_mse)
onehot_y = ops.one_hot(train_y, num_classes=10)
hist = net.fit(train_x, onehot_y, batch_size=64, epochs=1)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 12
    Cell("""
class PullToMiddle(keras.losses.Loss):
    # mse plus a term pulling predictions towards 0.5, weighted by `strength`
    def __init__(self, strength=0.2, name="pull_to_middle"):
        super().__init__(name=name)
        self.strength = strength

    def call(self, y_true, y_pred):
        fit_term = ops.mean(ops.square(y_pred - y_true), axis=-1)
        pull = ops.mean(ops.square(y_pred - 0.5), axis=-1)
        return fit_term + self.strength * pull


net = new_net()
net.compile(optimizer=keras.optimizers.Adam(), loss=PullToMiddle())
hist = net.fit(train_x, ops.one_hot(train_y, num_classes=10), batch_size=64, epochs=1)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 13
    Cell("""
class ArgmaxHits(keras.metrics.Metric):
    # counts rows whose argmax equals the label; result() returns the variable itself
    def __init__(self, name="argmax_hits", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_variable(shape=(), name="hits", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        guess = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        hit = ops.cast(ops.cast(y_true, "int32") == ops.cast(guess, "int32"), "float32")
        if sample_weight is not None:
            hit = ops.multiply(hit, ops.cast(sample_weight, "float32"))
        self.hits.assign_add(ops.sum(hit))

    def result(self):
        return self.hits

    def reset_state(self):
        self.hits.assign(0)  # at the start of each epoch


net = new_net()
net.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(), metrics=[ArgmaxHits()])
hist = net.fit(train_x, train_y, batch_size=64, epochs=2)
""", exact=True, sync_fit=True, keras_fails="__jax_array__",
         kerax_check=_metric_variable_result),
    # ports training_with_built_in_methods, cell 14
    Cell("""
class SumPenalty(layers.Layer):
    # passes its input through and adds a loss on its activations
    def call(self, x):
        self.add_loss(0.05 * ops.sum(x))
        return x


pixels = keras.Input(shape=(28 * 28,), name="pixels")
t = layers.Dense(24, activation="relu", name="h1")(pixels)
t = SumPenalty()(t)
t = layers.Dense(24, activation="relu", name="h2")(t)
net = keras.Model(pixels, layers.Dense(10, name="logits")(t))
net.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
hist = net.fit(train_x, train_y, batch_size=64, epochs=1)  # loss includes the penalty
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 15
    Cell("""
class LossEndpoint(keras.layers.Layer):
    # takes targets as an input, adds the training loss, returns predictions
    def __init__(self, name=None):
        super().__init__(name=name)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, scores, sample_weights=None):
        self.add_loss(self.bce(targets, scores, sample_weights))
        return ops.softmax(scores)
"""),
    # ports training_with_built_in_methods, cell 16
    Cell("""
feat_in = keras.Input(shape=(4,), name="feat")
target_in = keras.Input(shape=(6,), name="target")
scores_out = keras.layers.Dense(6)(feat_in)
endpoint = LossEndpoint(name="endpoint")(target_in, scores_out)
net = keras.Model(inputs=[feat_in, target_in], outputs=endpoint)
net.compile(optimizer="adam")  # the loss comes from the endpoint layer

hist = net.fit({"feat": np.random.random((5, 4)), "target": np.random.random((5, 6))})
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 17
    Cell("""
net = new_compiled_net()
hist = net.fit(train_x, train_y, batch_size=64, validation_split=0.25, epochs=1)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 18
    Cell("""
net = new_compiled_net()
train_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(256).batch(32)
test_ds = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(32)
net.fit(train_ds, epochs=2)  # the dataset batches, so no batch_size
print(dict(zip(net.metrics_names, net.evaluate(test_ds))))
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 19
    Cell("""
net = new_compiled_net()
train_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(256).batch(32)
net.fit(train_ds, epochs=2, steps_per_epoch=2)
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 20
    Cell("""
net = new_compiled_net()
train_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(256).batch(32)
val_ds = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(32)
net.fit(train_ds, epochs=1, validation_data=val_ds)
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 21
    Cell("""
net = new_compiled_net()
train_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(256).batch(32)
val_ds = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(32)
net.fit(train_ds, epochs=1, validation_data=val_ds, validation_steps=1)
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 22
    Cell("""
class Batches(keras.utils.PyDataset):
    # serves (x, y) slices of `size` rows; the last one may be shorter
    def __init__(self, xs, ys, size, **kwargs):
        super().__init__(**kwargs)
        self.xs, self.ys, self.size = xs, ys, size

    def __len__(self):
        return -(-len(self.xs) // self.size)

    def __getitem__(self, i):
        rows = slice(i * self.size, (i + 1) * self.size)
        return self.xs[rows], self.ys[rows]


train_batches = Batches(train_x, train_y, size=16)
val_batches = Batches(val_x, val_y, size=16)
"""),
    # ports training_with_built_in_methods, cell 23
    Cell("""
net = new_compiled_net()
hist = net.fit(train_batches, batch_size=64, validation_data=val_batches, epochs=1)
"""),  # fit shuffles a PyDataset's batch order at random: structure only
    # ports training_with_built_in_methods, cell 24
    Cell("""
net.evaluate(val_batches)
"""),
    # ports training_with_built_in_methods, cell 25
    Cell("""
train_batches = Batches(train_x, train_y, size=16, workers=2)
val_batches = Batches(val_x, val_y, size=16, workers=2)
net = new_compiled_net()
hist = net.fit(train_batches, batch_size=64, validation_data=val_batches, epochs=1)
"""),  # fit shuffles a PyDataset's batch order at random: structure only
    # ports training_with_built_in_methods, cell 26
    Cell("""
class Rows(torch.utils.data.Dataset):
    def __init__(self, xs, ys):
        self.xs, self.ys = xs, ys

    def __len__(self):
        return len(self.xs)

    def __getitem__(self, i):
        return self.xs[i], self.ys[i]


train_rows, val_rows = Rows(train_x, train_y), Rows(val_x, val_y)
""", skip=NO_TORCH),
    # ports training_with_built_in_methods, cell 27
    Cell("""
train_loader = torch.utils.data.DataLoader(train_rows, batch_size=16, shuffle=True)
val_loader = torch.utils.data.DataLoader(val_rows, batch_size=16, shuffle=True)
""", skip=NO_TORCH),
    # ports training_with_built_in_methods, cell 28
    Cell("""
net = new_compiled_net()
net.fit(train_loader, batch_size=64, validation_data=val_loader, epochs=1)
net.evaluate(val_loader)
""", skip=NO_TORCH),
    # ports training_with_built_in_methods, cell 29
    Cell("""
per_class = {c: 1.0 for c in range(10)}
per_class[3] = 3.0  # class 3 counts three times as much

net = new_compiled_net()
hist = net.fit(train_x, train_y, class_weight=per_class, batch_size=64, epochs=1)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 30
    Cell("""
per_row = np.ones(shape=(len(train_y),))
per_row[train_y == 3] = 3.0

net = new_compiled_net()
hist = net.fit(train_x, train_y, sample_weight=per_row, batch_size=64, epochs=1)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 31
    Cell("""
per_row = np.ones(shape=(len(train_y),))
per_row[train_y == 3] = 3.0
weighted_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y, per_row)).batch(32)
net = new_compiled_net()
net.fit(weighted_ds, epochs=1)
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 32
    Cell("""
pic_in = keras.Input(shape=(12, 12, 3), name="pic_in")
seq_in = keras.Input(shape=(None, 4), name="seq_in")

from_pic = layers.GlobalMaxPooling2D()(layers.Conv2D(2, 3)(pic_in))
from_seq = layers.GlobalMaxPooling1D()(layers.Conv1D(2, 3)(seq_in))
both = layers.concatenate([from_pic, from_seq])

score_out = layers.Dense(1, name="score_out")(both)
class_out = layers.Dense(3, name="class_out")(both)
two_heads = keras.Model(inputs=[pic_in, seq_in], outputs=[score_out, class_out])
"""),
    # ports training_with_built_in_methods, cell 33
    Cell("""
keras.utils.plot_model(two_heads, "two_heads.png", show_shapes=True)
""", skip=NO_PYDOT),
    # ports training_with_built_in_methods, cell 34
    Cell("""
# a loss per output, in output order
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
)
"""),
    # ports training_with_built_in_methods, cell 35
    Cell("""
# and a list of metrics per output
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    metrics=[
        [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
        [keras.metrics.CategoricalAccuracy()],
    ],
)
"""),
    # ports training_with_built_in_methods, cell 36
    Cell("""
# the same, keyed by output name
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={"score_out": keras.losses.MeanSquaredError(),
          "class_out": keras.losses.CategoricalCrossentropy()},
    metrics={
        "score_out": [keras.metrics.MeanAbsolutePercentageError(),
                      keras.metrics.MeanAbsoluteError()],
        "class_out": [keras.metrics.CategoricalAccuracy()],
    },
)
"""),
    # ports training_with_built_in_methods, cell 37
    Cell("""
# with a weight per output loss
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={"score_out": keras.losses.MeanSquaredError(),
          "class_out": keras.losses.CategoricalCrossentropy()},
    metrics={
        "score_out": [keras.metrics.MeanAbsolutePercentageError(),
                      keras.metrics.MeanAbsoluteError()],
        "class_out": [keras.metrics.CategoricalAccuracy()],
    },
    loss_weights={"score_out": 0.5, "class_out": 1.0},
)
"""),
    # ports training_with_built_in_methods, cell 38
    Cell("""
# an output with no loss: None in the list, or left out of the dict
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[None, keras.losses.CategoricalCrossentropy()],
)
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={"class_out": keras.losses.CategoricalCrossentropy()},
)
"""),
    # ports training_with_built_in_methods, cell 39
    Cell("""
two_heads.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
)
pics = np.random.random_sample(size=(20, 12, 12, 3))
seqs = np.random.random_sample(size=(20, 7, 4))
score_y = np.random.random_sample(size=(20, 1))
class_y = np.random.random_sample(size=(20, 3))

# inputs and targets as lists ...
hist = two_heads.fit([pics, seqs], [score_y, class_y], batch_size=20, epochs=1)
# ... or as dicts keyed by layer name
hist = two_heads.fit({"pic_in": pics, "seq_in": seqs},
                     {"score_out": score_y, "class_out": class_y}, batch_size=20, epochs=1)
""",),
    # ports training_with_built_in_methods, cell 40
    Cell("""
pair_ds = tf.data.Dataset.from_tensor_slices(
    ({"pic_in": pics, "seq_in": seqs}, {"score_out": score_y, "class_out": class_y})
).batch(10)
two_heads.fit(pair_ds, epochs=1)
""", skip=NO_TF),
    # ports training_with_built_in_methods, cell 41
    Cell("""
net = new_compiled_net()
stopper = keras.callbacks.EarlyStopping(
    monitor="val_loss",  # watch the validation loss
    min_delta=1e-3,  # smaller gains do not count as improvement
    patience=1,  # epochs to wait without improvement
    verbose=1,
)
hist = net.fit(train_x, train_y, epochs=15, batch_size=64, callbacks=[stopper],
               validation_split=0.25)
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 42
    Cell("""
class BatchLosses(keras.callbacks.Callback):
    # collects the loss after every batch
    def on_train_begin(self, logs):
        self.seen = []

    def on_batch_end(self, batch, logs):
        self.seen.append(logs.get("loss"))
"""),
    # ports training_with_built_in_methods, cell 43
    Cell("""
net = new_compiled_net()
keeper = keras.callbacks.ModelCheckpoint(
    filepath="net_epoch{epoch}.keras",  # one file per improving epoch
    save_best_only=True,
    monitor="val_loss",
    verbose=1,
)
hist = net.fit(train_x, train_y, epochs=2, batch_size=64, callbacks=[keeper],
               validation_split=0.25)
saved_files = sorted(f for f in os.listdir(".") if f.startswith("net_epoch"))
""", exact=True, sync_fit=True),
    # ports training_with_built_in_methods, cell 44
    Cell("""
ckpt_dir = "./checkpoints"
os.makedirs(ckpt_dir, exist_ok=True)


def resume_or_start():
    # the newest checkpoint if there is one, else a new model
    found = [os.path.join(ckpt_dir, f) for f in os.listdir(ckpt_dir)]
    if found:
        newest = max(found, key=os.path.getctime)
        print("resuming from", newest)
        return keras.models.load_model(newest)
    print("starting afresh")
    return new_compiled_net()


net = resume_or_start()
every_two = keras.callbacks.ModelCheckpoint(
    filepath=os.path.join(ckpt_dir, "net-loss={loss:.3f}.keras"), save_freq=2
)
hist = net.fit(train_x, train_y, epochs=1, batch_size=16, callbacks=[every_two])
n_saved = len(os.listdir(ckpt_dir))  # batches 2 and 4 of 4
"""),
    # ports training_with_built_in_methods, cell 45
    Cell("""
decaying = keras.optimizers.schedules.ExponentialDecay(
    0.05, decay_steps=1000, decay_rate=0.9, staircase=True
)
opt = keras.optimizers.RMSprop(learning_rate=decaying)
"""),
    # ports training_with_built_in_methods, cell 46
    Cell("""
keras.callbacks.TensorBoard(
    log_dir="./tb_logs",
    histogram_freq=0,  # no weight histograms
    embeddings_freq=0,  # no embedding projections
    update_freq="epoch",  # write once per epoch
)
"""),
    # ports training_with_built_in_methods, cell 13 (variant, kept last so that test ids
    # match the guide's cell numbers: result() returns the variable's value, which Keras
    # 3.15 on this JAX accepts)
    Cell("""
class ArgmaxHitsValue(ArgmaxHits):
    def result(self):
        return self.hits.value


net = new_net()
net.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(), metrics=[ArgmaxHitsValue()])
hist = net.fit(train_x, train_y, batch_size=64, epochs=2)
""", exact=True, sync_fit=True),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "training", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
