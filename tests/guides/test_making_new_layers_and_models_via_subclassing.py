"""Our own port of the keras.io guide "Making new layers and models via subclassing", cell
by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries. Where the guide trains on MNIST, the cell uses `offline_mnist()`.
"""

import numpy as np
import pytest

from tests.guides.harness import Cell, GuideRun, cell_params, check, slow_selected



def _vae_trained(x):
    """Keras on JAX refuses an unseeded `keras.random.normal` inside `fit` (it asks for a
    `SeedGenerator`); the guide's text runs on Keras' other backends, and on kerax, where
    the draw comes from the step's key."""
    losses = x["vae"].history.history["loss"]
    assert len(losses) == 1 and np.isfinite(losses[0]), losses

CELLS = [
    # ports making_new_layers_and_models_via_subclassing, cell 0
    Cell("""
import numpy as np
import keras
from keras import ops
from keras import layers
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 1
    Cell("""
class Affine(keras.layers.Layer):
    # weights made in __init__: the input size is given up front
    def __init__(self, out_dim=8, in_dim=8):
        super().__init__()
        self.kernel = self.add_weight(
            shape=(in_dim, out_dim), initializer="random_normal", trainable=True
        )
        self.offset = self.add_weight(shape=(out_dim,), initializer="zeros", trainable=True)

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.offset
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 2
    Cell("""
feats = ops.ones((3, 5))
affine = Affine(6, 5)
out = affine(feats)
print(out)
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 3
    Cell("""
assert affine.weights == [affine.kernel, affine.offset]
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 4
    Cell("""
class RunningTotal(keras.layers.Layer):
    # a non-trainable state variable, updated in place at every call
    def __init__(self, width):
        super().__init__()
        self.acc = self.add_weight(shape=(width,), initializer="zeros", trainable=False)

    def call(self, x):
        self.acc.assign_add(ops.sum(x, axis=0))
        return self.acc


feats = ops.ones((4, 3))
totals = RunningTotal(3)
first = totals(feats).numpy()
second = totals(feats).numpy()
print(first, second)
""", exact=True, stdout=True),
    # ports making_new_layers_and_models_via_subclassing, cell 5
    Cell("""
counts = (len(totals.weights), len(totals.non_trainable_weights), totals.trainable_weights)
print(counts)
""", stdout=True),
    # ports making_new_layers_and_models_via_subclassing, cell 6
    Cell("""
class Affine(keras.layers.Layer):
    def __init__(self, out_dim=8, in_dim=8):
        super().__init__()
        self.kernel = self.add_weight(
            shape=(in_dim, out_dim), initializer="random_normal", trainable=True
        )
        self.offset = self.add_weight(shape=(out_dim,), initializer="zeros", trainable=True)

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.offset


affine = Affine(2, 4)
out = affine(ops.ones((1, 4)))
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 7
    Cell("""
class Affine(keras.layers.Layer):
    # lazy: weights are made in build(), once the input size is known
    def __init__(self, out_dim=8):
        super().__init__()
        self.out_dim = out_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.out_dim), initializer="random_normal", trainable=True
        )
        self.offset = self.add_weight(
            shape=(self.out_dim,), initializer="random_normal", trainable=True
        )

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.offset
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 8
    Cell("""
affine = Affine(6)  # input size unknown here
out = affine(feats)  # build() runs now, with feats' shape
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 9
    Cell("""
class TwoHidden(keras.layers.Layer):
    # layers assigned as attributes are tracked: their weights become ours
    def __init__(self):
        super().__init__()
        self.hidden_a = Affine(16)
        self.hidden_b = Affine(16)
        self.head = Affine(2)

    def call(self, x):
        x = keras.activations.relu(self.hidden_a(x))
        x = keras.activations.relu(self.hidden_b(x))
        return self.head(x)


block = TwoHidden()
out = block(ops.ones((2, 10)))
print(len(block.weights), len(block.trainable_weights))
""", stdout=True),
    # ports making_new_layers_and_models_via_subclassing, cell 10
    Cell("""
class MeanPenalty(keras.layers.Layer):
    # adds a loss term proportional to the mean activation
    def __init__(self, factor=0.05):
        super().__init__()
        self.factor = factor

    def call(self, x):
        self.add_loss(self.factor * ops.mean(x))
        return x
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 11
    Cell("""
class Wrapper(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.penalty = MeanPenalty(0.05)

    def call(self, x):
        return self.penalty(x)


wrapper = Wrapper()
before = len(wrapper.losses)
_ = wrapper(ops.ones((2, 2)))
after_one = len(wrapper.losses)
_ = wrapper(ops.ones((2, 2)))  # losses are reset at each call, not accumulated
after_two = len(wrapper.losses)
assert (before, after_one, after_two) == (0, 1, 1)
""", exact=True),
    # ports making_new_layers_and_models_via_subclassing, cell 12
    Cell("""
class WithL2(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.proj = keras.layers.Dense(8, kernel_regularizer=keras.regularizers.l2(1e-2))

    def call(self, x):
        return self.proj(x)


wrapped = WithL2()
_ = wrapped(ops.ones((1, 3)))
print(wrapped.losses)  # the kernel regularizer's penalty
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 13
    Cell("""
inp = keras.Input(shape=(4,))
net = keras.Model(inp, MeanPenalty()(inp))

# with a compiled loss, the layer's add_loss term is added to it
net.compile(optimizer="adam", loss="mse")
net.fit(np.random.random((3, 4)), np.random.random((3, 4)), verbose=0)

# without one, the add_loss term alone is minimized
net.compile(optimizer="adam")
hist = net.fit(np.random.random((3, 4)), np.random.random((3, 4)), verbose=0)
""", exact=True, sync_fit=True),
    # ports making_new_layers_and_models_via_subclassing, cell 14
    Cell("""
class Affine(keras.layers.Layer):
    def __init__(self, out_dim=8):
        super().__init__()
        self.out_dim = out_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.out_dim), initializer="random_normal", trainable=True
        )
        self.offset = self.add_weight(
            shape=(self.out_dim,), initializer="random_normal", trainable=True
        )

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.offset

    def get_config(self):
        return {"out_dim": self.out_dim}


affine = Affine(12)
cfg = affine.get_config()
print(cfg)
clone = Affine.from_config(cfg)
""", stdout=True),
    # ports making_new_layers_and_models_via_subclassing, cell 15
    Cell("""
class Affine(keras.layers.Layer):
    # base-class kwargs (name, dtype, ...) pass through and come back in the config
    def __init__(self, out_dim=8, **kwargs):
        super().__init__(**kwargs)
        self.out_dim = out_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.out_dim), initializer="random_normal", trainable=True
        )
        self.offset = self.add_weight(
            shape=(self.out_dim,), initializer="random_normal", trainable=True
        )

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.offset

    def get_config(self):
        base = super().get_config()
        base.update({"out_dim": self.out_dim})
        return base


affine = Affine(12, name="affine_layer")
cfg = affine.get_config()
clone = Affine.from_config(cfg)
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 16
    Cell("""
class MaybeDrop(keras.layers.Layer):
    # behaves differently when called with training=True
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, x, training=None):
        if training:
            return keras.random.dropout(x, rate=self.rate)
        return x


kept = MaybeDrop(0.3)(ops.ones((2, 4)), training=False)
"""),
    # ports making_new_layers_and_models_via_subclassing, cell 17
    Cell('''
class GaussianDraw(layers.Layer):
    """Draws a latent vector from a mean and a log-variance."""

    def call(self, stats):
        mean, log_var = stats
        noise = keras.random.normal(shape=(ops.shape(mean)[0], ops.shape(mean)[1]))
        return mean + ops.exp(0.5 * log_var) * noise


class LatentEncoder(layers.Layer):
    def __init__(self, latent=4, hidden=16, name="latent_encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.trunk = layers.Dense(hidden, activation="relu")
        self.to_mean = layers.Dense(latent)
        self.to_log_var = layers.Dense(latent)
        self.noise = GaussianDraw()

    def call(self, x):
        h = self.trunk(x)
        mean, log_var = self.to_mean(h), self.to_log_var(h)
        return mean, log_var, self.noise((mean, log_var))


class LatentDecoder(layers.Layer):
    def __init__(self, out_dim, hidden=16, name="latent_decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.trunk = layers.Dense(hidden, activation="relu")
        self.out = layers.Dense(out_dim, activation="sigmoid")

    def call(self, z):
        return self.out(self.trunk(z))


class TinyVAE(keras.Model):
    def __init__(self, out_dim, hidden=16, latent=4, name="tiny_vae", **kwargs):
        super().__init__(name=name, **kwargs)
        self.enc = LatentEncoder(latent=latent, hidden=hidden)
        self.dec = LatentDecoder(out_dim, hidden=hidden)

    def call(self, x):
        mean, log_var, z = self.enc(x)
        # KL term, added as a model loss
        self.add_loss(-0.5 * ops.mean(log_var - ops.square(mean) - ops.exp(log_var) + 1))
        return self.dec(z)
'''),
    # ports making_new_layers_and_models_via_subclassing, cell 18
    Cell("""
(digits, _), _ = offline_mnist()  # [data] stands in for the MNIST download
digits = digits.reshape(len(digits), 28 * 28).astype("float32") / 255

vae = TinyVAE(28 * 28, 16, 4)
vae.compile(keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.MeanSquaredError())
vae.fit(digits, digits, epochs=1, batch_size=64, verbose=0)
""", keras_fails="SeedGenerator", kerax_check=_vae_trained),
]


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "subclassing", slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)
