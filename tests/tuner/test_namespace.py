"""`kerax.tuner`'s public names against keras-tuner's."""

import pytest

import kerax.tuner as kt

kt_ref = pytest.importorskip("keras_tuner")

# keras-tuner names kerax.tuner does not have (see docs/tuner.md).
NOT_PROVIDED = {"SklearnTuner", "applications", "engine", "src", "synchronized"}


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def test_public_names_cover_keras_tuners():
    assert _public(kt_ref) - NOT_PROVIDED <= set(kt.__all__)
    assert _public(kt_ref.oracles) == set(kt.oracles.__all__)
    assert _public(kt_ref.tuners) - {"SklearnTuner"} == set(kt.tuners.__all__)
    assert _public(kt_ref.errors) <= _public(kt.errors)
