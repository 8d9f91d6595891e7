"""Public names of the merge layers and `Lambda`, for `kerax.layers` to re-export."""

from kerax.layers.core.lambda_layer import Lambda
from kerax.layers.merging.concatenate import Concatenate, concatenate
from kerax.layers.merging.dot import Dot, dot
from kerax.layers.merging.elementwise import (Add, Average, Maximum, Minimum, Multiply,
                                              Subtract, add, average, maximum, minimum,
                                              multiply, subtract)

__all__ = ["Add", "Average", "Concatenate", "Dot", "Lambda", "Maximum", "Minimum", "Multiply",
           "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum",
           "multiply", "subtract"]
