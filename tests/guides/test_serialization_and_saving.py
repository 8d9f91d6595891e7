"""Our own port of the keras.io guide "Save, serialize, and export models", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. Data is drawn with `np.random` (seeded alike on both sides). One
cell clears the global custom-object registry; the fixture gives both registries back.
"""

import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected

CELLS = [
    # ports serialization_and_saving, cell 0
    Cell("""
import numpy as np
import keras
from keras import ops
"""),
    # ports serialization_and_saving, cell 1
    Cell("""
def small_regressor():
    x_in = keras.Input(shape=(8,))
    reg = keras.Model(x_in, keras.layers.Dense(1)(x_in))
    reg.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
    return reg


reg = small_regressor()
feats = np.random.random((16, 8))
goal = np.random.random((16, 1))
reg.fit(feats, goal, verbose=0)

reg.save("reg.keras")  # one zip file: config, weights, optimizer state
restored = keras.models.load_model("reg.keras")
np.testing.assert_allclose(reg.predict(feats, verbose=0), restored.predict(feats, verbose=0))
""", exact=True, sync_fit=True),
    # ports serialization_and_saving, cell 2
    Cell("""
keras.saving.get_custom_objects().clear()  # start from an empty registry


@keras.saving.register_keras_serializable(package="Ours")
class Scale(keras.layers.Layer):
    def __init__(self, by):
        super().__init__()
        self.by = by

    def call(self, x):
        return x * self.by

    def get_config(self):
        return {"by": self.by}


@keras.saving.register_keras_serializable(package="ours_fns", name="cube")
def cube(x):
    return x**3


def with_customs():
    x_in = keras.Input(shape=(3,))
    y = keras.layers.Dense(1, activation=cube)(Scale(0.25)(x_in))
    net = keras.Model(x_in, y)
    net.compile(optimizer="rmsprop", loss="mean_squared_error")
    return net


def trained(net):
    net.fit(np.random.random((6, 3)), np.random.random((6, 1)), verbose=0)
    return net


probe_x = np.random.random((6, 3))
net = trained(with_customs())
net.save("customs.keras")
# registered objects are found by name at load time
restored = keras.models.load_model("customs.keras")
np.testing.assert_allclose(net.predict(probe_x, verbose=0), restored.predict(probe_x, verbose=0))
""", exact=True, sync_fit=True),
    # ports serialization_and_saving, cell 3
    Cell("""
net = trained(with_customs())
net.save("customs.keras")
# or hand them to load_model explicitly
restored = keras.models.load_model(
    "customs.keras", custom_objects={"Scale": Scale, "cube": cube}
)
np.testing.assert_allclose(net.predict(probe_x, verbose=0), restored.predict(probe_x, verbose=0))
""", exact=True, sync_fit=True),
    # ports serialization_and_saving, cell 4
    Cell("""
net = trained(with_customs())
net.save("customs.keras")
# or load inside a scope that knows them
with keras.saving.custom_object_scope({"Scale": Scale, "cube": cube}):
    restored = keras.models.load_model("customs.keras")
np.testing.assert_allclose(net.predict(probe_x, verbose=0), restored.predict(probe_x, verbose=0))
""", exact=True, sync_fit=True),
    # ports serialization_and_saving, cell 5
    Cell("""
twin = keras.models.clone_model(net)  # same architecture, fresh weights
"""),
    # ports serialization_and_saving, cell 6
    Cell("""
relu_dense = keras.layers.Dense(5, activation="relu")
dense_cfg = relu_dense.get_config()
print(dense_cfg)
"""),
    # ports serialization_and_saving, cell 7
    Cell("""
relu_dense_again = keras.layers.Dense.from_config(dense_cfg)
"""),
    # ports serialization_and_saving, cell 8
    Cell("""
seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
cfg = seq.get_config()
seq_again = keras.Sequential.from_config(cfg)
"""),
    # ports serialization_and_saving, cell 9
    Cell("""
x_in = keras.Input((8,))
graph = keras.Model(x_in, keras.layers.Dense(2)(x_in))
cfg = graph.get_config()
graph_again = keras.Model.from_config(cfg)
""", ignore=("cfg",)),  # Keras' from_config pops the keys of the config it is given
    # ports serialization_and_saving, cell 10
    Cell("""
seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
as_json = seq.to_json()
seq_again = keras.models.model_from_json(as_json)
""", ignore=("as_json",)),  # the JSON holds auto layer names, which count earlier layers
    # ports serialization_and_saving, cell 11
    Cell("""
penalty = keras.regularizers.L1(0.01)
penalty_cfg = keras.saving.serialize_keras_object(penalty)
print(penalty_cfg)
""", exact=True, stdout=True),
    # ports serialization_and_saving, cell 12
    Cell("""
penalty_again = keras.saving.deserialize_keras_object(penalty_cfg)
"""),
    # ports serialization_and_saving, cell 13
    Cell("""
def hidden_layer():
    d = keras.layers.Dense(12, activation="relu", name="shared_name")
    d.build((None, 20))
    return d


src, dst = hidden_layer(), hidden_layer()
dst.set_weights(src.get_weights())  # weights move between equal layers
"""),
    # ports serialization_and_saving, cell 14
    Cell('''
x_in = keras.Input(shape=(20,), name="features")
t = keras.layers.Dense(12, activation="relu", name="h1")(x_in)
t = keras.layers.Dense(12, activation="relu", name="h2")(t)
graph = keras.Model(x_in, keras.layers.Dense(3, name="out")(t), name="graph_mlp")


class SameMLP(keras.Model):
    """The same three layers as a subclassed model."""

    def __init__(self, n_out, name=None):
        super().__init__(name=name)
        self.n_out = n_out
        self.h1 = keras.layers.Dense(12, activation="relu", name="h1")
        self.h2 = keras.layers.Dense(12, activation="relu", name="h2")
        self.out = keras.layers.Dense(n_out, name="out")

    def call(self, x):
        return self.out(self.h2(self.h1(x)))

    def get_config(self):
        return {"n_out": self.n_out, "name": self.name}


same = SameMLP(3)
same(np.ones((1, 20)))  # builds the weights
same.set_weights(graph.get_weights())  # the order of weights is the same
assert len(graph.weights) == len(same.weights)
for g, s in zip(graph.weights, same.weights):
    np.testing.assert_allclose(g.numpy(), s.numpy())
'''),
    # ports serialization_and_saving, cell 15
    Cell("""
x_in = keras.Input(shape=(20,), name="features")
t = keras.layers.Dense(12, activation="relu", name="h1")(x_in)
t = keras.layers.Dense(12, activation="relu", name="h2")(t)
graph = keras.Model(x_in, keras.layers.Dense(3, name="out")(t), name="graph_mlp")

x_in = keras.Input(shape=(20,), name="features")
t = keras.layers.Dense(12, activation="relu", name="h1")(x_in)
t = keras.layers.Dense(12, activation="relu", name="h2")(t)
t = keras.layers.Dropout(0.2)(t)  # no weights: the weight lists still line up
graph_dropout = keras.Model(x_in, keras.layers.Dense(3, name="out")(t), name="graph_mlp")
graph_dropout.set_weights(graph.get_weights())
"""),
    # ports serialization_and_saving, cell 16
    Cell("""
seq = keras.Sequential(
    [
        keras.Input(shape=(20,), name="features"),
        keras.layers.Dense(12, activation="relu", name="h1"),
        keras.layers.Dense(3, name="out"),
    ]
)
seq.save_weights("seq.weights.h5")
seq.load_weights("seq.weights.h5")
"""),
    # ports serialization_and_saving, cell 17
    Cell("""
class TwoDense(keras.layers.Layer):
    def __init__(self, width, name=None):
        super().__init__(name=name)
        self.a = keras.layers.Dense(width, name="a")
        self.b = keras.layers.Dense(width, name="b")

    def call(self, x):
        return self.b(self.a(x))


holder = keras.Sequential([keras.Input((20,)), TwoDense(4, "pair")])
names_before = [v.name for v in holder.weights]
holder.get_layer("pair").a.trainable = False  # freezing moves a's weights back in the list
names_after = [v.name for v in holder.weights]
print(names_before, names_after, names_before != names_after)
""", stdout=True),
    # ports serialization_and_saving, cell 18
    Cell("""
def make_graph():
    x_in = keras.Input(shape=(20,), name="features")
    t = keras.layers.Dense(12, activation="relu", name="h1")(x_in)
    t = keras.layers.Dense(12, activation="relu", name="h2")(t)
    return keras.Model(x_in, keras.layers.Dense(3, name="out")(t), name="graph_mlp")


make_graph().save_weights("saved.weights.h5")
reloaded = make_graph()
reloaded.load_weights("saved.weights.h5")

# reuse all but the head in a new Sequential model
kept_layers = reloaded.layers[:-1]
kept_layers.append(keras.layers.Dense(2, name="new_head"))
headless = keras.Sequential(kept_layers)
headless.summary()
""", summary=True),
    # ports serialization_and_saving, cell 19
    Cell("""
@keras.saving.register_keras_serializable(package="Ours", name="NoBiasDense")
class NoBiasDense(keras.layers.Layer):
    # its config holds objects: a regularizer, an initializer, another layer
    def __init__(self, width, *, kernel_regularizer=None, kernel_initializer=None,
                 inner=None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.reg, self.kinit, self.inner = kernel_regularizer, kernel_initializer, inner

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "width": self.width,
            "kernel_regularizer": self.reg,
            "kernel_initializer": self.kinit,
            "inner": self.inner,
        })
        return cfg

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.width),
            regularizer=self.reg,
            initializer=self.kinit,
        )

    def call(self, x):
        return ops.matmul(x, self.kernel)


leaf = NoBiasDense(width=4, kernel_regularizer="l2", kernel_initializer="ones")
outer = NoBiasDense(width=6, inner=leaf)
outer_cfg = keras.layers.serialize(outer)
print(outer_cfg)
outer_again = keras.layers.deserialize(outer_cfg)
"""),
    # ports serialization_and_saving, cell 20
    Cell("""
@keras.saving.register_keras_serializable(package="Ours")
class Pipeline(keras.layers.Layer):
    # layers passed in are returned by get_config and rebuilt in from_config
    def __init__(self, head, body=None, **kwargs):
        super().__init__(**kwargs)
        self.head = head
        self.body = body if body is not None else keras.layers.Dense(5)

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"head": self.head, "body": self.body})
        return cfg

    @classmethod
    def from_config(cls, cfg):
        cfg["head"] = keras.layers.deserialize(cfg["head"])
        cfg["body"] = keras.layers.deserialize(cfg["body"])
        return cls(**cfg)

    def call(self, x):
        return self.head(self.body(x))


x_in = keras.Input((10,))
piped = keras.Model(x_in, Pipeline(head=leaf)(x_in))
cfg = piped.get_config()
piped_again = keras.Model.from_config(cfg)
""", ignore=("cfg",)),  # Keras' from_config pops the keys of the config it is given
    # ports serialization_and_saving, cell 21
    Cell("""
leaf = NoBiasDense(
    width=4,
    kernel_regularizer=keras.regularizers.L1L2(l1=1e-4, l2=1e-3),
    kernel_initializer="ones",
)
leaf_cfg = keras.layers.serialize(leaf)
print(leaf_cfg)
""", exact=True, stdout=True),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "serialization", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
