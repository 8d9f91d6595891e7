"""Our port of the keras.io guide "Transfer learning & fine-tuning" (its Keras 3
version, which imports `keras_core`): each test runs one cell, written by us, that
exercises the idioms the guide's cell of the same number teaches, on Keras 3 and on
kerax, and compares the two runs.

The idioms, in the guide's order: `weights` / `trainable_weights` /
`non_trainable_weights` of Dense and BatchNormalization; `layer.trainable = False`;
a frozen layer keeps its weights through `fit`; `trainable = False` on a model reaches
its nested models and their layers; TFDS cats-vs-dogs splits, a look at the images,
`Resizing` in the input pipeline, random flip/rotation augmentation, batching with
`prefetch`/`cache`; a frozen pretrained base under a new head (`Rescaling`,
`base_model(x, training=False)`, pooling, dropout, one logit), `summary(
show_trainable=True)`, training the head, unfreezing the base and recompiling with a
low learning rate, and a final `evaluate`.

`import keras_core` gives the library under test, like `import keras`. Data: TFDS'
cats_vs_dogs is 8/4/4 random RGB images of varying sizes (up to 40x48); `tf.data` and
`matplotlib.pyplot` are the offline stand-ins of `standins.py`. Pretrained weights: the
ImageNet application model is replaced by a small stand-in base (conv, separable conv,
BatchNormalization) whose "pretrained" weights, BatchNormalization statistics included,
are the same fixed arrays in both libraries. The head gets Keras' initial weights (`Sync`).

Augmentation and dropout draw different random numbers in the two libraries, so the
`fit`s after them are compared by structure and by what the guide's idioms promise (a
frozen base does not change; after unfreezing it trains), and the final `evaluate`, from
the same weights, by value.
"""

import numpy as np
import pytest

import kerax

from .harness import (Cell, StandIn, Sync, assert_cell, cell_params, close, history_close,
                      history_like, run_guide, weights_close)

# ports transfer_learning, cell 0: imports (the guide's Keras 3 draft imports keras_core).
SETUP = '''
import numpy as np
import keras_core as keras
from keras_core import layers
import matplotlib.pyplot as plt
import tensorflow_datasets as tfds
'''

# ports transfer_learning, cell 1: a Dense layer's weights are all trainable.
DENSE_COUNTS = '''
probe = keras.layers.Dense(5)
probe.build((None, 2))
for attr in ("weights", "trainable_weights", "non_trainable_weights"):
    print(attr, len(getattr(probe, attr)))
'''

# ports transfer_learning, cell 2: BatchNormalization also has non-trainable statistics.
BN_COUNTS = '''
probe = keras.layers.BatchNormalization()
probe.build((None, 2))
for attr in ("weights", "trainable_weights", "non_trainable_weights"):
    print(attr, len(getattr(probe, attr)))
'''

# ports transfer_learning, cell 3: trainable = False moves every weight to the
# non-trainable list.
FROZEN_COUNTS = '''
probe = keras.layers.Dense(5)
probe.build((None, 2))
probe.trainable = False
for attr in ("weights", "trainable_weights", "non_trainable_weights"):
    print(attr, len(getattr(probe, attr)))
'''

# ports transfer_learning, cell 4: a frozen layer keeps its weights while the model fits.
FROZEN_FIT_A = '''
encoder = keras.layers.Dense(4, activation="relu")
decoder = keras.layers.Dense(2, activation="sigmoid")
model = keras.Sequential([keras.Input(shape=(4,)), encoder, decoder])
encoder.trainable = False
'''

FROZEN_FIT_B = '''
before = [np.array(w) for w in encoder.get_weights()]
model.compile(optimizer="adam", loss="mean_squared_error")
model.fit(np.random.random((8, 4)), np.random.random((8, 2)), verbose=0)
for old, new in zip(before, encoder.get_weights()):
    np.testing.assert_array_equal(old, new)  # not a single value moved
'''

# ports transfer_learning, cell 5: freezing a model freezes what is nested in it.
NESTED_FREEZE = '''
trunk = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(4, activation="relu"),
    keras.layers.Dense(4, activation="relu"),
])
model = keras.Sequential([keras.Input(shape=(4,)), trunk, keras.layers.Dense(1)])

model.trainable = False
assert not trunk.trainable
assert not any(sub.trainable for sub in trunk.layers)
'''

# ports transfer_learning, cell 6: three splits of cats vs dogs, with labels.
LOAD = '''
tfds.disable_progress_bar()
parts = ["train[:30%]", "train[30%:40%]", "train[40%:50%]"]  # 30% / 10% / 10%
train_ds, val_ds, test_ds = tfds.load("cats_vs_dogs", split=parts, as_supervised=True)
for label, ds in (("train", train_ds), ("validation", val_ds), ("test", test_ds)):
    print(label, "images:", ds.cardinality())
'''

# ports transfer_learning, cell 7: a look at a few images (of different sizes).
SHOW = '''
plt.figure(figsize=(6, 6))
for n, (picture, label) in enumerate(train_ds.take(4)):
    plt.subplot(2, 2, n + 1)
    plt.imshow(picture)
    plt.title(f"label {int(label)}")
    plt.axis("off")
'''

# ports transfer_learning, cell 8: one image size for all, in the input pipeline.
RESIZE = '''
to_size = keras.layers.Resizing(64, 64)
train_ds = train_ds.map(lambda image, label: (to_size(image), label))
val_ds = val_ds.map(lambda image, label: (to_size(image), label))
test_ds = test_ds.map(lambda image, label: (to_size(image), label))
'''

# ports transfer_learning, cell 9: random flips and rotations of the training images.
AUGMENT = '''
random_ops = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.05)]


def augment(images):
    for op in random_ops:
        images = op(images)
    return images


train_ds = train_ds.map(lambda image, label: (augment(image), label))
'''

# ports transfer_learning, cell 10: batches, prefetched and cached.
BATCH = '''
import tensorflow as tf

train_ds, val_ds, test_ds = (ds.batch(16).prefetch(tf.data.AUTOTUNE).cache()
                             for ds in (train_ds, val_ds, test_ds))
'''

# ports transfer_learning, cell 11: several random variants of one training image.
SHOW_AUGMENTED = '''
for pictures, labels in train_ds.take(1):
    plt.figure(figsize=(6, 6))
    for n in range(4):
        variant = augment(np.expand_dims(pictures[0], 0))
        plt.subplot(2, 2, n + 1)
        plt.imshow(np.array(variant[0]).astype("uint8"))
        plt.title(f"label {int(labels[0])}")
        plt.axis("off")
'''

# ports transfer_learning, cell 12: a frozen pretrained base under a new head.
PRETRAINED = '''
pretrained = dict(weights="imagenet", include_top=False, input_shape=(64, 64, 3))
base_model = keras.applications.Xception(**pretrained)
'''

NEW_HEAD = '''
base_model.trainable = False

pixels = keras.Input(shape=(64, 64, 3))
# The base expects inputs in [-1, 1]; Rescaling computes pixels * scale + offset.
scaled = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)(pixels)
# training=False: the base's BatchNormalization layers are meant to stay in inference
# mode, also once the base is unfrozen below.
features = base_model(scaled, training=False)
pooled = keras.layers.GlobalAveragePooling2D()(features)
pooled = keras.layers.Dropout(0.3)(pooled)
model = keras.Model(pixels, keras.layers.Dense(1)(pooled))
'''

SUMMARY = '''
model.summary(show_trainable=True)
'''

# ports transfer_learning, cell 13: train the head only.
TRAIN_HEAD = '''
def compile_binary(learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy()])


compile_binary(1e-3)
model.fit(train_ds, epochs=2, validation_data=val_ds, verbose=0)
'''

# ports transfer_learning, cell 14: unfreeze the base, recompile with a small learning
# rate, train end to end.
FINE_TUNE = '''
base_model.trainable = True
model.summary(show_trainable=True)

compile_binary(1e-5)  # trainable changed: compile again so that fit sees it
model.fit(train_ds, epochs=1, validation_data=val_ds, verbose=0)
'''

# ports transfer_learning, cell 15: evaluate on the test split.
EVALUATE = '''
model.evaluate(test_ds, verbose=0)
'''


def pretrained_weights(model):
    """Fixed "pretrained" values for the stand-in base model, BatchNormalization
    statistics included (the same arrays for both libraries)."""
    rng = np.random.default_rng(42)
    values = []
    for w in model.weights:
        name = w.path if hasattr(w, "path") else w.name
        if "moving_variance" in name:
            values.append(rng.uniform(0.5, 2.0, w.shape).astype("float32"))
        else:
            values.append((0.2 * rng.standard_normal(w.shape)).astype("float32"))
    return values


def stand_in_base(ns):
    """A small convolutional base (no classifier on top: a 4D feature map) with
    BatchNormalization, in place of the ImageNet application model."""
    keras = ns["keras"]
    inputs = keras.Input(shape=(64, 64, 3))
    x = keras.layers.Conv2D(8, 3, strides=4, use_bias=False, name="block1_conv1")(inputs)
    x = keras.layers.BatchNormalization(name="block1_conv1_bn")(x)
    x = keras.layers.Activation("relu", name="block1_conv1_act")(x)
    x = keras.layers.SeparableConv2D(16, 3, strides=2, padding="same", use_bias=False,
                                     name="block2_sepconv1")(x)
    x = keras.layers.BatchNormalization(name="block2_sepconv1_bn")(x)
    x = keras.layers.Activation("relu", name="block2_sepconv1_act")(x)
    base_model = keras.Model(inputs, x, name="pretrained_base")
    base_model.set_weights(pretrained_weights(base_model))
    ns["base_model"] = base_model
    ns["PRETRAINED"] = [np.array(w) for w in base_model.get_weights()]


def _bn_stats(model):
    return [np.asarray(w) for w in model.weights
            if "moving" in (w.path if hasattr(w, "path") else w.name)]


def check_setup(k, x):
    assert x["keras"].Model is kerax.Model and x["layers"] is kerax.layers


def check_printed(k, x):
    assert k["__out__"] == x["__out__"], (x["__out__"], k["__out__"])


def check_frozen_fit(k, x):
    history_close(k["model"], x["model"], 1e-5)
    weights_close(k["model"], x["model"], 1e-5)
    assert len(x["model"].trainable_weights) == len(k["model"].trainable_weights) == 2


def check_nested_freeze(k, x):
    assert len(x["model"].trainable_weights) == len(k["model"].trainable_weights) == 0
    assert len(x["model"].non_trainable_weights) == len(k["model"].non_trainable_weights)


def check_resized(k, x):
    (xi, xl), (ki, kl) = next(iter(x["train_ds"])), next(iter(k["train_ds"]))
    assert np.asarray(xi).shape == np.asarray(ki).shape == (64, 64, 3)
    assert np.asarray(xi).dtype == np.asarray(ki).dtype, (np.asarray(xi).dtype,
                                                          np.asarray(ki).dtype)
    close(xi, ki, 1e-3, "Resizing(64, 64) of an image")
    assert int(xl) == int(kl)


def check_augmented(k, x):
    (xi, _), (ki, _) = next(iter(x["train_ds"])), next(iter(k["train_ds"]))
    assert np.asarray(xi).shape == np.asarray(ki).shape == (64, 64, 3)


def check_batched(k, x):
    for name in ("train_ds", "val_ds", "test_ds"):
        assert x[name].cardinality() == k[name].cardinality() == 1
    (xb, yb), (kb, _) = next(iter(x["test_ds"])), next(iter(k["test_ds"]))
    assert xb.shape == kb.shape == (4, 64, 64, 3) and yb.shape == (4,)
    close(xb, kb, 1e-3, "a resized test batch")


def check_shown(k, x):
    assert np.asarray(x["variant"]).shape == (1, 64, 64, 3)


def check_model(k, x):
    xm, km = x["model"], k["model"]
    assert len(xm.trainable_weights) == len(km.trainable_weights) == 2
    assert len(xm.non_trainable_weights) == len(km.non_trainable_weights)
    assert xm.output_shape == km.output_shape == (None, 1)
    batch = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    close(xm.predict(batch, verbose=0), km.predict(batch, verbose=0), 1e-4, "predict")


def check_head_trained(k, x):
    history_like(k["model"], x["model"])
    # The frozen base model did not change, BatchNormalization statistics included.
    for ns in (k, x):
        close(ns["base_model"].get_weights(), ns["PRETRAINED"], 0, "frozen base model")


def check_fine_tuned(k, x):
    history_like(k["model"], x["model"])
    moved = {}
    for lib, ns in (("keras", k), ("kerax", x)):
        # Trainable again: the base model's kernels moved.
        kernel = np.asarray(ns["base_model"].get_layer("block1_conv1").kernel)
        assert not np.allclose(kernel, ns["PRETRAINED"][0]), f"{lib}: base model did not train"
        pretrained = [w for w, v in zip(ns["PRETRAINED"], ns["base_model"].weights)
                      if "moving" in (v.path if hasattr(v, "path") else v.name)]
        moved[lib] = not all(np.array_equal(a, b)
                             for a, b in zip(_bn_stats(ns["base_model"]), pretrained))
    # Keras 3.15's functional models pass the outer call's `training=True` to every layer
    # that takes `training` (keras/src/models/functional.py `operation_fn`), overriding
    # the node's `training=False`: in Keras the statistics move. Keras is the spec.
    assert moved["kerax"] == moved["keras"], moved


def check_evaluate(k, x):
    close(x["_"], k["_"], 1e-4, "evaluate(test_ds)")


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(DENSE_COUNTS, check=check_printed),
    Cell(BN_COUNTS, check=check_printed),
    Cell(FROZEN_COUNTS, check=check_printed),
    Cell(FROZEN_FIT_A, Sync("model"), FROZEN_FIT_B, check=check_frozen_fit),
    Cell(NESTED_FREEZE, check=check_nested_freeze),
    Cell(LOAD, check=check_printed),
    Cell(SHOW),
    Cell(RESIZE, check=check_resized),
    Cell(AUGMENT, check=check_augmented),
    Cell(BATCH, check=check_batched),
    Cell(SHOW_AUGMENTED, check=check_shown),
    Cell(StandIn(PRETRAINED, stand_in_base), NEW_HEAD, Sync("model"), SUMMARY,
         check=check_model),
    Cell(TRAIN_HEAD, check=check_head_trained),
    Cell(FINE_TUNE, check=check_fine_tuned),
    Cell(Sync("model"), EVALUATE, check=check_evaluate),
]

@pytest.fixture(scope="module")
def results(keras):
    return run_guide("transfer_learning", CELLS, None, None, keras)


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
