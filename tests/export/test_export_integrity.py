"""Damaged and hostile `format="jax"` exports: `kerax.export.load` refuses each with an
`ExportCorruptedError` naming the file and the fix; no pickle is loaded and no native code
the file names runs. (Seeded truncations and bit flips: `tests/saving/test_fuzz_files.py`.)

"Resealed" below means `checksums.json` was recomputed over the change, as a tool or an
attacker could: the sha256 manifest no longer helps and the other checks must.
"""

import json
import os
import pickle
import shutil

import jax
import numpy as np
import pytest
from jax import export as jax_export

import kerax
from kerax import layers
from kerax.errors import ExportCorruptedError
from kerax.export import artifact


def reseal(dirpath):
    files = {n: artifact.sha256_of(os.path.join(dirpath, n))
             for n in sorted(os.listdir(dirpath)) if n != artifact.CHECKSUMS_FILE}
    with open(os.path.join(dirpath, artifact.CHECKSUMS_FILE), "w") as f:
        json.dump({"algorithm": "sha256", "files": files}, f)


class _Payload:
    """Unpickling it would create the file `marker`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "m"
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(path, verbose=False)
    return path


@pytest.fixture
def copy(export_dir, tmp_path):
    target = tmp_path / "m"
    shutil.copytree(export_dir, target)
    return target


def _edit_signature(path, edit):
    sig = json.loads((path / "signature.json").read_text())
    edit(sig)
    (path / "signature.json").write_text(json.dumps(sig))
    reseal(path)


def _arrays(path):
    with np.load(path / "variables.npz") as npz:
        return dict(npz)


def test_a_pickle_in_variables_npz_is_never_unpickled(copy, tmp_path):
    marker = tmp_path / "pickle-ran"
    arrays = _arrays(copy)
    arrays["w0"] = np.array([_Payload(str(marker))], dtype=object)
    np.savez(copy / "variables.npz", **arrays)
    reseal(copy)
    with pytest.raises(ExportCorruptedError, match=r"'variables.npz': the array 'w0' .*dtype "
                                                   r"object.*Export the model again"):
        kerax.export.load(copy)
    (copy / "variables.npz").write_bytes(pickle.dumps(_Payload(str(marker))))
    reseal(copy)
    with pytest.raises(ExportCorruptedError, match=r"'variables.npz' is damaged or not "
                                                   r"written by kerax's export"):
        kerax.export.load(copy)
    assert not marker.exists()


def test_a_program_calling_a_python_callback_is_refused_before_it_runs(copy):
    # Plain `jax.export.deserialize(...).call` of this program crashes the process.
    exported = kerax.export.load(copy).serve.exported
    weights = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in exported.in_avals[:2]]
    x = jax.ShapeDtypeStruct(jax_export.symbolic_shape("batch, 3"), "float32")
    target = "xla_ffi_python_cpu_callback"

    def hostile(w, x):
        y = x @ w[1] + w[0]
        return jax.ffi.ffi_call(target, jax.ShapeDtypeStruct(y.shape, y.dtype))(
            y, index=np.uint64(0))

    program = jax_export.export(
        jax.jit(hostile), platforms=["cpu"],
        disabled_checks=[jax_export.DisabledSafetyCheck.custom_call(target)])(weights, x)
    (copy / "serve.jaxexport").write_bytes(program.serialize())
    reseal(copy)
    with pytest.raises(ExportCorruptedError, match=r"endpoint 'serve' \('serve.jaxexport'\) "
                                                   r"calls native code .*"
                                                   r"xla_ffi_python_cpu_callback.*"
                                                   r"Do not load this file"):
        kerax.export.load(copy)


@pytest.mark.parametrize("edit, match", [
    (lambda s: s["endpoints"]["serve"]["inputs"][0].update(shape=[None, 5]),
     r"gives the input 'input_layer\w*' shape \[None, 5\] .* the program has \[None, 3\]"),
    (lambda s: s["weights"].reverse(),
     r"the weight 'w1' has shape \(3, 2\).*the exported program expects \(2,\)"),
    (lambda s: s["weights"].pop(),
     r"signature.json's inputs .* do not match the program's arguments"),
    (lambda s: s["endpoints"].update(path=s["endpoints"]["serve"]),
     r"names the endpoint 'path'; expected a Python identifier .* not one of"),
    (lambda s: s["variable_collections"].update(__class__=[]),
     r"names the variable collection '__class__'"),
    (lambda s: s["endpoints"]["serve"]["outputs"].append(
        s["endpoints"]["serve"]["outputs"][0]), r"lists 2 outputs, the program has 1"),
    (lambda s: s["endpoints"]["serve"]["inputs"][0].pop("name"),
     r"input 0 is .*; expected an object with a \"name\""),
    (lambda s: s.pop("weights"), r"'signature.json' is damaged .*KeyError: 'weights'"),
    (lambda s: s["endpoints"].clear(), r"signature.json lists no endpoint"),
    (lambda s: s.update(format_version=2), r"'signature.json' gives format 'kerax-jax-export' "
                                           r"version 2, expected .* version 1: it is damaged,"
                                           r" or written by a kerax version"),
])
def test_a_resealed_signature_that_disagrees_with_the_files_is_refused(copy, edit, match):
    _edit_signature(copy, edit)
    with pytest.raises(ExportCorruptedError, match=match):
        kerax.export.load(copy)


@pytest.mark.parametrize("content, match", [
    ('{"files": {', r"'checksums.json' is damaged .*JSONDecodeError"),
    ("[1, 2]", r"'checksums.json' holds a JSON list; expected an object"),
    ('{"files": [1]}', r"has no \"files\" object mapping file names to sha256"),
    ("[" * 100_000, r"'checksums.json' is damaged .*RecursionError"),
])
def test_an_unreadable_manifest_is_named(copy, content, match):
    (copy / "checksums.json").write_text(content)
    with pytest.raises(ExportCorruptedError, match=match + r".*Export the model again"):
        kerax.export.load(copy)


def test_missing_and_compressed_weights_are_refused(copy):
    arrays = _arrays(copy)
    np.savez_compressed(copy / "variables.npz", **arrays)
    reseal(copy)
    with pytest.raises(ExportCorruptedError, match=r"the array 'w0' is compressed or claims "
                                                   r"more bytes than the file has"):
        kerax.export.load(copy)
    np.savez(copy / "variables.npz", w0=arrays["w0"])
    reseal(copy)
    with pytest.raises(ExportCorruptedError, match=r"no item named 'w1.npy'"):
        kerax.export.load(copy)
    os.remove(copy / "variables.npz")
    with pytest.raises(ExportCorruptedError, match=r"the file 'variables.npz' listed in "
                                                   r"'checksums.json' is missing"):
        kerax.export.load(copy)


def test_an_extra_file_in_the_directory_is_ignored(copy, export_dir):
    (copy / "notes.txt").write_text("not part of the export")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(kerax.export.load(copy).serve(x),
                                  kerax.export.load(export_dir).serve(x))


def test_integers_that_would_wrap_are_refused(tmp_path):
    model = kerax.Sequential([kerax.Input((2,), dtype="int32"), layers.Embedding(10, 3)])
    model.export(tmp_path / "m", verbose=False)
    serve = kerax.export.load(tmp_path / "m").serve
    assert np.asarray(serve(np.array([[1, 9]], "int64"))).shape == (1, 2, 3)
    with pytest.raises(ValueError, match=r"input 'input_layer.*': the values range from 1 to "
                                         r"1099511627776, outside int32's .* wrap around"):
        serve(np.array([[1, 2**40]], "int64"))


def test_names_that_would_shadow_the_reloaded_attributes_are_refused_at_export():
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    archive = kerax.export.ExportArchive()
    archive.track(model)
    with pytest.raises(ValueError, match=r"the name 'path' is already taken .*Use another"):
        archive.add_endpoint("path", model)
    archive.add_endpoint("serve", model)
    with pytest.raises(ValueError, match=r"the name 'serve' is taken by an endpoint"):
        archive.add_variable_collection("serve", [np.zeros(2)])


def test_load_model_on_an_export_directory_says_to_use_export_load(export_dir):
    with pytest.raises(ValueError, match=r"is a `model.export\(..., format=\"jax\"\)` "
                                         r"artifact .*Reload it with `kerax.export.load"):
        kerax.models.load_model(export_dir)


def test_a_failed_rewrite_keeps_the_previous_export_and_stale_temporaries_go(tmp_path,
                                                                            monkeypatch):
    from kerax.export import export_archive
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    x = np.ones((1, 3), "float32")
    before = np.asarray(kerax.export.load(tmp_path / "m").serve(x))
    real, failed = os.replace, []

    def fail_on_swap(src, dst):  # the new directory's rename fails, once
        if os.fspath(dst) == os.fspath(tmp_path / "m") and not failed:
            failed.append(src)
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(export_archive.os, "replace", fail_on_swap)
    model.layers[0].set_weights([w + 1 for w in model.layers[0].get_weights()])
    with pytest.raises(OSError, match="disk full"):
        model.export(tmp_path / "m", verbose=False)
    monkeypatch.setattr(export_archive.os, "replace", real)
    np.testing.assert_array_equal(kerax.export.load(tmp_path / "m").serve(x), before)
    assert sorted(os.listdir(tmp_path)) == ["m"]  # nothing left behind
    dead = tmp_path / ".m.{}-999999999.abcd1234.tmp".format(export_archive.saving_lib._HOST)
    dead.mkdir()
    (dead / "variables.npz").write_bytes(b"half written")
    model.export(tmp_path / "m", verbose=False)
    assert sorted(os.listdir(tmp_path)) == ["m"]
    assert not np.array_equal(kerax.export.load(tmp_path / "m").serve(x), before)


_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
import numpy as np
import kerax
from kerax.export import export_archive
model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
model.layers[0].set_weights([np.full((3, 2), 7.0, "float32"), np.zeros(2, "float32")])
real = os.replace
def replace(src, dst):  # killed after the previous export moved aside, before the new one
    if os.fspath(dst) == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
export_archive.os.replace = replace
model.export(sys.argv[1], verbose=False)
"""


def test_an_export_killed_between_its_renames_loses_nothing(tmp_path, monkeypatch):
    from kerax.export import export_archive
    import subprocess
    import sys
    path = str(tmp_path / "m")
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(path, verbose=False)
    x = np.ones((1, 3), "float32")
    before = np.asarray(kerax.export.load(path).serve(x))
    run = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_RENAMES, path],
                         capture_output=True, text=True)
    assert run.returncode == -9, run.stderr
    assert not os.path.exists(path)  # the state a kill there leaves
    with pytest.raises(FileNotFoundError, match=r"interrupted while replacing it; the previous "
                                                r"export is intact at '.*\.m\..*\.tmp/previous'"):
        kerax.export.load(path)

    def fail(*args):
        raise RuntimeError("lowering failed")

    monkeypatch.setattr(export_archive, "lower_endpoint", fail)
    with pytest.raises(RuntimeError, match="lowering failed"):
        model.export(path, verbose=False)  # the previous export is put back first
    np.testing.assert_array_equal(kerax.export.load(path).serve(x), before)
    monkeypatch.undo()
    model.export(path, verbose=False)
    assert sorted(os.listdir(tmp_path)) == ["m"]
    np.testing.assert_array_equal(kerax.export.load(path).serve(x), before)


def test_a_missing_export_directory_is_named():
    with pytest.raises(FileNotFoundError, match=r"No export at '/nonexistent/m'\.$"):
        kerax.export.load("/nonexistent/m")
