"""Seeded fuzzing of every file kind kerax writes: truncations and bit flips.

Each mutated file either fails to load with a kerax error that says what is wrong, or
loads exactly the saved numbers (the flip hit bytes nothing reads). Never a silent wrong
value. Kinds: `.weights.h5`, `.keras` (also with the inner weights file changed and the
zip CRC recomputed, so only kerax's own checksums can notice), and `OrbaxCheckpoint`
steps, and legacy Keras 2 `.h5` models (`model.save("m.h5")`).
"""

import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest

import kerax
from kerax.errors import KeraxError

X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
Y = X.sum(1, keepdims=True)
FAST, SLOW = 50, 200


def _model():
    m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(4),
                          kerax.layers.BatchNormalization(), kerax.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    return m


def _numbers(model):
    # Keras' order (tree order would depend on auto-generated layer names).
    return ([np.asarray(w) for w in model.get_weights()],
            [np.asarray(v) for v in model.optimizer.variables],
            int(model.optimizer.iterations))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    kerax.utils.set_random_seed(0)
    m = _model()
    ckpt = kerax.callbacks.OrbaxCheckpoint(str(root / "ckpt"), save_on_background=False)
    m.fit(X, Y, batch_size=4, epochs=1, verbose=0, callbacks=[ckpt])
    m.save_weights(str(root / "m.weights.h5"))
    m.save(str(root / "m.keras"))
    m.save(str(root / "m.h5"))
    return root, _numbers(m), m.get_config()


def _array_ranges(h5_bytes, scratch):
    """Byte ranges of the arrays in an HDF5 image (to aim some flips at the data)."""
    with open(scratch, "wb") as f:
        f.write(h5_bytes)
    ranges = []
    with h5py.File(scratch, "r") as f:
        f.visititems(lambda n, o: ranges.append((o.id.get_offset(), o.id.get_storage_size()))
                     if isinstance(o, h5py.Dataset) and o.id.get_offset() else None)
    return ranges


def _mutate(data, rng, ranges):
    """A truncation (1 in 4) or one bit flip, half of the flips inside an array."""
    data = bytearray(data)
    if rng.random() < 0.25:
        return bytes(data[:int(rng.integers(0, len(data)))]), "truncated"
    if ranges and rng.random() < 0.5:
        start, size = ranges[int(rng.integers(len(ranges)))]
        pos = start + int(rng.integers(size))
    else:
        pos = int(rng.integers(len(data)))
    data[pos] ^= 1 << int(rng.integers(8))
    return bytes(data), f"bit flip at byte {pos}"


def _check(load, reference, what):
    """Loads; a failure must be a kerax error with a message, a success exact."""
    try:
        model = load()
    except KeraxError as e:
        assert str(e).strip(), what
        return "refused"
    except ValueError as e:  # orbax: a damaged shape in the manifest
        assert "does not match the model" in str(e), (what, e)
        return "refused"
    weights, opt, iterations = _numbers(model)
    assert iterations == reference[2], what
    assert len(weights) == len(reference[0]) and len(opt) == len(reference[1]), what
    for a, b in zip(weights + opt, reference[0] + reference[1]):
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert a.tobytes() == b.tobytes(), what
    return "harmless"


def _load_weights(path):
    def load():
        m = _model()
        m.load_weights(path)
        return m
    return load


def _fuzz_h5_file(saved, tmp_path, n, seed, name, load):
    """Mutates the HDF5 file `name` kerax saved; `load(path, what)` reads one back."""
    root, reference, _ = saved
    original = (root / name).read_bytes()
    ranges = _array_ranges(original, str(tmp_path / "scratch.h5"))
    rng = np.random.default_rng(seed)
    seen = set()
    for i in range(n):
        data, what = _mutate(original, rng, ranges)
        path = str(tmp_path / f"{i}.{name}")
        open(path, "wb").write(data)
        seen.add(_check(lambda: load(path, what), reference, what))
    return seen


def _fuzz_h5(saved, tmp_path, n, seed):
    return _fuzz_h5_file(saved, tmp_path, n, seed, "m.weights.h5",
                         lambda path, what: _load_weights(path)())


def _fuzz_keras(saved, tmp_path, n, seed):
    root, reference, config = saved
    with zipfile.ZipFile(root / "m.keras") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    original = (root / "m.keras").read_bytes()
    inner = members["model.weights.h5"]
    ranges = _array_ranges(inner, str(tmp_path / "scratch.h5"))
    rng = np.random.default_rng(seed)
    seen = set()
    for i in range(n):
        path = str(tmp_path / f"{i}.keras")
        if rng.random() < 0.5:  # the archive's own bytes (the zip CRC notices most)
            data, what = _mutate(original, rng, [])
            open(path, "wb").write(data)
        else:  # the inner weights file, with a CRC that matches again
            data, what = _mutate(inner, rng, ranges)
            what = f"model.weights.h5: {what}"
            with zipfile.ZipFile(path, "w") as zf:
                for name, value in members.items():
                    zf.writestr(name, data if name == "model.weights.h5" else value)

        def load(path=path):
            model = kerax.models.load_model(path)
            assert model.get_config() == config, what
            return model

        seen.add(_check(load, reference, what))
    return seen


def _fuzz_legacy_h5(saved, tmp_path, n, seed):
    config = saved[2]

    def load(path, what):
        model = kerax.models.load_model(path)
        assert model.get_config() == config, what
        return model

    return _fuzz_h5_file(saved, tmp_path, n, seed, "m.h5", load)


def _fuzz_orbax(saved, tmp_path, n, seed):
    pytest.importorskip("orbax.checkpoint")
    root, reference, config = saved
    source = root / "ckpt"
    (step,) = os.listdir(source)
    files = sorted(os.path.relpath(os.path.join(d, f), source / step)
                   for d, _, names in os.walk(source / step) for f in names)
    rng = np.random.default_rng(seed)
    seen = set()
    for i in range(n):
        target = tmp_path / f"ckpt{i}"
        shutil.copytree(source, target)
        rel = files[int(rng.integers(len(files)))]
        path = target / step / rel
        data, what = _mutate(path.read_bytes(), rng, [])
        path.write_bytes(data)
        what = f"{rel}: {what}"

        def load(target=target):
            model = kerax.models.load_model(str(target))
            assert model.get_config() == config, what
            return model

        seen.add(_check(load, reference, what))
        shutil.rmtree(target)
    return seen


FUZZERS = {"weights.h5": _fuzz_h5, "keras": _fuzz_keras, "orbax": _fuzz_orbax,
           "legacy.h5": _fuzz_legacy_h5}


@pytest.mark.parametrize("kind", sorted(FUZZERS))
def test_mutations_are_refused_or_harmless(saved, tmp_path, kind):
    seen = FUZZERS[kind](saved, tmp_path, FAST, seed=0)
    assert "refused" in seen  # the fuzz reaches the checks


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FUZZERS))
def test_mutations_are_refused_or_harmless_many(saved, tmp_path, kind):
    for seed in (1, 2):
        FUZZERS[kind](saved, tmp_path, SLOW // 2, seed=seed)
