"""The seed state of Keras' random layers, kept in the layer's `state` pytree.

As in Keras 3, every built-in layer that draws random numbers (Dropout, the noise layers,
the random image augmentation layers) owns a `SeedGenerator` as an attribute
(`self.seed_generator`, or `self.generator` for the augmentation layers). Its state —
Keras' `seed_generator_state` variable, `uint32[seed, counter]` — lives in the layer's
`variables["state"]` under that attribute name, so it is a non-trainable variable of the
layer (not a weight: `get_weights`, `summary` and weight files leave it out, as Keras does).

A random layer's `forward` calls `draw(layer, state, rng)` once per training call:

- with an `rng` key (`fit`'s compiled step, or a user's `apply(..., rng=key)`), the draw
  uses that key, exactly as before; the counter still advances, as Keras' does at each
  training call (so `layer.seed_generator.state` after `fit` matches Keras');
- without a key (a Keras-style `stateless_call` loop, an eager call `layer(x,
  training=True)`), the draw uses the seed state itself as the key, as Keras' JAX backend
  does: `Dropout(0.5, seed=1)` then draws the same masks as Keras, and the returned state
  makes the next call draw a new one.

The eager shell and `stateless_call` outside `fit` run `apply` inside `implicit_rng()`:
layers with a seed state draw from it, while explicit-style layers without one (a user's
`forward` that reads `rng`) still receive the stand-in key they always did.
"""

import contextlib
import contextvars

import jax
import jax.numpy as jnp

# Whether the `rng` of the running `apply` is a stand-in made by the eager shell or
# `stateless_call` (then a layer with a seed state draws from that state instead).
_IMPLICIT = contextvars.ContextVar("kerax_implicit_rng", default=False)


@contextlib.contextmanager
def implicit_rng(active=True):
    """Marks the `rng` of the `apply` calls inside as a stand-in, not the user's key.

    Example:
    >>> import jax.numpy as jnp
    >>> with implicit_rng():
    ...     key, state = draw(None, {"seed_generator": jnp.array([1, 0], "uint32")},
    ...                       rng=jnp.array([7, 7], "uint32"))
    >>> key.tolist(), state["seed_generator"].tolist()
    ([1, 0], [1, 1])
    """
    token = _IMPLICIT.set(bool(active))
    try:
        yield
    finally:
        _IMPLICIT.reset(token)


def initial(layer):
    """The initial seed states of `layer`'s `SeedGenerator` attributes, for the state its
    `build_variables` returns (`{"seed_generator": uint32[seed, 0]}`, or `{}`).

    Example:
    >>> from kerax.layers import Attention
    >>> initial(Attention(dropout=0.1, seed=3))["seed_generator"].tolist()
    [3, 0]
    """
    return {name: jnp.asarray(g._state, jnp.uint32)
            for name, g in layer.__dict__.get("_seed_generators", {}).items()}


def draw(layer, state, rng, name="seed_generator", count=1):
    """`(key, state)` for one random draw of `layer` in training mode (see the module).

    Args:
        layer: the layer drawing (named in the error).
        state: the layer's own state dict; its seed state is `state[name]` when present.
        rng: the key `apply` received, or None.
        name: the attribute name of the layer's `SeedGenerator`.
        count: how much the counter advances: the number of seeds Keras' layer draws
            from its generator in one call.

    Returns:
        The key to draw with and the state with the counter advanced.

    Raises:
        ValueError: neither a key nor a seed state is available.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> state = {"seed_generator": jnp.array([1, 0], "uint32")}
    >>> key, state = draw(None, state, rng=None)
    >>> key.tolist(), state["seed_generator"].tolist()
    ([1, 0], [1, 1])
    >>> key, state = draw(None, state, rng=jax.random.PRNGKey(5))
    >>> key.tolist(), state["seed_generator"].tolist()
    ([0, 5], [1, 2])
    """
    if name in state:
        seed = jnp.asarray(state[name], jnp.uint32)
        state = {**state, name: seed + jnp.array([0, count], jnp.uint32)}
        if rng is None or _IMPLICIT.get():
            return seed, state
        return rng, state
    if rng is None:
        raise ValueError(
            f"{type(layer).__name__} '{getattr(layer, 'name', layer)}' needs a random key in "
            f"training mode: `apply` received no `rng` and the layer's state has no seed "
            f"state '{name}'. Pass the variables that `init` returned (they hold the seed "
            "state), or a key: `apply(variables, x, training=True, "
            "rng=jax.random.PRNGKey(0))`."
        )
    return rng, state


class Draws:
    """Keras' successive draws from one `SeedGenerator` within one training call.

    Keras' JAX backend draws its i-th random number of a call with the seed state advanced
    by `i` (`SeedGenerator.next()`): `seed + [0, i]`. Layers that must draw what Keras
    draws (the image preprocessing layers that port Keras' `get_random_transformation`)
    call `next()` once per Keras draw, in Keras' order. With an explicit `rng` (`fit`'s
    compiled step, `apply(..., rng=key)`) the i-th draw uses `fold_in(rng, i)` instead.
    `advance(state)` returns the state with the counter moved by the number of draws.

    Example:
    >>> import jax.numpy as jnp
    >>> draws = Draws(None, {"generator": jnp.array([4, 0], "uint32")}, rng=None)
    >>> [draws.next().tolist() for _ in range(2)]
    [[4, 0], [4, 1]]
    >>> draws.advance({"generator": jnp.array([4, 0], "uint32")})["generator"].tolist()
    [4, 2]
    """

    def __init__(self, layer, state, rng, name="generator"):
        self._key, _ = draw(layer, state, rng, name, count=0)
        self._keyed = name not in state or not (rng is None or _IMPLICIT.get())
        self._name = name
        self.count = 0

    def next(self):
        """The key of the next draw."""
        i, self.count = self.count, self.count + 1
        if self._keyed:
            return jax.random.fold_in(self._key, i)
        return self._key + jnp.array([0, i], jnp.uint32)

    def advance(self, state):
        """`state` with its seed counter advanced by the draws made."""
        if self._name not in state:
            return state
        seed = jnp.asarray(state[self._name], jnp.uint32)
        return {**state, self._name: seed + jnp.array([0, self.count], jnp.uint32)}
