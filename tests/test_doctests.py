"""Every docstring example in kerax runs and prints what it says (one test per module).

The README's test command runs these with the rest of the suite, so a docstring example
that drifts from the code fails CI. Examples that download data are marked
`# doctest: +SKIP` where they stand.
"""

import doctest
import importlib
import pkgutil

import pytest

import kerax

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules():
    names = [kerax.__name__]
    for info in pkgutil.walk_packages(kerax.__path__, prefix="kerax."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    for test in finder.find(module, name, globs=dict(vars(module))):
        if test.examples and test.filename == getattr(module, "__file__", None):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} failed (above)"
