"""The documentation site lists what the repository holds: every example script (with its
command) on the Examples page, every notebook (with its Colab badge) on the Notebooks page,
and every guide in the index's table of contents. The build itself runs in CI
(`.ci/run`: Sphinx with warnings as errors)."""

import pathlib
import re
import types

import numpy as np
import pytest

import kerax

_ROOT = pathlib.Path(__file__).resolve().parents[1]
_DOCS = _ROOT / "docs"


def test_examples_page_lists_every_script_with_its_command():
    page = (_DOCS / "examples.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `([\w-]+\.py)` \|[^|]+\| `(python examples/[^`]+)`", page, re.M)}
    scripts = sorted(p.name for p in (_ROOT / "examples").glob("*.py"))
    assert sorted(rows) == scripts, "docs/examples.md needs one row per examples/*.py"
    for script, command in rows.items():
        assert command.startswith(f"python examples/{script}"), (script, command)


def test_notebooks_page_has_a_colab_badge_per_notebook():
    page = (_DOCS / "notebooks.md").read_text(encoding="utf-8")
    for path in sorted((_ROOT / "notebooks").glob("*.ipynb")):
        assert f"/blob/main/notebooks/{path.name})" in page, path.name


@pytest.mark.parametrize("page", sorted(p.stem for p in _DOCS.glob("*.md") if p.stem != "index"))
def test_every_guide_is_in_the_index(page):
    index = (_DOCS / "index.md").read_text(encoding="utf-8")
    assert re.search(rf"^{page}$", index, re.M), f"add {page} to a toctree in docs/index.md"


# The engine's internals and the bottom serialization package (its public names are
# `kerax.saving`'s) have no page of their own.
_INTERNAL = {"trainer", "serialization"}


def test_every_public_namespace_has_an_api_page():
    # (kerax.__all__, not vars(kerax): a submodule another test imported, e.g. the
    # `python -m kerax.serve` entry point, is an attribute only in that process)
    namespaces = sorted(name for name in kerax.__all__
                        if isinstance(getattr(kerax, name), types.ModuleType)
                        and name not in _INTERNAL)
    index = (_DOCS / "api" / "index.md").read_text(encoding="utf-8")
    missing = [name for name in namespaces
               if not (_DOCS / "api" / f"kerax_{name}.md").exists()
               or not re.search(rf"^kerax_{name}$", index, re.M)]
    assert not missing, f"add docs/api/kerax_<name>.md and list it in docs/api/index.md: {missing}"


# docs/coming_from_keras.md's "Not implemented yet" table, checked against the code: when
# one of these lands, the test fails until the page says so.
_ABSENT = ["quantizers.GPTQConfig",
           "layers.FlaxLayer", "layers.TorchModuleWrapper", "layers.TFSMLayer", "wrappers",
           "distillation", "legacy", "optimizers.legacy", "saving.KerasFileEditor",
           "callbacks.RemoteMonitor", "Variable",
           "Operation", "Function", "StatelessScope", "SymbolicScope"]


def _page(name):
    return (_DOCS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("dotted", _ABSENT)
def test_names_listed_as_missing_are_missing(dotted):
    owner = kerax
    *parents, name = dotted.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    assert f"`keras.{dotted}`" in _page("coming_from_keras.md") or f"`{name}`" in _page(
        "coming_from_keras.md"), f"{dotted} is not in docs/coming_from_keras.md"
    assert not hasattr(owner, name), (
        f"kerax now has {dotted}: update the 'Not implemented yet' table of "
        f"docs/coming_from_keras.md and _ABSENT here")


def _small_model():
    return kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])


_REFUSED = {
    "GPTQ": (NotImplementedError,
             lambda: kerax.dtype_policies.get("gptq/4/128_from_float32")),
    "renorm=True": (NotImplementedError,
                    lambda: kerax.layers.BatchNormalization(renorm=True)),
    "skip_mismatch=True": (NotImplementedError, lambda: _small_model().load_weights(
        "unused.weights.h5", skip_mismatch=True)),
    "input_tensors=": (NotImplementedError, lambda: kerax.models.clone_model(
        _small_model(), input_tensors=[kerax.Input((3,))])),
    "tensor=": (NotImplementedError, lambda: kerax.Input(tensor=1)),
}


@pytest.mark.parametrize("argument", _REFUSED)
def test_arguments_listed_as_refused_are_refused(argument):
    assert argument in _page("coming_from_keras.md")
    error, call = _REFUSED[argument]
    with pytest.raises(error, match="not supported|not implement|does not support|Unsupported"):
        call()


# The layers docs/coming_from_keras.md says take bounding boxes: each does.
_TAKE_BOXES = {"RandomFlip": (), "RandomPerspective": (), "RandomTranslation": (0.2, 0.2),
               "RandomRotation": (0.2,), "RandomZoom": (0.2,), "RandomCrop": (3, 3),
               "RandomShear": (0.2,), "Resizing": (3, 3), "CenterCrop": (3, 3)}


@pytest.mark.parametrize("name", _TAKE_BOXES)
def test_layers_listed_as_taking_boxes_take_them(name):
    assert f"`{name}`" in _page("coming_from_keras.md")
    layer = getattr(kerax.layers, name)(*_TAKE_BOXES[name], bounding_box_format="xyxy")
    out = layer({"images": np.ones((1, 4, 4, 1), "float32"),
                 "bounding_boxes": {"boxes": np.array([[[0.0, 0.0, 2.0, 2.0]]], "float32"),
                                    "labels": np.array([[1]])}})
    assert np.asarray(out["bounding_boxes"]["boxes"]).shape == (1, 1, 4)
