"""kerax.datasets and kerax.utils.get_file, offline: tiny Keras-format files served locally.

Each loader is pointed at a local mirror (file:// or an http.server on 127.0.0.1) and
compared with Keras 3's own loader reading the same file.
"""

import functools
import hashlib
import http.server
import io
import os
import pathlib
import pickle
import socket
import tarfile
import threading
import zipfile

import numpy as np
import pytest

try:  # `tests` may or may not be a package.
    from tests.fixtures.dataset_files import write_mirror
except ImportError:
    from fixtures.dataset_files import write_mirror

import kerax
from kerax import datasets
from kerax.utils import file_utils
from kerax.utils.file_utils import get_file



# ---------------------------------------------------------------- shared fixtures


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    hashes = write_mirror(str(root))
    return root, hashes


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/truncated"):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server(mirror):
    handler = functools.partial(_Handler, directory=str(mirror[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "kerax_home"))
    return tmp_path / "kerax_home"


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Module, its origin constant, and the files (with hash constants) it downloads.
SOURCES = {
    "mnist": ("ORIGIN_FOLDER", {"FILE_HASH": "mnist.npz"}),
    "imdb": ("ORIGIN_FOLDER", {"FILE_HASH": "imdb.npz", "WORD_INDEX_HASH": "imdb_word_index.json"}),
    "reuters": ("ORIGIN_FOLDER", {"FILE_HASH": "reuters.npz", "WORD_INDEX_HASH": "reuters_word_index.json"}),
    "boston_housing": ("ORIGIN_FOLDER", {"FILE_HASH": "boston_housing.npz"}),
    "california_housing": ("ORIGIN_FOLDER", {"FILE_HASH": "california_housing.npz"}),
    "cifar10": ("ORIGIN", {"FILE_HASH": "cifar-10-python.tar.gz"}),
    "cifar100": ("ORIGIN", {"FILE_HASH": "cifar-100-python.tar.gz"}),
    "fashion_mnist": ("ORIGIN_FOLDER", {}),
}


@pytest.fixture
def local(mirror, server, monkeypatch):
    """Points every kerax dataset at the local http mirror, with the mirror's hashes."""
    _, hashes = mirror
    for name, (origin_attr, hash_attrs) in SOURCES.items():
        module = getattr(datasets, name)
        origin = getattr(module, origin_attr)
        if origin_attr == "ORIGIN":
            origin = server + origin.rsplit("/", 1)[1]
        else:
            origin = server
        monkeypatch.setattr(module, origin_attr, origin)
        for attr, fname in hash_attrs.items():
            md5 = len(getattr(module, attr)) == 32
            monkeypatch.setattr(module, attr, hashes[fname][1 if md5 else 0])
    return server


@pytest.fixture
def keras_reads_mirror(keras, mirror, tmp_path, monkeypatch):
    """Makes Keras' own loaders read the mirror's files (through kerax's get_file)."""
    import importlib

    root, _ = mirror

    def fake_get_file(fname=None, origin=None, extract=False, cache_subdir="datasets", **kwargs):
        uri = (root / origin.rsplit("/", 1)[1]).as_uri()
        return get_file(fname, uri, extract=extract, cache_subdir=cache_subdir, cache_dir=str(tmp_path / "keras"))

    for name in SOURCES:
        monkeypatch.setattr(importlib.import_module(f"keras.src.datasets.{name}"), "get_file", fake_get_file)
    return keras


def _assert_same(ours, theirs):
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, np.ndarray):
        assert isinstance(ours, type(theirs)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.shape, ours.dtype, theirs.shape, theirs.dtype)
    if theirs.dtype == object:
        assert [list(x) for x in ours] == [list(x) for x in theirs]
    else:
        np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------- datasets vs Keras 3


def test_origins_and_hashes_are_keras_own():
    import keras.src.datasets as keras_datasets

    src = pathlib.Path(keras_datasets.__file__).parent
    for name, (origin_attr, hash_attrs) in SOURCES.items():
        module = getattr(datasets, name)
        text = (src / f"{name}.py").read_text()
        assert getattr(module, origin_attr) in text, name
        for attr in hash_attrs:
            assert getattr(module, attr) in text, (name, attr)
    fashion = (src / "fashion_mnist.py").read_text()
    assert all(f in fashion for f in datasets.fashion_mnist.FILES)


CASES = [
    ("mnist", {}),
    ("fashion_mnist", {}),
    ("cifar100", {}),
    ("cifar100", {"label_mode": "coarse"}),
    ("imdb", {}),
    ("imdb", {"num_words": 20, "skip_top": 5, "maxlen": 9, "seed": 3}),
    ("imdb", {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 25}),
    ("reuters", {}),
    ("reuters", {"num_words": 30, "maxlen": 10, "test_split": 0.3, "oov_char": None}),
    ("reuters", {"start_char": None, "index_from": 0}),
    ("boston_housing", {}),
    ("boston_housing", {"test_split": 0.4, "seed": 7}),
    ("california_housing", {}),
    ("california_housing", {"version": "small", "test_split": 0.1, "seed": 1}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_load_data_matches_keras(name, kwargs, local, keras_reads_mirror):
    ours = getattr(datasets, name).load_data(**kwargs)
    theirs = getattr(keras_reads_mirror.datasets, name).load_data(**kwargs)
    _assert_same(ours, theirs)


def test_cifar10_matches_keras_batches(local, keras, tmp_path):
    # Keras' cifar10 assumes 10,000 images per batch file, so compare with its reader.
    from keras.src.datasets.cifar import load_batch as keras_load_batch

    (x, y), (xt, yt) = datasets.cifar10.load_data()
    root = os.path.join(str(tmp_path / "kerax_home"), "datasets", "cifar-10-batches-py-target", "cifar-10-batches-py")
    parts = [keras_load_batch(os.path.join(root, f"data_batch_{i}")) for i in range(1, 6)]
    np.testing.assert_array_equal(x, np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y[:, 0], np.concatenate([p[1] for p in parts]))
    test_x, test_y = keras_load_batch(os.path.join(root, "test_batch"))
    np.testing.assert_array_equal(xt, test_x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(yt[:, 0], test_y)


@pytest.mark.parametrize(
    "name,shapes,dtype",
    [
        ("mnist", [(6, 28, 28), (6,), (4, 28, 28), (4,)], "uint8"),
        ("fashion_mnist", [(6, 28, 28), (6,), (4, 28, 28), (4,)], "uint8"),
        ("cifar10", [(15, 32, 32, 3), (15, 1), (2, 32, 32, 3), (2, 1)], "uint8"),
    ],
)
def test_shapes_and_dtypes(name, shapes, dtype, local):
    (a, b), (c, d) = getattr(datasets, name).load_data()
    assert [a.shape, b.shape, c.shape, d.shape] == shapes
    assert {a.dtype, b.dtype, c.dtype, d.dtype} == {np.dtype(dtype)}


def test_cifar_channels_first(local, monkeypatch):
    monkeypatch.setattr(datasets.cifar, "image_data_format", lambda: "channels_first")
    (x, _), (xt, _) = datasets.cifar100.load_data()
    assert x.shape == (5, 3, 32, 32) and xt.shape == (3, 3, 32, 32)


def test_word_indices_and_labels(local, keras):
    assert datasets.imdb.get_word_index()["w3"] == 3
    assert datasets.reuters.get_word_index() == datasets.imdb.get_word_index()
    assert datasets.reuters.get_label_names() == keras.datasets.reuters.get_label_names()


def test_imdb_unknown_kwargs_warn(local):
    with pytest.warns(UserWarning, match="ignores the unknown arguments"):
        datasets.imdb.load_data(nb_words=3)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: datasets.cifar100.load_data(label_mode="medium"), '`label_mode` must be "fine" or "coarse"'),
        (lambda: datasets.boston_housing.load_data(test_split=1.0), r"`test_split` must be a fraction in \[0, 1\)"),
        (lambda: datasets.california_housing.load_data(test_split=-0.1), "test_split=-0.1"),
        (lambda: datasets.california_housing.load_data(version="tiny"), '`version` must be "small" or "large"'),
        (lambda: datasets.imdb.load_data(maxlen=1), "No sequence is shorter than maxlen=1"),
    ],
)
def test_dataset_argument_errors(call, match, local):
    with pytest.raises(ValueError, match=match):
        call()


def test_restricted_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "data_batch"
    path.write_bytes(pickle.dumps({b"data": Evil(), b"labels": [1]}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to load `(posix|os|nt)\.system`"):
        datasets.cifar.load_batch(str(path))


def test_npz_object_arrays_refuse_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (eval, ("1",))

    bad = np.empty(1, dtype=object)
    bad[0] = Evil()
    path = tmp_path / "bad.npz"
    np.savez(path, x=bad)
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        datasets.npz_utils.load_npz(str(path))


# ---------------------------------------------------------------- get_file


def test_get_file_file_uri_and_cache(tmp_path, home):
    src = tmp_path / "data.bin"
    src.write_bytes(b"abc")
    sha = hashlib.sha256(b"abc").hexdigest()
    path = get_file(origin=src.as_uri(), file_hash=sha)
    assert path == str(home / "datasets" / "data.bin")
    src.unlink()  # A cached, valid file is not downloaded again.
    assert open(get_file(origin=src.as_uri(), file_hash=sha), "rb").read() == b"abc"


def test_get_file_http_and_md5(local, mirror, home):
    md5 = mirror[1]["mnist.npz"][1]
    path = get_file("m.npz", local + "mnist.npz", md5_hash=md5, cache_subdir="sub")
    assert path == str(home / "sub" / "m.npz")
    assert file_utils.hash_file(path, "md5") == md5
    assert file_utils.validate_file(path, md5.upper())


def test_get_file_rejects_wrong_hash_and_keeps_nothing(local, home):
    with pytest.raises(ValueError, match=r"incomplete or corrupted: its sha256 hash is [0-9a-f]{64}, expected 0{64}"):
        get_file(origin=local + "mnist.npz", file_hash="0" * 64)
    assert os.listdir(home / "datasets") == []


def test_get_file_redownloads_corrupted_cache(local, mirror, home, capsys):
    sha = mirror[1]["mnist.npz"][0]
    target = home / "datasets" / "mnist.npz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a file")
    assert get_file(origin=local + "mnist.npz", file_hash=sha) == str(target)
    assert file_utils.hash_file(target) == sha
    assert "does not match the expected value" in capsys.readouterr().out


def test_get_file_force_download(tmp_path, home):
    src = tmp_path / "v.txt"
    src.write_text("one")
    get_file(origin=src.as_uri())
    src.write_text("two")
    assert open(get_file(origin=src.as_uri())).read() == "one"
    assert open(get_file(origin=src.as_uri(), force_download=True)).read() == "two"


def test_get_file_offline_error_names_url_and_destination(home):
    url = f"http://127.0.0.1:{_closed_port()}/mnist.npz"
    with pytest.raises(OSError, match=r"Could not download http://127\.0\.0\.1:\d+/mnist\.npz: .*copy it to .*mnist\.npz with sha256 hash ab"):
        get_file(origin=url, file_hash="ab" * 32, hash_algorithm="sha256")
    assert os.listdir(home / "datasets") == []


def test_get_file_http_404(local):
    with pytest.raises(OSError, match="HTTP 404"):
        get_file(origin=local + "missing.npz")


def test_get_file_truncated_download_leaves_no_file(local, home):
    with pytest.raises(OSError, match="Could not download .*/truncated"):
        get_file("t.bin", origin=local + "truncated")
    assert os.listdir(home / "datasets") == []


def test_get_file_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="needs the `origin` argument"):
        get_file("x")
    with pytest.raises(ValueError, match="must be a file name, not a path"):
        get_file("a/b", origin="file:///x")
    with pytest.raises(ValueError, match="Can't find a file name in origin"):
        get_file(origin="http://example.com/")
    with pytest.raises(kerax.errors.UnknownIdentifierError, match="Unknown hash_algorithm identifier: 'sha1'"):
        get_file("x", origin="file:///x", file_hash="ab", hash_algorithm="sha1")


def _archive(path, kind, members):
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
    else:
        with tarfile.open(path, "w:gz") as t:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_get_file_extracts(kind, tmp_path, home):
    src = tmp_path / f"pack.{kind}"
    _archive(src, kind, {"top/a.txt": b"A", "top/sub/b.txt": b"B"})
    out = get_file("pack", origin=src.as_uri(), extract=True)
    assert out == str(home / "datasets" / "pack")
    assert open(os.path.join(out, "top", "sub", "b.txt")).read() == "B"
    assert os.path.isfile(str(home / "datasets" / "pack_archive"))
    # A file name with an extension keeps it and extracts to `<stem>_extracted`.
    out = get_file(f"pack.{kind}", origin=src.as_uri(), extract=True, archive_format=kind)
    assert out == str(home / "datasets" / "pack_extracted")
    # `untar=True` is the deprecated spelling of a tar extraction.
    if kind == "tar":
        assert get_file("old", origin=src.as_uri(), untar=True) == str(home / "datasets" / "old")


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_extract_blocks_path_traversal(kind, tmp_path):
    src = tmp_path / "evil"
    _archive(src, kind, {"ok.txt": b"fine", "../escaped.txt": b"bad"})
    with pytest.warns(UserWarning, match="Skipping archive member '../escaped.txt'"):
        assert file_utils.extract_archive(str(src), str(tmp_path / "out"))
    assert (tmp_path / "out" / "ok.txt").read_text() == "fine"
    assert not (tmp_path / "escaped.txt").exists()


def test_extract_blocks_symlink_out(tmp_path):
    src = tmp_path / "links.tar"
    with tarfile.open(src, "w") as t:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        t.addfile(info)
    with pytest.warns(UserWarning, match="Skipping archive member 'link'"):
        file_utils.extract_archive(str(src), str(tmp_path / "out"))
    assert not os.path.lexists(tmp_path / "out" / "link")


def test_extract_unknown_format_and_non_archive(tmp_path):
    src = tmp_path / "plain.txt"
    src.write_text("not an archive")
    assert not file_utils.extract_archive(str(src), str(tmp_path / "o"))
    assert not file_utils.extract_archive(str(src), str(tmp_path / "o"), archive_format=None)
    with pytest.raises(kerax.errors.UnknownIdentifierError, match="Unknown archive_format identifier: 'rar'"):
        file_utils.extract_archive(str(src), str(tmp_path / "o"), archive_format="rar")
    with pytest.warns(UserWarning, match="Could not extract"):
        get_file("plain", origin=src.as_uri(), extract=True)
