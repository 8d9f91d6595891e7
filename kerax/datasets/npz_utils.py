"""Safe loading of the datasets' pickled parts: numpy arrays, never arbitrary code.

IMDB and Reuters store ragged sequences as `dtype=object` arrays inside `.npz` files,
and CIFAR's batches are Python pickles. Unpickling can run any callable named in the
file, so these loaders use `RestrictedUnpickler`: it rebuilds numpy arrays and plain
containers (dicts, lists, bytes, numbers) and refuses every other global, so a
tampered file fails to load instead of running code.
"""

import io
import pickle
import zipfile

import numpy as np

_ALLOWED_GLOBALS = frozenset(
    [
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # How protocol-2 pickles written by Python 3 store bytes.
    ]
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and built-in containers.

    Example:
    >>> import io, pickle
    >>> data = pickle.dumps({b"x": np.arange(3)}, protocol=2)
    >>> RestrictedUnpickler(io.BytesIO(data)).load()[b"x"]
    array([0, 1, 2])
    """

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a dataset file: only numpy arrays "
            "and plain containers are allowed. The file may be corrupted or malicious; "
            "delete it from the cache and download it again."
        )


def load_npy(fp):
    """Reads one `.npy` stream; object arrays go through `RestrictedUnpickler`."""
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        fp.seek(0)
        major, _ = np.lib.format.read_magic(fp)
        if major == 1:
            np.lib.format.read_array_header_1_0(fp)
        else:  # 2.0 and 3.0 share the header layout (3.0 only encodes it as UTF-8).
            np.lib.format.read_array_header_2_0(fp)
        return RestrictedUnpickler(fp).load()


def load_npz(path):
    """Loads an `.npz` archive into a dict of arrays without unsafe unpickling.

    Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> ragged = np.array([[1, 2], [3]], dtype=object)
    >>> np.savez(path, x=ragged)
    >>> load_npz(path)["x"][1]
    [3]
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[: -len(".npy")]] = load_npy(io.BytesIO(raw.read()))
    return arrays
