import jax
import jax.numpy as jnp
import numpy as np

import kerax
from tests.layers.conformance import Case


@kerax.saving.register_keras_serializable(package="conformance")
def jax_dense_call(params, inputs):
    return jnp.tanh(inputs @ params["w"] + params["b"])


@kerax.saving.register_keras_serializable(package="conformance")
def jax_dense_init(rng, inputs):
    return {"b": jnp.zeros(3), "w": jax.random.normal(rng, (inputs.shape[-1], 3))}


CASES = [
    Case("JaxLayer", dict(call_fn=jax_dense_call, init_fn=jax_dense_init), (2, 4),
         # Keras' JaxLayer builds through init_fn only with TensorFlow installed
         keras_kwargs=dict(call_fn=jax_dense_call,
                           params={"b": np.zeros(3, "float32"), "w": np.ones((4, 3), "float32")})),
]
