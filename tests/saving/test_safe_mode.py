"""Crafted files for each class of Keras `safe_mode` CVE are refused; payloads never run."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

import kerax
from kerax.errors import CheckpointCorruptedError, UnsafeModelError
from kerax.serialization import serialization_lib


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PWNED"
    yield str(path)


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    path = str(tmp_path_factory.mktemp("good") / "good.keras")
    model.save(path)
    return path


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


def _with_layer(good_file, tmp_path, layer_config):
    members = _members(good_file)
    config = json.loads(members["config.json"])
    config["config"]["layers"].append(layer_config)
    members["config.json"] = json.dumps(config)
    return _write(tmp_path / "evil.keras", members)


def _lambda_file(tmp_path, marker):
    payload = eval(f"lambda x: (open({marker!r}, 'w').close(), x)[1]")  # noqa: S307
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Lambda(payload)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    os.remove(marker)  # building the model ran it once; loading must not
    return path


def test_lambda_bytecode_refused_in_safe_mode(tmp_path, marker):
    path = _lambda_file(tmp_path, marker)
    with pytest.raises(UnsafeModelError, match="Python lambda stored as marshalled bytecode"):
        kerax.models.load_model(path)
    assert not os.path.exists(marker)


def test_lambda_allowed_only_when_asked(tmp_path, marker):
    path = _lambda_file(tmp_path, marker)
    model = kerax.models.load_model(path, safe_mode=False)
    assert os.path.exists(marker)  # the user asked for it: the payload is real
    np.testing.assert_array_equal(np.asarray(model(np.ones((1, 4)))), np.ones((1, 4)))


def test_enable_unsafe_deserialization(tmp_path, marker, monkeypatch):
    path = _lambda_file(tmp_path, marker)
    monkeypatch.setattr(serialization_lib, "_UNSAFE_GLOBAL", [False])
    serialization_lib.enable_unsafe_deserialization()
    kerax.models.load_model(path)
    assert os.path.exists(marker)


@pytest.mark.parametrize("layer_config", [
    {"module": "os", "class_name": "system", "config": {"command": "touch {marker}"},
     "registered_name": None},
    {"module": "subprocess", "class_name": "Popen",
     "config": {"args": ["touch", "{marker}"]}, "registered_name": None},
    {"module": "keras.layers", "class_name": "Dense",
     "config": {"units": 2, "activation": {"module": "builtins", "class_name": "function",
                                           "config": "eval", "registered_name": "function"}},
     "registered_name": None},
    {"module": "keras.layers", "class_name": "Dense",
     "config": {"units": 2, "activation": {"module": None, "class_name": "function",
                                           "config": "os.system",
                                           "registered_name": "os.system"}},
     "registered_name": None},
], ids=["os.system", "subprocess.Popen", "builtins.eval", "dotted-os.system"])
def test_dangerous_names_refused(good_file, tmp_path, marker, layer_config):
    layer_config = json.loads(json.dumps(layer_config).replace("{marker}", marker))
    path = _with_layer(good_file, tmp_path, layer_config)
    with pytest.raises(UnsafeModelError, match="can run commands or touch files"):
        kerax.models.load_model(path)
    with pytest.raises(UnsafeModelError, match="can run commands or touch files"):
        kerax.models.load_model(path, safe_mode=False)  # never importable, in any mode
    assert not os.path.exists(marker)


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/kerax_abs_escape.txt",
                                  "assets/../../escape.txt"])
def test_path_traversal_refused(good_file, tmp_path, name):
    members = _members(good_file)
    members[name] = b"pwned"
    path = _write(tmp_path / "trav.keras", members)
    with pytest.raises(UnsafeModelError, match="points outside the archive"):
        kerax.models.load_model(path)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_huge_declared_shape_refused(good_file, tmp_path):
    import h5py

    members = _members(good_file)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        g = f.create_group("layers/dense/vars")
        g.create_dataset("0", shape=(1 << 20, 1 << 20), dtype="float32", chunks=(64, 64),
                         compression="gzip")  # 4 TiB declared, a few KiB on disk
        g.create_dataset("1", data=np.zeros(2, "float32"))
    members["model.weights.h5"] = buf.getvalue()
    path = _write(tmp_path / "bomb.keras", members)
    with pytest.raises(UnsafeModelError, match=r"shape \(1048576, 1048576\) in the file.*"
                                              r"refusing to allocate"):
        kerax.models.load_model(path)


def test_decompression_bomb_refused(good_file, tmp_path):
    members = _members(good_file)
    members["model.weights.h5"] = bytes(48 << 20)  # 48 MiB of zeros, ~50 KiB deflated
    path = _write(tmp_path / "zipbomb.keras", members, compression=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 1 << 20
    with pytest.raises(UnsafeModelError, match="declares 50331648 bytes uncompressed"):
        kerax.models.load_model(path)


def test_external_link_refused(tmp_path):
    import h5py

    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    other = str(tmp_path / "other.h5")
    with h5py.File(other, "w") as f:
        f.create_dataset("vars/0", data=np.zeros((4, 2), "float32"))
    path = str(tmp_path / "link.weights.h5")
    with h5py.File(path, "w") as f:
        f.create_group("layers")
        f["layers/dense"] = h5py.ExternalLink(other, "/")
    with pytest.raises(UnsafeModelError, match="is a ExternalLink, which would read another"):
        model.load_weights(path)


def test_truncated_keras_file(good_file, tmp_path):
    data = open(good_file, "rb").read()
    path = tmp_path / "trunc.keras"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointCorruptedError, match=r"trunc\.keras is truncated or corrupted"):
        kerax.models.load_model(str(path))


def test_flipped_bytes_in_weights(good_file, tmp_path):
    data = bytearray(open(good_file, "rb").read())
    start = data.index(b"\x89HDF")  # the stored (uncompressed) weights member
    for i in range(start + 2048, start + 2100):
        data[i] ^= 0xFF
    path = tmp_path / "flip.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointCorruptedError, match=r"flip\.keras.*(Bad CRC|corrupted)"):
        kerax.models.load_model(str(path))


def test_bad_json_and_missing_member(good_file, tmp_path):
    members = _members(good_file)
    members["config.json"] = b"{not json"
    path = _write(tmp_path / "badjson.keras", members)
    with pytest.raises(CheckpointCorruptedError, match="config.json is not valid JSON"):
        kerax.models.load_model(path)
    del members["model.weights.h5"]
    members["config.json"] = _members(good_file)["config.json"]
    path = _write(tmp_path / "noweights.keras", members)
    with pytest.raises(CheckpointCorruptedError, match="has no 'model.weights.h5'"):
        kerax.models.load_model(path)


def test_truncated_weights_h5(tmp_path):
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    path = tmp_path / "t.weights.h5"
    model.save_weights(str(path))
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(CheckpointCorruptedError, match=r"t\.weights\.h5 is truncated"):
        model.load_weights(str(path))


def test_non_numeric_dataset_refused(tmp_path):
    import h5py

    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    path = str(tmp_path / "str.weights.h5")
    with h5py.File(path, "w") as f:
        g = f.create_group("layers/dense/vars")
        g.create_dataset("0", data=np.array([b"x"] * 8, dtype=object).reshape(4, 2),
                         dtype=h5py.string_dtype())
        g.create_dataset("1", data=np.zeros(2, "float32"))
    with pytest.raises(UnsafeModelError, match="not a numeric array type"):
        model.load_weights(path)
