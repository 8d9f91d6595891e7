"""Pairing a checkpoint's arrays with a model's leaves (`array_reader.alignment`)."""

import pytest

from kerax.checkpoint.array_reader import alignment
from kerax.errors import CheckpointCorruptedError

LIKE = {"p": {"dense_9": {"bias": 0, "kernel": 0}, "dense_10": {"bias": 0, "kernel": 0}}}


def test_auto_generated_numbers_may_differ_consistently():
    saved = [{"name": n} for n in ("p/dense/bias", "p/dense/kernel",
                                   "p/dense_1/bias", "p/dense_1/kernel")]
    # LIKE flattens dense_10 first: it is the second layer, so it takes dense_1's arrays
    assert alignment(saved, LIKE) == [2, 3, 0, 1]


@pytest.mark.parametrize("names", [
    ("p/dense/bias", "p/dense/kernal", "p/dense_1/bias", "p/dense_1/kernel"),  # a letter
    ("p/dense/bias", "p/dense_1/kernel", "p/dense_1/bias", "p/dense_2/kernel"),  # a digit
])
def test_damaged_names_are_refused_not_paired_by_rank(names):
    with pytest.raises(CheckpointCorruptedError, match="do not pair with the model's"):
        alignment([{"name": n} for n in names], LIKE)
