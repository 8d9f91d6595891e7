"""The conformance registry: one `Case` per public layer, run by `test_conformance.py`.

Each layer family keeps its cases in `tests/layers/registry_<family>.py` as a list named
`CASES`. A case says how to build the layer, what input to feed it, and which generic
checks apply. The generic suite compares with Keras 3 (weights moved with
`get_weights`/`set_weights`), and checks jit, vmap, gradients, abstract init, config round
trip and the wrong-rank error for every case.
"""

import dataclasses
from typing import Any, Callable, Optional

import numpy as np


@dataclasses.dataclass
class Case:
    layer: str                      # class name in kerax.layers (and keras.layers)
    kwargs: dict = dataclasses.field(default_factory=dict)
    input_shape: Any = (2, 4)       # a shape, or a list of shapes for several inputs
    input_dtype: str = "float32"    # "int32" draws integers in [0, int_high)
    int_high: int = 10
    id: Optional[str] = None        # test id suffix when a layer has several cases
    keras_kwargs: Optional[dict] = None   # if Keras needs different constructor args
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    training_parity: bool = True    # also compare with training=True (deterministic layers)
    rtol: float = 1e-4
    atol: float = 1e-5
    grad: bool = True               # check gradients numerically
    vmap: bool = True
    bad_input_shape: Any = None     # an input shape that must raise LayerShapeError
    make_inputs: Optional[Callable] = None  # rng -> list of inputs (overrides shapes)
    skip: tuple = ()                # names of generic checks that do not apply, with reason

    @property
    def test_id(self):
        return self.layer + (f"-{self.id}" if self.id else "")

    def inputs(self, rng):
        if self.make_inputs is not None:
            return list(self.make_inputs(rng))
        shapes = self.input_shape if isinstance(self.input_shape, list) else [self.input_shape]
        out = []
        for shape in shapes:
            if self.input_dtype.startswith("int"):
                out.append(rng.integers(0, self.int_high, size=shape).astype(self.input_dtype))
            else:
                out.append(rng.standard_normal(shape).astype(self.input_dtype))
        return out


# Layers that are not standalone computations and so have no conformance case.
EXEMPT = {"Layer", "InputLayer", "InputSpec", "Input"}
