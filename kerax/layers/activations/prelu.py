import jax
import jax.numpy as jnp

from kerax import constraints, initializers, regularizers
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


class PReLU(Layer):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` otherwise, with `alpha` learned.

    `alpha` has the shape of one example, with length 1 on the `shared_axes`.

    Args:
        alpha_initializer: initializer of `alpha` (default `"Zeros"`).
        alpha_regularizer, alpha_constraint: optional penalty and constraint on `alpha`.
        shared_axes: int or list of ints (1-based, the batch axis is 0) along which
            `alpha` is shared, e.g. `[1, 2]` for one `alpha` per channel of an image.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = PReLU(shared_axes=[1, 2])
    >>> layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4, 4, 3)))["params"]["alpha"].shape
    (1, 1, 3)
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"PReLU '{self.name}': `shared_axes` must name non-batch axes 1.."
                    f"{len(input_shape) - 1}, received shared_axes={self.shared_axes} for "
                    f"input of shape {tuple(input_shape)}."
                )
            shape[axis - 1] = 1
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if i not in (self.shared_axes or ())}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        return {"alpha": self.alpha_initializer(tuple(shape), self.dtype, key=key)}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        return jax.nn.relu(x) - params["alpha"] * jax.nn.relu(-x), state

    @property
    def alpha(self):
        return self._built_view("params", "alpha")

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"alpha": (self.alpha_regularizer, self.alpha_constraint)}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {**super().get_config(),
                "alpha_initializer": ser(self.alpha_initializer),
                "alpha_regularizer": ser(self.alpha_regularizer),
                "alpha_constraint": ser(self.alpha_constraint),
                "shared_axes": self.shared_axes}
