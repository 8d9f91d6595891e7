"""kerax.utils' data helpers, against Keras 3 where it runs without TensorFlow, and
against values worked out by hand for the tf.data-based ones."""

import os
import random

import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import utils
from kerax.utils import dataset_utils
from kerax.utils.image_dataset_utils import load_image, resize

# ---------------------------------------------------------------- to_categorical / normalize / pad_sequences


@pytest.mark.parametrize(
    "x,num_classes",
    [([0, 2, 1], None), ([[1], [3]], 5), (np.array([[0, 1], [2, 0]]), 3), (np.array([[[1]], [[0]]]), None)],
)
def test_to_categorical_matches_keras(x, num_classes, keras):
    ours, theirs = utils.to_categorical(x, num_classes), keras.utils.to_categorical(x, num_classes)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_jax_array(keras):
    x = jnp.array([[1], [0], [2]])
    ours = utils.to_categorical(x, 3)
    assert isinstance(ours, type(x)) and ours.dtype == jnp.float32
    np.testing.assert_array_equal(ours, keras.utils.to_categorical(x, 3))


@pytest.mark.parametrize("axis,order", [(-1, 2), (0, 2), (1, 1), (-1, 3)])
def test_normalize_matches_keras(axis, order, keras, rng):
    x = rng.normal(size=(3, 4))
    x[1] = 0.0
    xj = jnp.asarray(x, dtype=jnp.float32)
    np.testing.assert_allclose(utils.normalize(xj, axis, order), keras.utils.normalize(xj, axis, order), rtol=1e-6)
    if axis != 0:  # Keras' NumPy path breaks on axis=0 (it expands the norm on axis -1).
        np.testing.assert_allclose(utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order))
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    np.testing.assert_allclose(utils.normalize(x, axis, order), x / np.where(norm == 0, 1, norm))


def test_normalize_rejects_bad_order():
    with pytest.raises(ValueError, match=r"`order` must be an integer >= 1 for array inputs. Received: order=0"):
        utils.normalize(jnp.ones(3), order=0)


PAD_CASES = [
    dict(),
    dict(maxlen=2),
    dict(maxlen=4, padding="post"),
    dict(maxlen=2, truncating="post", value=-1),
    dict(dtype="float32", value=0.5),
]


@pytest.mark.parametrize("kwargs", PAD_CASES)
def test_pad_sequences_matches_keras(kwargs, keras):
    seqs = [[1], [2, 3], [], [4, 5, 6]]
    ours, theirs = utils.pad_sequences(seqs, **kwargs), keras.utils.pad_sequences(seqs, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_vectors_and_strings(keras):
    seqs = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(utils.pad_sequences(seqs, dtype="float32"), keras.utils.pad_sequences(seqs, dtype="float32"))
    words = [["a"], ["b", "c"]]
    np.testing.assert_array_equal(
        utils.pad_sequences(words, dtype=object, value="<pad>"), keras.utils.pad_sequences(words, dtype=object, value="<pad>")
    )


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: utils.pad_sequences(5), "must be a list of sequences. Received an object of type int"),
        (lambda: utils.pad_sequences([[1], 2]), "the element at index 1 is 2, which has no length"),
        (lambda: utils.pad_sequences([[1]], padding="mid"), '`padding` must be "pre" or "post"'),
        (lambda: utils.pad_sequences([[1]], truncating="x"), '`truncating` must be "pre" or "post"'),
        (lambda: utils.pad_sequences([["a"]], value="z"), "pass `dtype=object`"),
        (lambda: utils.pad_sequences([np.ones((1, 2)), np.ones((1, 3))]), r"index 1 has elements of shape \(3,\)"),
    ],
)
def test_pad_sequences_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- pack / unpack


@pytest.mark.parametrize(
    "args", [(np.ones(2),), ((np.ones(2), np.ones(2)),), (np.ones(2), np.zeros(2)), (np.ones(2), np.zeros(2), np.ones(2))]
)
def test_pack_unpack_match_keras(args, keras):
    from keras.src.trainers.data_adapters import data_adapter_utils as k

    ours, theirs = utils.pack_x_y_sample_weight(*args), k.pack_x_y_sample_weight(*args)
    assert type(ours) is type(theirs) and len(np.atleast_1d(ours)) == len(np.atleast_1d(theirs))
    for data in (ours, list(ours) if isinstance(ours, tuple) else ours):
        a, b = utils.unpack_x_y_sample_weight(data), k.unpack_x_y_sample_weight(data)
        assert [x is None for x in a] == [x is None for x in b]


def test_unpack_rejects_long_tuples():
    with pytest.raises(ValueError, match="received a tuple of 4 elements"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))


# ---------------------------------------------------------------- split_dataset


def test_split_dataset_arrays_and_tuples():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    left, right = utils.split_dataset(x, left_size=0.7)
    np.testing.assert_array_equal(left, x[:7])
    np.testing.assert_array_equal(right, x[7:])
    (xl, yl), (xr, yr) = utils.split_dataset([x, y], left_size=3, right_size=2)
    np.testing.assert_array_equal(yl, [0, 1, 2])
    np.testing.assert_array_equal(yr, [8, 9])
    assert xl.shape == (3, 2)


def test_split_dataset_shuffle_uses_keras_order():
    x, y = np.arange(8) * 10, np.arange(8)
    (xl, yl), (xr, yr) = utils.split_dataset((x, y), right_size=0.25, shuffle=True, seed=4)
    order = list(range(8))
    random.Random(4).shuffle(order)  # What Keras does: random.seed(seed); random.shuffle(samples).
    np.testing.assert_array_equal(yl, order[:6])
    np.testing.assert_array_equal(yr, order[6:])
    np.testing.assert_array_equal(xl, np.array(order[:6]) * 10)


@pytest.mark.parametrize(
    "dataset,kwargs,error,match",
    [
        (np.ones(4), {}, ValueError, "Pass `left_size` or `right_size`"),
        (np.ones(4), {"left_size": 4}, ValueError, r"`left_size` must be a count in \(0, 4\)"),
        (np.ones(4), {"right_size": 1.5}, ValueError, r"`right_size` must be a count in \(0, 4\) or a fraction"),
        (np.ones(4), {"left_size": "half"}, TypeError, "`left_size` must be an int, a float or None"),
        (np.ones(4), {"left_size": 0.6, "right_size": 0.6}, ValueError, "must be at most 1"),
        (np.ones(4), {"left_size": 3, "right_size": 2}, ValueError, r"\(3 \+ 2 samples\) must be at most"),
        (np.ones(4), {"left_size": 0.1}, ValueError, "leave the left split empty"),
        ({"x": np.ones(4)}, {"left_size": 1}, TypeError, "must be a NumPy array or a non-empty tuple/list"),
        ((np.ones(4), [1, 2, 3, 4]), {"left_size": 1}, ValueError, "element 1 is a list"),
        ((np.ones(4), np.ones(3)), {"left_size": 1}, ValueError, "element 0 has 4 samples and element 1 has 3"),
        (np.ones((0, 2)), {"left_size": 1}, ValueError, "`dataset` is empty"),
    ],
)
def test_split_dataset_errors(dataset, kwargs, error, match):
    with pytest.raises(error, match=match):
        utils.split_dataset(dataset, **kwargs)


# ---------------------------------------------------------------- PyDataset


class _Squares(utils.PyDataset):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n, self.epochs = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return np.full((2,), index**2)

    def on_epoch_end(self):
        self.epochs += 1


def test_py_dataset_api_matches_keras(keras):
    import inspect

    assert inspect.signature(utils.PyDataset.__init__) == inspect.signature(keras.utils.PyDataset.__init__)
    ds = _Squares(3, workers=4, use_multiprocessing=True, max_queue_size=2)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size, ds.num_batches) == (4, True, 2, 3)
    assert [int(b[0]) for b in ds] == [0, 1, 4]
    ds.on_epoch_begin()
    ds.on_epoch_end()
    assert ds.epochs == 1 and utils.Sequence is utils.PyDataset


def test_py_dataset_without_super_init_warns_and_endless():
    class NoInit(utils.PyDataset):
        def __init__(self):
            pass

        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return index

    ds = NoInit()
    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert ds.workers == 1
    it = iter(ds)
    assert [next(it) for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(NotImplementedError, match="must implement `__getitem__"):
        utils.PyDataset()[0]
    with pytest.raises(NotImplementedError, match="must implement `__len__`"):
        utils.PyDataset().num_batches


def test_sample_batches_index_errors_and_reshuffle():
    ds = dataset_utils.SampleBatches(5, lambda i: np.array([i]), labels=np.arange(5) * 2, batch_size=2, shuffle=True, seed=0)
    x, y = ds[-1]
    np.testing.assert_array_equal(y, x[:, 0] * 2)
    with pytest.raises(IndexError, match="Batch index 3 is out of range for a dataset of 3 batches"):
        ds[3]
    before = np.concatenate([b[0][:, 0] for b in ds])
    ds.on_epoch_end()
    after = np.concatenate([b[0][:, 0] for b in ds])
    assert sorted(after) == sorted(before) == list(range(5))


# ---------------------------------------------------------------- timeseries_dataset_from_array


def test_timeseries_windows_by_hand():
    # Keras' docstring example: indices 0..98, length 10, rate 2, stride 3.
    data = np.arange(99)
    ds = utils.timeseries_dataset_from_array(data, None, sequence_length=10, sampling_rate=2, sequence_stride=3, batch_size=8)
    windows = np.concatenate(list(ds))
    np.testing.assert_array_equal(windows[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(windows[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(windows[-1], np.arange(78, 98, 2))
    assert len(windows) == 27 and len(ds) == 4


def test_timeseries_targets_start_end_and_unbatched():
    data = np.arange(30).reshape(15, 2).astype("float32")
    targets = np.arange(100, 115)
    ds = utils.timeseries_dataset_from_array(data, targets, sequence_length=3, start_index=2, end_index=12, batch_size=None)
    assert len(ds) == 8  # 12 - 2 - (3 - 1)
    x, y = ds[0]
    np.testing.assert_array_equal(x, data[2:5])
    assert y == 102
    x, y = ds[7]
    np.testing.assert_array_equal(x, data[9:12])
    assert y == 109


def test_timeseries_shuffle_is_keras_start_order():
    data = np.arange(20)
    ds = utils.timeseries_dataset_from_array(data, data, sequence_length=4, shuffle=True, seed=3, batch_size=100)
    starts = np.arange(17)
    np.random.RandomState(3).shuffle(starts)
    x, y = ds[0]
    np.testing.assert_array_equal(y, starts)
    np.testing.assert_array_equal(x, starts[:, None] + np.arange(4))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"sampling_rate": 0}, r"`sampling_rate` must be in \(0, 10\)"),
        ({"sequence_stride": 10}, r"`sequence_stride` must be in \(0, 10\)"),
        ({"start_index": 11}, r"`start_index` must be in \[0, 10\)"),
        ({"end_index": 0}, "`end_index` must be higher than 0"),
        ({"start_index": 5, "end_index": 3}, "`start_index` must be lower than `end_index`"),
    ],
)
def test_timeseries_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, **kwargs)


# ---------------------------------------------------------------- directories (images, texts)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c, label in enumerate(("cat", "dog", "eel")):
        os.makedirs(root / label / "nested")
        for i in range(3):
            pixels = rng.integers(0, 256, size=(6 + i, 9, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
        Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(root / label / "nested" / "n.jpg")
        (root / label / "notes.md").write_text("not an image")
    return root


def test_index_directory_matches_keras(image_dir, keras):
    from keras.src.utils import dataset_utils as k

    formats = (".png", ".jpg")
    for kwargs in ({"labels": "inferred"}, {"labels": None}, {"labels": "inferred", "class_names": ["eel", "cat"]}):
        ours = dataset_utils.index_directory(str(image_dir), formats=formats, seed=5, verbose=False, **kwargs)
        theirs = k.index_directory(str(image_dir), formats=formats, seed=5, verbose=False, **kwargs)
        assert ours[0] == theirs[0] and ours[2] == theirs[2]
        assert (ours[1] is None) == (theirs[1] is None) and (ours[1] is None or list(ours[1]) == list(theirs[1]))


def test_image_dataset_matches_keras_image_loading(image_dir, keras):
    from keras.src.utils.image_dataset_utils import _load_image_grain

    ds = utils.image_dataset_from_directory(
        str(image_dir), image_size=(4, 5), batch_size=5, seed=1, label_mode="categorical", verbose=False
    )
    assert len(ds) == 3 and ds.class_names == ["cat", "dog", "eel"]
    x, y = ds[0]
    assert x.shape == (5, 4, 5, 3) and x.dtype == np.float32 and y.shape == (5, 3) and y.dtype == np.float32
    for path, img, onehot in zip(ds.file_paths, x, y):
        assert ds.class_names[int(np.argmax(onehot))] == os.path.relpath(path, image_dir).split(os.sep)[0]
        ref = np.asarray(_load_image_grain(path, (4, 5), 3, "bilinear", "channels_last"))
        np.testing.assert_allclose(img, ref, atol=1e-3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interpolation": "nearest", "crop_to_aspect_ratio": True},
        {"interpolation": "bicubic", "pad_to_aspect_ratio": True, "color_mode": "grayscale"},
        {"interpolation": "lanczos3", "color_mode": "rgba", "data_format": "channels_first"},
    ],
)
def test_load_image_matches_keras(kwargs, image_dir, keras):
    from keras.src.utils.image_dataset_utils import _load_image_grain

    kwargs = dict(kwargs)
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[kwargs.pop("color_mode", "rgb")]
    interpolation = kwargs.pop("interpolation")
    data_format = kwargs.pop("data_format", "channels_last")
    path = str(image_dir / "dog" / "2.png")  # 8 x 9 pixels
    ours = load_image(path, (4, 6), channels, interpolation, data_format, **kwargs)
    ref = np.asarray(_load_image_grain(path, (4, 6), channels, interpolation, data_format, **kwargs))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_resize_matches_jax_image_resize(rng):
    import jax

    x = rng.random((7, 5, 2)).astype("float32")
    for method in ("bilinear", "nearest", "bicubic", "lanczos5"):
        ref = jax.image.resize(x, (3, 9, 2), method=method, antialias=False)
        np.testing.assert_allclose(resize(x, (3, 9), method), ref, atol=1e-5)


def test_image_dataset_splits_and_labels(image_dir):
    train, val = utils.image_dataset_from_directory(
        str(image_dir), image_size=3, batch_size=None, seed=2, validation_split=0.25, subset="both", label_mode="int", verbose=False
    )
    assert len(train) == 9 and len(val) == 3
    assert set(train.file_paths).isdisjoint(val.file_paths)
    x, y = train[0]
    assert x.shape == (3, 3, 3) and y.dtype == np.int32
    only = utils.image_dataset_from_directory(str(image_dir), labels=None, image_size=3, shuffle=False, verbose=False)
    assert only[0].shape == (12, 3, 3, 3)
    two = utils.image_dataset_from_directory(
        str(image_dir), class_names=["cat", "dog"], label_mode="binary", image_size=3, shuffle=False, verbose=False
    )
    _, yb = two[0]
    assert yb.shape == (8, 1) and yb.dtype == np.float32 and yb.sum() == 4


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"labels": "folders"}, '`labels` must be "inferred", None, or a list/tuple'),
        ({"label_mode": "sparse"}, '`label_mode` must be "int", "categorical", "binary" or None'),
        ({"color_mode": "cmyk"}, '`color_mode` must be "grayscale", "rgb" or "rgba"'),
        ({"image_size": (1, 2, 3)}, r"`image_size` must be \(height, width\)"),
        ({"interpolation": "area"}, "`interpolation` must be one of"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "at most one of `crop_to_aspect_ratio`"),
        ({"label_mode": "binary"}, 'label_mode="binary" needs exactly 2 classes'),
        ({"validation_split": 0.2, "subset": "training"}, "pass a `seed`"),
        ({"validation_split": 1.5, "subset": "training", "seed": 1}, "`validation_split` must be between 0 and 1"),
        ({"validation_split": 0.2, "seed": 1}, "set both or neither"),
        ({"validation_split": 0.2, "subset": "test", "seed": 1}, '`subset` must be "training", "validation" or "both"'),
        ({"class_names": ["cat", "cow"]}, "`class_names` must name subdirectories"),
        ({"labels": [0, 1], "class_names": ["a"]}, "`class_names` can only be passed with labels='inferred'"),
        ({"labels": [0, 1]}, "`labels` has 2 entries but 12 files were found"),
    ],
)
def test_image_dataset_errors(kwargs, match, image_dir):
    with pytest.raises(ValueError, match=match):
        utils.image_dataset_from_directory(str(image_dir), verbose=False, **kwargs)


def test_image_dataset_empty_and_missing_dirs(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No images found in directory"):
        utils.image_dataset_from_directory(str(tmp_path), verbose=False)
    with pytest.raises(ValueError, match="`directory` must be an existing directory"):
        utils.image_dataset_from_directory(str(tmp_path / "missing"), verbose=False)


def test_image_dataset_without_pillow(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no PIL")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match="Install it with `pip install pillow`"):
        utils.image_dataset_from_directory(str(tmp_path))


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    for label in ("neg", "pos"):
        (root / label).mkdir()
        for i in range(3):
            (root / label / f"{i}.txt").write_text(f"{label} review number {i} é")
    (root / "pos" / "skip.csv").write_text("no")
    return root


def test_text_dataset(text_dir, keras):
    from keras.src.utils import dataset_utils as k

    ds = utils.text_dataset_from_directory(str(text_dir), batch_size=4, seed=7, max_length=5, label_mode="binary", verbose=False)
    paths, labels, _ = k.index_directory(str(text_dir), "inferred", formats=(".txt",), seed=7, verbose=False)
    assert ds.file_paths == paths and ds.class_names == ["neg", "pos"] and len(ds) == 2
    texts, y = ds[0]
    assert texts.dtype == object and list(texts) == [open(p, encoding="utf-8").read()[:5] for p in paths[:4]]
    np.testing.assert_array_equal(y[:, 0], labels[:4])
    assert y.dtype == np.float32
    train, val = utils.text_dataset_from_directory(
        str(text_dir), validation_split=0.34, subset="both", seed=1, label_mode=None, batch_size=None, verbose=False
    )
    assert len(train) == 4 and len(val) == 2 and isinstance(val[0], str)
    cat = utils.text_dataset_from_directory(str(text_dir), label_mode="categorical", shuffle=False, verbose=False)
    np.testing.assert_array_equal(cat[0][1], np.repeat(np.eye(2, dtype="float32"), 3, axis=0))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"labels": "x"}, '`labels` must be "inferred", None, or a list/tuple'),
        ({"labels": [0] * 6, "class_names": ["neg"]}, '`class_names` can only be passed with labels="inferred"'),
        ({"label_mode": "onehot"}, '`label_mode` must be "int", "categorical", "binary" or None'),
        ({"class_names": ["neg"], "label_mode": "binary"}, 'label_mode="binary" needs exactly 2 classes'),
    ],
)
def test_text_dataset_errors(kwargs, match, text_dir, tmp_path):
    with pytest.raises(ValueError, match=match):
        utils.text_dataset_from_directory(str(text_dir), verbose=False, **kwargs)


def test_text_dataset_empty(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No text files found in directory"):
        utils.text_dataset_from_directory(str(tmp_path), verbose=False)


def test_public_names_match_keras(keras):
    names = [
        "get_file", "to_categorical", "normalize", "pad_sequences", "split_dataset",
        "timeseries_dataset_from_array", "image_dataset_from_directory", "text_dataset_from_directory",
        "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "PyDataset", "Sequence",
    ]  # fmt: skip
    for name in names:
        assert hasattr(keras.utils, name) and hasattr(kerax.utils, name), name
