"""Our own port of the keras.io guide "The Functional API", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. Where the guide loads MNIST / CIFAR10, the cell uses
`offline_mnist()` / `offline_cifar10()` (64 train / 32 test rows, so an epoch is one batch
and shuffling cannot change the result); the application model is built with
`weights=None` (no download).
"""

import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

NO_PYDOT = "plot_model needs pydot and graphviz (not installed); it only draws a picture"

CELLS = [
    # ports functional_api, cell 0
    Cell("""
import numpy as np
import keras
from keras import layers
from keras import ops
"""),
    # ports functional_api, cell 1
    Cell("""
flat_in = keras.Input(shape=(28 * 28,))
"""),
    # ports functional_api, cell 2
    Cell("""
picture_in = keras.Input(shape=(24, 24, 3))  # an image-shaped input, only to show one
"""),
    # ports functional_api, cell 3
    Cell("""
flat_in.shape
"""),
    # ports functional_api, cell 4
    Cell("""
flat_in.dtype
"""),
    # ports functional_api, cell 5
    Cell("""
hidden = layers.Dense(32, activation="relu")
h = hidden(flat_in)  # calling a layer on a symbolic input draws an edge of the graph
"""),
    # ports functional_api, cell 6
    Cell("""
h = layers.Dense(16, activation="relu")(h)
logits = layers.Dense(10)(h)
"""),
    # ports functional_api, cell 7
    Cell("""
clf = keras.Model(inputs=flat_in, outputs=logits, name="digit_classifier")
"""),
    # ports functional_api, cell 8
    Cell("""
clf.summary()
""", summary=True),
    # ports functional_api, cell 9
    Cell("""
keras.utils.plot_model(clf, "clf.png")
""", skip=NO_PYDOT),
    # ports functional_api, cell 10
    Cell("""
keras.utils.plot_model(clf, "clf_shapes.png", show_shapes=True)
""", skip=NO_PYDOT),
    # ports functional_api, cell 11
    Cell("""
(train_x, train_y), (test_x, test_y) = offline_mnist()  # [data] stands in for MNIST
train_x = train_x.reshape(len(train_x), 28 * 28).astype("float32") / 255
test_x = test_x.reshape(len(test_x), 28 * 28).astype("float32") / 255

clf.compile(
    optimizer=keras.optimizers.RMSprop(),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
hist = clf.fit(train_x, train_y, batch_size=64, epochs=2, validation_split=0.2)
scores = clf.evaluate(test_x, test_y, verbose=2)
print("loss, accuracy:", scores)
""", exact=True, sync=("clf",)),
    # ports functional_api, cell 12
    Cell("""
clf.save("clf.keras")
del clf
clf = keras.models.load_model("clf.keras")  # architecture, weights and compile state
""", exact=True),
    # ports functional_api, cell 13
    Cell("""
pic = keras.Input(shape=(28, 28, 1), name="pic")
t = layers.Conv2D(8, 3, activation="relu")(pic)
t = layers.MaxPooling2D(2)(t)
t = layers.Conv2D(4, 3, activation="relu")(t)
code = layers.GlobalMaxPooling2D()(t)
down = keras.Model(pic, code, name="down")
down.summary()

# the decoder half continues from the same graph
t = layers.Reshape((2, 2, 1))(code)
t = layers.Conv2DTranspose(4, 3, activation="relu")(t)
t = layers.UpSampling2D(2)(t)
rebuilt = layers.Conv2DTranspose(1, 3, activation="relu")(t)
round_trip = keras.Model(pic, rebuilt, name="round_trip")
round_trip.summary()
""", summary=True),
    # ports functional_api, cell 14
    Cell("""
pic = keras.Input(shape=(28, 28, 1), name="pic")
t = layers.Conv2D(8, 3, activation="relu")(pic)
t = layers.MaxPooling2D(2)(t)
t = layers.Conv2D(4, 3, activation="relu")(t)
down = keras.Model(pic, layers.GlobalMaxPooling2D()(t), name="down")
down.summary()

code_in = keras.Input(shape=(4,), name="code")
t = layers.Reshape((2, 2, 1))(code_in)
t = layers.Conv2DTranspose(4, 3, activation="relu")(t)
t = layers.UpSampling2D(2)(t)
up = keras.Model(code_in, layers.Conv2DTranspose(1, 3, activation="relu")(t), name="up")
up.summary()

# models are callable like layers: nest them into a third model
outer_in = keras.Input(shape=(28, 28, 1), name="pic")
round_trip = keras.Model(outer_in, up(down(outer_in)), name="round_trip")
round_trip.summary()
""", summary=True),
    # ports functional_api, cell 15
    Cell("""
def make_member():
    i = keras.Input(shape=(16,))
    return keras.Model(i, layers.Dense(1)(i))


members = [make_member() for _ in range(3)]
shared_in = keras.Input(shape=(16,))
mean_out = layers.average([m(shared_in) for m in members])
committee = keras.Model(inputs=shared_in, outputs=mean_out)
"""),
    # ports functional_api, cell 16
    Cell("""
n_labels = 5  # binary label vector per ticket
vocab = 200  # token ids are below this
n_teams = 3  # teams a ticket can be routed to

subject_in = keras.Input(shape=(None,), name="subject")  # token ids, any length
text_in = keras.Input(shape=(None,), name="text")  # token ids, any length
labels_in = keras.Input(shape=(n_labels,), name="labels")

subject_vec = layers.LSTM(8)(layers.Embedding(vocab, 6)(subject_in))
text_vec = layers.LSTM(4)(layers.Embedding(vocab, 6)(text_in))
joined = layers.concatenate([subject_vec, text_vec, labels_in])

urgency = layers.Dense(1, name="urgency")(joined)
team = layers.Dense(n_teams, name="team")(joined)

router = keras.Model(
    inputs=[subject_in, text_in, labels_in],
    outputs={"urgency": urgency, "team": team},
)
"""),
    # ports functional_api, cell 17
    Cell("""
keras.utils.plot_model(router, "router.png", show_shapes=True)
""", skip=NO_PYDOT),
    # ports functional_api, cell 18
    Cell("""
# one loss per output, as a list in output order, with weights
router.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[
        keras.losses.BinaryCrossentropy(from_logits=True),
        keras.losses.CategoricalCrossentropy(from_logits=True),
    ],
    loss_weights=[1.0, 0.5],
)
"""),
    # ports functional_api, cell 19
    Cell("""
# the same, keyed by output name
router.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "urgency": keras.losses.BinaryCrossentropy(from_logits=True),
        "team": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"urgency": 1.0, "team": 0.5},
)
"""),
    # ports functional_api, cell 20
    Cell("""
rows = 32
subjects = np.random.randint(vocab, size=(rows, 6))
texts = np.random.randint(vocab, size=(rows, 12))
label_bits = np.random.randint(2, size=(rows, n_labels)).astype("float32")
urgency_y = np.random.random(size=(rows, 1))
team_y = np.random.randint(2, size=(rows, n_teams))

hist = router.fit(
    {"subject": subjects, "text": texts, "labels": label_bits},
    {"urgency": urgency_y, "team": team_y},
    epochs=2,
    batch_size=rows,
)
""", exact=True, sync_fit=True),
    # ports functional_api, cell 21
    Cell("""
pic = keras.Input(shape=(16, 16, 3), name="pic")
t = layers.Conv2D(8, 3, activation="relu")(pic)
stem = layers.MaxPooling2D(2)(t)

t = layers.Conv2D(8, 3, activation="relu", padding="same")(stem)
after_one = layers.add([t, stem])  # a skip connection

t = layers.Conv2D(8, 3, activation="relu", padding="same")(after_one)
after_two = layers.add([t, after_one])

t = layers.GlobalAveragePooling2D()(after_two)
t = layers.Dropout(0.3)(layers.Dense(16, activation="relu")(t))
mini_res = keras.Model(pic, layers.Dense(10)(t), name="mini_res")
mini_res.summary()
""", summary=True),
    # ports functional_api, cell 22
    Cell("""
keras.utils.plot_model(mini_res, "mini_res.png", show_shapes=True)
""", skip=NO_PYDOT),
    # ports functional_api, cell 23
    Cell("""
(pics, pic_y), _ = offline_cifar10()  # [data] stands in for CIFAR10
pics = pics[:, :16, :16].astype("float32") / 255.0  # our model takes 16x16 crops
pic_y = keras.utils.to_categorical(pic_y, 10)

mini_res.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
hist = mini_res.fit(pics, pic_y, batch_size=64, epochs=1, validation_split=0.25)
"""),
    # ports functional_api, cell 24
    Cell("""
word_vectors = layers.Embedding(50, 8)  # one layer, used on two inputs
left_ids = keras.Input(shape=(None,), dtype="int32")
right_ids = keras.Input(shape=(None,), dtype="int32")
left_vec = word_vectors(left_ids)
right_vec = word_vectors(right_ids)  # same weights as left_vec
"""),
    # ports functional_api, cell 25
    Cell("""
backbone = keras.applications.VGG19(weights=None)  # [data] no weight download
""", slow=True),
    # ports functional_api, cell 26
    Cell("""
every_output = [layer.output for layer in backbone.layers]
""", slow=True),
    # ports functional_api, cell 27
    Cell("""
probe = keras.Model(inputs=backbone.input, outputs=every_output)
activations = probe(np.random.random((1, 224, 224, 3)).astype("float32"))
""", slow=True),
    # ports functional_api, cell 28
    Cell("""
class MyLinear(layers.Layer):
    # a hand-written layer used in a functional graph
    def __init__(self, width=8):
        super().__init__()
        self.width = width

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.width), initializer="random_normal", trainable=True
        )
        self.shift = self.add_weight(
            shape=(self.width,), initializer="random_normal", trainable=True
        )

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.shift


vec_in = keras.Input((6,))
with_custom = keras.Model(vec_in, MyLinear(3)(vec_in))
"""),
    # ports functional_api, cell 29
    Cell("""
class MyLinear(layers.Layer):
    def __init__(self, width=8):
        super().__init__()
        self.width = width

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.width), initializer="random_normal", trainable=True
        )
        self.shift = self.add_weight(
            shape=(self.width,), initializer="random_normal", trainable=True
        )

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.shift

    def get_config(self):
        return {"width": self.width}


vec_in = keras.Input((6,))
with_custom = keras.Model(vec_in, MyLinear(3)(vec_in))
arch = with_custom.get_config()
rebuilt_model = keras.Model.from_config(arch, custom_objects={"MyLinear": MyLinear})
""", ignore=("arch",)),  # Keras' from_config pops the keys of the config it is given
    # ports functional_api, cell 30
    Cell("""
width = 6
steps = 4
features = 3

# a functional model, used inside a subclassed layer
seq_in = keras.Input((None, width))
scorer = keras.Model(seq_in, layers.Dense(1)(layers.GlobalAveragePooling1D()(seq_in)))


class LoopRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.width = width
        self.from_input = layers.Dense(width, activation="tanh")
        self.from_state = layers.Dense(width, activation="tanh")
        self.scorer = scorer

    def call(self, x):
        states = []
        state = ops.zeros(shape=(x.shape[0], self.width))
        for step in range(x.shape[1]):
            state = self.from_input(x[:, step, :]) + self.from_state(state)
            states.append(state)
        stacked = ops.stack(states, axis=1)
        print(stacked.shape)
        return self.scorer(stacked)


loop = LoopRNN()
_ = loop(ops.zeros((2, steps, features)))
""", stdout=True),
    # ports functional_api, cell 31
    Cell("""
width = 6
steps = 4
features = 3
fixed_batch = 5


class LoopRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.width = width
        self.from_input = layers.Dense(width, activation="tanh")
        self.from_state = layers.Dense(width, activation="tanh")
        self.head = layers.Dense(1)

    def call(self, x):
        states = []
        state = ops.zeros(shape=(x.shape[0], self.width))
        for step in range(x.shape[1]):
            state = self.from_input(x[:, step, :]) + self.from_state(state)
            states.append(state)
        return self.head(ops.stack(states, axis=1))


# the loop needs a known batch size, so the Input fixes it with batch_shape
seq_in = keras.Input(batch_shape=(fixed_batch, steps, features))
conv = layers.Conv1D(4, 2)(seq_in)
looped = keras.Model(seq_in, LoopRNN()(conv))

loop = LoopRNN()
_ = loop(ops.zeros((1, steps, features)))
"""),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "functional_api", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
