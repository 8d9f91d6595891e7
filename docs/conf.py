"""Sphinx configuration of kerax's documentation site.

Sphinx, because it is what JAX, Flax, Optax, Orbax and chex document themselves with, so a
JAX user finds the same layout, search and cross-references here; Markdown pages through
myst-parser, the API reference from the docstrings through autodoc + napoleon (Google
style). Build: `python -m sphinx -W --keep-going -b html docs docs/_build/html` (CI runs
it with warnings as errors, so a broken reference fails the build).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import kerax  # noqa: E402

project = "kerax"
author = "the kerax authors"
release = version = kerax.__version__
copyright = "2026, the kerax authors"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
master_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_default_options = {"members": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # signatures show Keras' arguments; types live in the docstrings
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "sphinx_book_theme"
html_title = "kerax"
html_theme_options = {"show_toc_level": 2}
napoleon_custom_sections = [("Call arguments", "params_style"), ("Input shape", "notes_style"),
                            ("Output shape", "notes_style")]


def _separate_doctests(app, what, name, obj, options, lines):
    """kerax's docstrings write `Example:` directly above `>>>` (what doctest reads);
    reStructuredText needs a blank line before a doctest block."""
    for i in range(len(lines) - 1, 0, -1):
        line, above = lines[i].lstrip(), lines[i - 1].strip()
        if line.startswith(">>>") and above and not above.startswith((">>>", "...")):
            lines.insert(i, "")


def _join_name_lists(app, what, name, obj, options, lines):
    """An `Args:` entry may list several names over two lines (`kernel_initializer,
    bias_initializer,` / `    kernel_constraint: as in Dense.`): napoleon reads one line."""
    i = 0
    while i < len(lines) - 1:
        line, nxt = lines[i], lines[i + 1]
        indent = len(line) - len(line.lstrip())
        if (line.rstrip().endswith(",") and ":" not in line and nxt.strip()
                and len(nxt) - len(nxt.lstrip()) >= indent
                and (": " in nxt or nxt.rstrip().endswith(","))):
            lines[i] = line.rstrip() + " " + nxt.strip()
            del lines[i + 1]
        else:
            i += 1


def setup(app):
    app.connect("autodoc-process-docstring", _join_name_lists, priority=400)  # before napoleon
    app.connect("autodoc-process-docstring", _separate_doctests)
