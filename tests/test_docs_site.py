"""The documentation site lists what the repository holds: every example script (with its
command) on the Examples page, every notebook (with its Colab badge) on the Notebooks page,
and every guide in the index's table of contents. The build itself runs in CI
(`.ci/run`: Sphinx with warnings as errors)."""

import pathlib
import re
import types

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
    namespaces = sorted(name for name, value in vars(kerax).items()
                        if isinstance(value, types.ModuleType) and not name.startswith("_")
                        and name not in _INTERNAL)
    index = (_DOCS / "api" / "index.md").read_text(encoding="utf-8")
    missing = [name for name in namespaces
               if not (_DOCS / "api" / f"kerax_{name}.md").exists()
               or not re.search(rf"^kerax_{name}$", index, re.M)]
    assert not missing, f"add docs/api/kerax_<name>.md and list it in docs/api/index.md: {missing}"
