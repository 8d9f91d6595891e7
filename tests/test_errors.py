"""kerax's error classes are caught by the same `except` clauses as Keras 3's errors."""

import numpy as np
import pytest

import kerax
from kerax.errors import NotCompiledError


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_uncompiled_model_raises_value_error_like_keras(keras, method):
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    caught = []
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1)])
        with pytest.raises(ValueError, match="compile") as info:
            getattr(model, method)(x, y)
        caught.append(info.value)
    assert isinstance(caught[1], NotCompiledError)
    assert isinstance(caught[1], RuntimeError)
