"""Offline stand-ins for what the guides load from the network or from TensorFlow.

Only data loading is replaced: `keras.datasets.mnist.load_data` (same shapes and dtypes,
fewer rows), TFDS' cats_vs_dogs (a few random RGB images of varying sizes), a minimal
`tf.data.Dataset` (`from_tensor_slices`, `shuffle`, `map`, `batch`, `take`, `prefetch`,
`cache`, `cardinality`; batches have `.numpy()` like TF's eager tensors) and
`matplotlib.pyplot`, which is not installed here (its calls check that they receive an
image and draw nothing). The Dataset is a `PyDataset` of the library under test, so the
guides' `model.fit(dataset)` gets data both libraries accept; its shuffles and images are
the same for both runs.
"""

import itertools
import types

import numpy as np

AUTOTUNE = -1


class EagerTensor(np.ndarray):
    """A NumPy array with `.numpy()`, as the guides use on TF's batches."""

    def numpy(self):
        return np.asarray(self)


def _tensor(value):
    return np.asarray(value).view(EagerTensor)


def _stack(elements):
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(_tensor(np.stack([np.asarray(e[i]) for e in elements]))
                     for i in range(len(first)))
    return _tensor(np.stack([np.asarray(e) for e in elements]))


def _apply(fn, element):
    return fn(*element) if isinstance(element, tuple) else fn(element)


def make_dataset_class(lib):
    """A tiny `tf.data.Dataset` over in-memory elements, as a `lib.utils.PyDataset`."""

    class Dataset(lib.utils.PyDataset):
        def __init__(self, elements, ops=()):
            super().__init__()
            self._elements = elements
            self._ops = tuple(ops)
            self._epoch = None

        @classmethod
        def from_tensor_slices(cls, tensors):
            if isinstance(tensors, tuple):
                arrays = [np.asarray(t) for t in tensors]
                return cls([tuple(row) for row in zip(*arrays)])
            return cls(list(np.asarray(tensors)))

        def _with(self, op):
            return type(self)(self._elements, self._ops + (op,))

        def shuffle(self, buffer_size, seed=None):
            # A new order on each complete pass (as tf.data reshuffles each iteration); a
            # pass abandoned midway (a guide cell that failed) does not count, so a rerun
            # sees the same order.
            passes = [0]

            def shuffled(it):
                items = list(it)
                order = np.random.default_rng((1234 if seed is None else seed, passes[0]))
                return iter([items[i] for i in order.permutation(len(items))])

            return self._with(("shuffle", shuffled, passes))

        def map(self, fn, num_parallel_calls=None):
            return self._with(("map", lambda it: (_apply(fn, e) for e in it), None))

        def batch(self, batch_size, drop_remainder=False):
            def batched(it):
                items = list(it)
                stop = len(items) - len(items) % batch_size if drop_remainder else len(items)
                return (_stack(items[i:i + batch_size]) for i in range(0, stop, batch_size))

            return self._with(("batch", batched, None))

        def take(self, count):
            return self._with(("take", lambda it: itertools.islice(it, count), None))

        def prefetch(self, buffer_size):
            return self

        def cache(self, filename=""):
            return self

        def __iter__(self):
            it = iter(self._elements)
            for _, op, _ in self._ops:
                it = op(it)
            yield from it
            for _, _, passes in self._ops:
                if passes is not None:
                    passes[0] += 1

        def cardinality(self):
            if not any(kind == "batch" for kind, _, _ in self._ops):
                return len(self._elements)
            return sum(1 for _ in self)

        # PyDataset: the batches of one epoch, computed once per epoch.
        def __len__(self):
            return self.cardinality()

        def __getitem__(self, index):
            if self._epoch is None:
                self._epoch = [tuple(np.asarray(t) for t in b) for b in self]
            return self._epoch[index]

        def on_epoch_end(self):
            self._epoch = None

    return Dataset


def make_tensorflow(lib):
    """The part of `tensorflow` the guides use to load data: `tf.data`."""
    data = types.SimpleNamespace(Dataset=make_dataset_class(lib), AUTOTUNE=AUTOTUNE)
    return types.SimpleNamespace(data=data)


def make_tfds(tf):
    """`tensorflow_datasets` with an offline cats_vs_dogs: RGB uint8 images of varying
    sizes (up to 40x48, the real ones are ~500x375) and 0/1 labels; the first split asked
    for has 8 images, each other one 4."""

    def load(name, split, as_supervised=True):
        assert name == "cats_vs_dogs" and as_supervised, (name, as_supervised)
        rng = np.random.default_rng(7)
        out = []
        for position, s in enumerate(split):
            assert s.startswith("train["), s
            elements = []
            for _ in range(8 if position == 0 else 4):  # a training split, then others
                h, w = rng.integers(24, 41), rng.integers(24, 49)
                elements.append((rng.integers(0, 256, (h, w, 3)).astype("uint8"),
                                 np.int64(rng.integers(0, 2))))
            out.append(tf.data.Dataset(elements))
        return out

    return types.SimpleNamespace(load=load, disable_progress_bar=lambda: None)


def _check_image(image):
    image = np.asarray(image)
    assert image.ndim in (2, 3) and image.shape[0] > 0 and image.shape[1] > 0, image.shape
    assert np.isfinite(image.astype("float64")).all()


matplotlib = types.SimpleNamespace(pyplot=types.SimpleNamespace(
    figure=lambda *a, **k: None, subplot=lambda *a, **k: None, title=lambda t: str(t),
    axis=lambda *a: None, imshow=lambda image, **style: _check_image(image),
    get_cmap=lambda name=None: name))


def mnist_datasets(train_rows, test_rows, seed=0):
    """`keras.datasets` whose `mnist.load_data()` gives MNIST's shapes and dtypes:
    uint8 images (n, 28, 28) and uint8 labels in 0..9, random, fewer rows."""
    rng = np.random.default_rng(seed)

    def part(n):
        return (rng.integers(0, 256, (n, 28, 28)).astype("uint8"),
                rng.integers(0, 10, (n,)).astype("uint8"))

    train, test = part(train_rows), part(test_rows)
    return types.SimpleNamespace(
        mnist=types.SimpleNamespace(load_data=lambda: (train, test)))


def for_library(lib):
    """The stand-in modules one library's run of a guide imports."""
    tf = make_tensorflow(lib)
    return {"tensorflow": tf, "tensorflow_datasets": make_tfds(tf), "matplotlib": matplotlib}
