"""Public signatures carry type hints that resolve (the package ships `py.typed`)."""

import importlib.resources
import inspect
import typing

import pytest

import kerax

PUBLIC = [kerax.Model.compile, kerax.Model.fit, kerax.Model.evaluate, kerax.Model.predict,
          kerax.Model.train_on_batch, kerax.Model.test_on_batch, kerax.Model.predict_on_batch,
          kerax.Model.save, kerax.Model.save_weights, kerax.Model.load_weights,
          kerax.Model.export, kerax.layers.Layer.init, kerax.layers.Layer.apply,
          kerax.saving.load_model, kerax.saving.save_model]


@pytest.mark.parametrize("fn", PUBLIC, ids=lambda f: f.__qualname__)
def test_public_signatures_are_annotated_and_resolve(fn):
    hints = typing.get_type_hints(fn)
    assert "return" in hints
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.name != "self" and not p.name.startswith("_")
              and p.kind not in (p.VAR_KEYWORD,)]
    assert all(p.name in hints for p in params), [p.name for p in params if p.name not in hints]


def test_the_package_ships_py_typed():
    assert importlib.resources.files("kerax").joinpath("py.typed").is_file()
