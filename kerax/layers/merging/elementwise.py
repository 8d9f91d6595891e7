"""Element-wise merge layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`.

Each takes a list of tensors that broadcast together and returns one tensor; the function
forms (`add([a, b])`, ...) build the layer and call it.
"""

import functools

import jax.numpy as jnp

from kerax.layers.merging.base_merge import Merge


class Add(Merge):
    """Adds a list of inputs element-wise.

    Example:
    >>> import numpy as np
    >>> Add()([np.ones((2, 3)), np.ones((2, 3))]).tolist()[0]
    [2.0, 2.0, 2.0]
    """

    def merge(self, xs):
        return functools.reduce(jnp.add, xs)


class Subtract(Merge):
    """Subtracts two inputs: `inputs[0] - inputs[1]`.

    Example:
    >>> import numpy as np
    >>> Subtract()([np.full((1, 2), 3.0), np.ones((1, 2))]).tolist()
    [[2.0, 2.0]]
    """

    min_inputs = 2

    def _check(self, shapes):
        if len(shapes) != 2:
            raise ValueError(
                f"Subtract '{self.name}' should be called on exactly 2 inputs. Received "
                f"{len(shapes)} input(s) with shapes {[tuple(s) for s in shapes]}."
            )

    def merge(self, xs):
        return xs[0] - xs[1]


class Multiply(Merge):
    """Multiplies a list of inputs element-wise.

    Example:
    >>> import numpy as np
    >>> Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).tolist()
    [[6.0, 6.0]]
    """

    def merge(self, xs):
        return functools.reduce(jnp.multiply, xs)


class Average(Merge):
    """Averages a list of inputs element-wise.

    Example:
    >>> import numpy as np
    >>> Average()([np.zeros((1, 2)), np.full((1, 2), 2.0)]).tolist()
    [[1.0, 1.0]]
    """

    def merge(self, xs):
        return functools.reduce(jnp.add, xs) / len(xs)


class Maximum(Merge):
    """The element-wise maximum of a list of inputs.

    Example:
    >>> import numpy as np
    >>> Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[3.0, 5.0]]
    """

    def merge(self, xs):
        return functools.reduce(jnp.maximum, xs)


class Minimum(Merge):
    """The element-wise minimum of a list of inputs.

    Example:
    >>> import numpy as np
    >>> Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[1.0, 2.0]]
    """

    def merge(self, xs):
        return functools.reduce(jnp.minimum, xs)


def _functional(cls):
    def fn(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Functional form of `{cls.__name__}`: `{cls.__name__}(**kwargs)(inputs)`."
    return fn


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)
