"""What a guide cell's golden records of one value it binds (NumPy only: the golden
scripts import it under Keras 3 on TensorFlow, the tests under kerax)."""

import numpy as np


def recorded(value):
    """The JSON-able record of a bound value, or None where nothing is recorded: numbers
    and strings; a `History`'s dict; a layer's weights (and vocabulary); a concrete
    numeric tensor's values, dtype and shape. Symbolic tensors, datasets, generators and
    modules are not recorded.

    >>> recorded(np.arange(3, dtype="int32"))
    {'array': [0, 1, 2], 'dtype': 'int32', 'shape': [3]}
    """
    if isinstance(value, (bool, int, float, str)) or value is None:
        return {"value": value}
    if type(value).__name__ == "History":
        return {"history": {k: [float(v) for v in vs] for k, vs in value.history.items()}}
    if type(value).__name__ == "KerasTensor" or callable(value) and not hasattr(value, "weights"):
        return None
    if hasattr(value, "get_weights") and hasattr(value, "weights"):
        out = {"weights": [np.asarray(w).tolist() for w in value.get_weights()]}
        if hasattr(value, "get_vocabulary"):
            out["vocabulary"] = [v.decode() if isinstance(v, bytes) else str(v)
                                 for v in value.get_vocabulary()]
        return out
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return {"array": array.tolist(), "dtype": str(array.dtype),
                    "shape": list(array.shape)}
    return None
