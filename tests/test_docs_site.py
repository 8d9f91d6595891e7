"""The documentation site lists what the repository holds: every example script (with its
command) on the Examples page, every notebook (with its Colab badge) on the Notebooks page,
and every guide in the index's table of contents. The build itself runs in CI
(`.ci/run`: Sphinx with warnings as errors)."""

import pathlib
import re

import pytest

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
