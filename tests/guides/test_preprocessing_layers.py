"""Our port of the keras.io guide "Working with preprocessing layers", cell by cell.

Each cell is our code exercising the Keras idioms of the guide cell it is labelled with,
in the guide's order (names, sizes and comments are ours); see `harness.py` for how a cell
runs on both libraries.

The idioms, in the guide's order: `Normalization.adapt` on a NumPy array; `adapt` of a
`TextVectorization` on a list of (non-ASCII) strings; a `StringLookup` built from a
given vocabulary; an augmentation `Sequential` (RandomFlip, RandomRotation, RandomZoom)
mapped over a `tf.data` pipeline that feeds `Rescaling` + an application model;
`Normalization` inside a model trained with `fit`; `StringLookup` / `IntegerLookup` with
`output_mode="one_hot"` and unknown values; `Hashing(num_bins, salt)` feeding
`CategoryEncoding(output_mode="multi_hot")`; `TextVectorization` with `output_mode` "int"
(into Embedding + GRU), "multi_hot" and "tf-idf" with `ngrams=2` (into Dense), each
mapped over a `tf.data` pipeline for training, then an end-to-end model on a string
`Input` that holds the vectorizer.

Keras 3 runs its string layers (StringLookup, IntegerLookup, Hashing, TextVectorization)
only with TensorFlow installed, which the test environment never has: on Keras with JAX
those cells raise "requires TensorFlow". kerax runs them without TensorFlow, and its
results are compared with what Keras 3 on TensorFlow gave for the same cells
(`goldens/preprocessing_layers.json`, written by `goldens/make_preprocessing_goldens.py`
from this module's cell sources): every array, number, string, history, vocabulary and
layer weight a cell binds. Those cells set their models' starting weights from a seeded
NumPy generator, so training compares value for value across the two runs.

Where the guide loads CIFAR-10, the cells use `offline_cifar10(...)`; `tf.data` is the
offline stand-in (`standins.py`) here and real TensorFlow in the golden script.
"""

import json
import os

import numpy as np
import pytest

from tests.guides.goldens.record import recorded
from tests.guides.harness import Cell, GuideRun, cell_params, check, compare, slow_selected

GOLDENS = os.path.join(os.path.dirname(__file__), "goldens", "preprocessing_layers.json")
NEEDS_TF = "requires TensorFlow"

# ports preprocessing_layers, cell 0: imports; Normalization's state from adapt().
ADAPT_NORMALIZATION = '''
import numpy as np
import tensorflow as tf  # input pipelines only
import keras
from keras import layers

readings = np.array([[2.0, -1.0, 10.0], [4.0, 0.0, 14.0], [9.0, 5.0, 6.0], [1.0, 4.0, 2.0]])
scaler = layers.Normalization()
scaler.adapt(readings)  # learns each column's mean and variance
scaled = keras.ops.convert_to_numpy(scaler(readings))
print("mean after scaling: %.3f" % scaled.mean())
print("std after scaling: %.3f" % scaled.std())
'''

# ports preprocessing_layers, cell 1: adapt() on a plain list of strings.
ADAPT_TEXT = '''
lines = [
    "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
    "Où est la bibliothèque? Là-bas, près de l'église.",
    "Ça va très bien, merci — et toi?",
    "Die Bücher liegen über dem Tisch, nicht unter dem Tisch.",
    "ÉCOLE école Ecole",
]
vectorizer = layers.TextVectorization()
vectorizer.adapt(lines)
token_ids = vectorizer(lines)
print(token_ids.shape)
'''

# ports preprocessing_layers, cell 2: a lookup table given up front instead of adapted.
FIXED_VOCABULARY = '''
colours = ["red", "green", "blue", "black"]
observed = np.array([["green", "red", "teal"], ["black", "black", "blue"]])
colour_index = layers.StringLookup(vocabulary=colours)
colour_ids = colour_index(observed)  # "teal" is out of vocabulary
'''

# ports preprocessing_layers, cell 3: augmentation in the input pipeline, Rescaling and
# an application model in the trained model.
AUGMENT_PIPELINE = '''
augment = keras.Sequential(
    [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.15),
        layers.RandomZoom(0.2),
    ]
)

(train_images, train_labels), _ = offline_cifar10(48, 8)  # [data] stands in for CIFAR-10
image_shape = train_images.shape[1:]
n_classes = 10

pipeline = tf.data.Dataset.from_tensor_slices((train_images, train_labels))
pipeline = pipeline.batch(16).map(lambda images, labels: (augment(images), labels))

pixels = keras.Input(shape=image_shape)
h = layers.Rescaling(1.0 / 255)(pixels)
probs = keras.applications.ResNet50(weights=None, input_shape=image_shape, classes=n_classes)(h)
classifier = keras.Model(pixels, probs)
classifier.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
classifier.fit(pipeline, steps_per_epoch=2)
'''

# ports preprocessing_layers, cell 4: Normalization adapted on the training features and
# used as the model's first layer.
NORMALIZE_FEATURES = '''
(train_images, train_labels), _ = offline_cifar10(32, 8)  # [data] stands in for CIFAR-10
flat = train_images.reshape((len(train_images), -1)).astype("float32")
feature_shape = flat.shape[1:]

feature_scaler = layers.Normalization()
feature_scaler.adapt(flat)

features = keras.Input(shape=feature_shape)
probs = layers.Dense(10, activation="softmax")(feature_scaler(features))
linear = keras.Model(features, probs)
linear.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
linear_history = linear.fit(flat, train_labels)  # 32 rows: one batch per epoch
'''

# ports preprocessing_layers, cell 5: one-hot codes for string categories, index 0 for
# values adapt() never saw.
STRING_ONE_HOT = '''
seen = np.array([["cat"], ["dog"], ["cat"], ["owl"], ["dog"], ["dog"]])
animal_codes = layers.StringLookup(output_mode="one_hot")
animal_codes.adapt(seen)
later = np.array([["owl"], ["cat"], ["emu"], ["dog"], [""], ["yak"]])
one_hot_animals = animal_codes(later)
'''

# ports preprocessing_layers, cell 6: one-hot codes for integer categories (0 is the mask
# value, index 1 the out-of-vocabulary one).
INTEGER_ONE_HOT = '''
seen = np.array([[7], [3], [3], [42], [7], [0], [3]])
code_index = layers.IntegerLookup(output_mode="one_hot")
code_index.adapt(seen)
later = np.array([[3], [42], [8], [0], [7], [99]])
one_hot_codes = code_index(later)
'''

# ports preprocessing_layers, cell 7: the hashing trick, then multi-hot counts of buckets.
HASHING_TRICK = '''
ids = np.random.randint(0, 50000, size=(40, 1))
bucketize = layers.Hashing(num_bins=32, salt=2024)
bucket_flags = layers.CategoryEncoding(num_tokens=32, output_mode="multi_hot")
bags = bucket_flags(bucketize(ids))
print(bags.shape)
'''

# ports preprocessing_layers, cell 8: token ids for an Embedding + GRU model; the
# vectorizer runs in the input pipeline for training and inside the exported model.
TEXT_TO_SEQUENCE = '''
corpus = np.array(
    [
        "A small boat drifts on the quiet lake",
        "The lake is cold and the boat is old",
        "Birds sing over the lake at dawn",
        "An old song for a quiet dawn",
    ]
)
seq_vectorizer = layers.TextVectorization(output_mode="int")
seq_vectorizer.adapt(corpus)
print("ids:", keras.ops.convert_to_numpy(seq_vectorizer(["The boat sings at the old lake"])))

ids_in = keras.Input(shape=(None,), dtype="int64")
h = layers.Embedding(input_dim=seq_vectorizer.vocabulary_size(), output_dim=6)(ids_in)
h = layers.GRU(4)(h)
score = layers.Dense(1)(h)
seq_model = keras.Model(ids_in, score)
# Starting weights from a seeded generator, so that training compares across libraries.
start = np.random.default_rng(11)
seq_model.set_weights([start.normal(0.0, 0.3, w.shape) for w in seq_model.get_weights()])

examples = tf.data.Dataset.from_tensor_slices(
    (["the quiet boat at dawn", "cold birds sing an unknown song"], [1.0, 0.0]))
examples = examples.batch(2).map(lambda text, target: (seq_vectorizer(text), target))
seq_model.compile(optimizer="rmsprop", loss="mse")
seq_history = seq_model.fit(examples, epochs=2)

raw_text = keras.Input(shape=(1,), dtype="string")
seq_end_to_end = keras.Model(raw_text, seq_model(seq_vectorizer(raw_text)))
seq_scores = seq_end_to_end(np.array(["an old boat on a frozen lake"]))
'''

# ports preprocessing_layers, cell 9: multi-hot bigrams into a Dense model.
TEXT_TO_BIGRAMS = '''
corpus = np.array(
    [
        "A small boat drifts on the quiet lake",
        "The lake is cold and the boat is old",
        "Birds sing over the lake at dawn",
        "An old song for a quiet dawn",
    ]
)
bigram_vectorizer = layers.TextVectorization(output_mode="multi_hot", ngrams=2)
bigram_vectorizer.adapt(corpus)
bigram_flags = bigram_vectorizer(["The boat sings at the old lake"])

flags_in = keras.Input(shape=(bigram_vectorizer.vocabulary_size(),))
bigram_model = keras.Model(flags_in, layers.Dense(1)(flags_in))
start = np.random.default_rng(12)
bigram_model.set_weights([start.normal(0.0, 0.3, w.shape) for w in bigram_model.get_weights()])

examples = tf.data.Dataset.from_tensor_slices(
    (["the quiet boat at dawn", "cold birds sing an unknown song"], [1.0, 0.0]))
examples = examples.batch(2).map(lambda text, target: (bigram_vectorizer(text), target))
bigram_model.compile(optimizer="rmsprop", loss="mse")
bigram_history = bigram_model.fit(examples, epochs=2)

# One string per example (shape ()): with shape (1,), Keras 3's count modes keep that
# axis, (batch, 1, vocabulary), which the Dense model refuses.
raw_text = keras.Input(shape=(), dtype="string")
bigram_end_to_end = keras.Model(raw_text, bigram_model(bigram_vectorizer(raw_text)))
bigram_scores = bigram_end_to_end(np.array(["an old boat on a frozen lake"]))
'''

# ports preprocessing_layers, cell 10: TF-IDF weighted bigrams into a Dense model.
TEXT_TO_TFIDF = '''
corpus = np.array(
    [
        "A small boat drifts on the quiet lake",
        "The lake is cold and the boat is old",
        "Birds sing over the lake at dawn",
        "An old song for a quiet dawn",
    ]
)
tfidf_vectorizer = layers.TextVectorization(output_mode="tf-idf", ngrams=2)
tfidf_vectorizer.adapt(corpus)
tfidf_weights = tfidf_vectorizer(["The boat sings at the old lake"])

weights_in = keras.Input(shape=(tfidf_vectorizer.vocabulary_size(),))
tfidf_model = keras.Model(weights_in, layers.Dense(1)(weights_in))
start = np.random.default_rng(13)
tfidf_model.set_weights([start.normal(0.0, 0.3, w.shape) for w in tfidf_model.get_weights()])

examples = tf.data.Dataset.from_tensor_slices(
    (["the quiet boat at dawn", "cold birds sing an unknown song"], [1.0, 0.0]))
examples = examples.batch(2).map(lambda text, target: (tfidf_vectorizer(text), target))
tfidf_model.compile(optimizer="rmsprop", loss="mse")
tfidf_history = tfidf_model.fit(examples, epochs=2)

# One string per example (shape ()): with shape (1,), Keras 3's count modes keep that
# axis, (batch, 1, vocabulary), which the Dense model refuses.
raw_text = keras.Input(shape=(), dtype="string")
tfidf_end_to_end = keras.Model(raw_text, tfidf_model(tfidf_vectorizer(raw_text)))
tfidf_scores = tfidf_end_to_end(np.array(["an old boat on a frozen lake"]))
'''


def _golden_cells():
    with open(GOLDENS) as f:
        return json.load(f)["cells"]


def matches_golden(index):
    """A `kerax_check`: what kerax's run of cell `index` bound equals what Keras 3 on
    TensorFlow bound in the same cell (values up to TOL, dtypes, shapes, printed text)."""

    def kerax_check(x):
        golden = _golden_cells()[str(index)]
        assert golden["source"] == CELLS[index].source, (
            "the cell changed since its goldens were made: rerun "
            "goldens/make_preprocessing_goldens.py")
        problems = []
        for name, want in golden["bound"].items():
            assert name in x, f"{name}: not bound on kerax"
            got = recorded(x[name])
            if got is None:
                problems.append(f"{name}: {type(x[name]).__name__} is not what Keras bound")
            elif set(got) != set(want):
                problems.append(f"{name}: {sorted(got)} recorded, Keras {sorted(want)}")
            else:
                problems += _differences(name, want, got)
        assert not problems, "; ".join(problems[:5])

    return kerax_check


def _differences(name, want, got):
    problems = []
    for key in want:
        a, b = want[key], got[key]
        if key in ("array", "weights"):
            pairs = [(a, b)] if key == "array" else list(zip(a, b))
            if key == "weights" and len(a) != len(b):
                problems.append(f"{name}: {len(b)} weights != keras {len(a)}")
            for i, (wa, wb) in enumerate(pairs):
                problems += compare(np.asarray(wa), np.asarray(wb), True, f"{name}.{key}{i}")
        elif key == "history":
            problems += compare(a, b, True, f"{name}.history")
        elif key == "dtype":
            # TensorFlow's lookup layers give int64 where JAX (x64 off) has int32.
            if a != b and not (a == "int64" and b == "int32"):
                problems.append(f"{name}.dtype: {b} != keras {a}")
        elif a != b:
            problems.append(f"{name}.{key}: {b!r} != keras {a!r}")
    return problems


def _text_cell(source, **kwargs):
    """A cell Keras on JAX cannot run (its string layers need TensorFlow): kerax's run is
    compared with Keras 3 on TensorFlow's (the goldens)."""
    return Cell(source, keras_fails=NEEDS_TF, **kwargs)


CELLS = [
    Cell(ADAPT_NORMALIZATION, exact=True, stdout=True),
    _text_cell(ADAPT_TEXT),
    _text_cell(FIXED_VOCABULARY),
    Cell(AUGMENT_PIPELINE, slow=True),
    Cell(NORMALIZE_FEATURES, exact=True, sync_fit=True),
    _text_cell(STRING_ONE_HOT),
    _text_cell(INTEGER_ONE_HOT),
    _text_cell(HASHING_TRICK),
    _text_cell(TEXT_TO_SEQUENCE),
    _text_cell(TEXT_TO_BIGRAMS),
    _text_cell(TEXT_TO_TFIDF),
]
for _i, _cell in enumerate(CELLS):
    if _cell.keras_fails == NEEDS_TF:
        _cell.kerax_check = matches_golden(_i)


@pytest.fixture(scope="module")
def run(keras, tmp_path_factory, request):
    guide = GuideRun(CELLS, tmp_path_factory, "preprocessing_layers",
                     slow_selected(request.config))
    yield guide
    guide.close()


@pytest.mark.parametrize("index", cell_params(CELLS))
def test_cell(run, index):
    check(run, index)


def test_goldens_cover_every_text_cell():
    """Every cell compared with the goldens has them, made from its current source."""
    cells = _golden_cells()
    for i, cell in enumerate(CELLS):
        if cell.keras_fails == NEEDS_TF:
            assert str(i) in cells, f"cell {i} has no goldens"
            assert cells[str(i)]["source"] == cell.source, f"cell {i} changed; rerun the script"
            assert cells[str(i)]["bound"], f"cell {i} records nothing"
