"""`SeedGenerator`: a random seed whose state is a small array, so it lives in a pytree.

As in Keras 3 (JAX backend), an integer seed `s` is the raw key `uint32[s, 0]`, and each
draw from a generator returns its state and then adds 1 to the second word: kerax and
Keras give the same numbers for the same seeds.

A generator stored as a layer attribute (`self.seed_generator = SeedGenerator(1337)`, as
Keras' Dropout, noise, augmentation and recurrent layers do) keeps its state in that
layer's `variables["state"][attribute]`: a non-trainable variable, not a weight (see
`kerax.layers.seed_state`).
"""

import random as python_random
import weakref

import jax
import jax.numpy as jnp

from kerax.backend import apply_scope as scope_lib
from kerax.backend import random_state
from kerax.backend.array_view import ArrayView, register_view_type
from kerax.backend import naming


def next_seed(state):
    """The pure step of a `SeedGenerator`: `state -> (seed, new_state)`.

    Use it inside `jit`/`apply` on a generator's `state` kept in a state pytree.

    Example:
    >>> seed, state = next_seed(SeedGenerator(3).state)
    >>> seed.tolist(), state.tolist()
    ([3, 0], [3, 1])
    """
    state = jnp.asarray(state, jnp.uint32)
    return state, state + jnp.array([0, 1], jnp.uint32)


def seed_from_int(seed):
    """The raw key Keras uses for the integer `seed`: `uint32[seed, 0]`."""
    return jnp.array([int(seed) & 0xFFFFFFFF, 0], jnp.uint32)


class SeedGenerator:
    """A stateful source of seeds for `kerax.random` functions.

    Args:
        seed: initial integer seed (a random one when None).
        name: optional name.

    Example:
    >>> import kerax
    >>> gen = SeedGenerator(seed=42)
    >>> a = kerax.random.normal((2,), seed=gen)
    >>> b = kerax.random.normal((2,), seed=gen)
    >>> bool((a != b).all())
    True
    """

    _keras_module = "keras.random"

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments to SeedGenerator: {kwargs}")
        self.name = name or naming.auto_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = python_random.randint(1, int(1e9))
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(
                f"SeedGenerator's `seed` must be an integer. Received: seed={seed!r} "
                f"(of type {type(seed).__name__})"
            )
        self._state = seed_from_int(seed)
        self._state_view = _SeedState(self)

    @property
    def state(self):
        """Keras' `seed_generator.state` variable (`uint32[2]`): a view on the current
        state (the running `apply`'s inside a layer's pure call)."""
        return self._state_view

    @state.setter
    def state(self, value):
        self._state_view._write(jnp.asarray(
            value.value if isinstance(value, ArrayView) else value, jnp.uint32))

    def _attach(self, layer, name):
        """Records the layer that holds this generator as `layer.<name>`: outside a trace
        its state is that layer's stored `state[name]` (one source of truth)."""
        self._owner = (weakref.ref(layer), name)

    def _slot(self):
        owned = scope_lib.seed_state_slot(self)
        if owned is not None and owned[1] in owned[0].state:
            return owned
        return None

    def _stored(self):
        """`(layer, name)` when the owning layer is built and stores this state, else None."""
        owner = self.__dict__.get("_owner")
        layer = owner[0]() if owner is not None else None
        if layer is None:
            return None
        tree = layer._own_variables_tree("state")
        return (layer, owner[1]) if tree is not None and owner[1] in tree else None

    def next(self, ordered=True):
        """Returns the current seed and advances the state.

        Inside a layer's `apply`, a generator stored as an attribute of that layer reads
        and advances its state in the layer's state pytree (pure, as in Keras'
        stateless scope); elsewhere it updates `self.state` (for a generator held by a
        built layer, that layer's stored state).
        """
        owned = self._slot()
        if owned is not None:
            sc, name = owned
            if sc.initializing:
                return jnp.asarray(sc.state[name], jnp.uint32)
            seed, sc.state[name] = next_seed(sc.state[name])
            return seed
        seed, state = next_seed(self._state_view.value)
        if isinstance(state, jax.core.Tracer):
            raise ValueError(
                f"SeedGenerator '{self.name}' was drawn from inside a traced function (jit, "
                "grad, scan, or a custom `train_step`) but is not an attribute of a layer "
                "being applied, so its new state would be lost. Store it as an attribute of "
                "the layer or model whose `call` draws from it (`self.seed_generator = "
                "keras.random.SeedGenerator(1337)` in `__init__`), or pass an explicit seed "
                "tensor, e.g. `seed=jax.random.PRNGKey(0)`, threaded through your state."
            )
        self._state_view._write(state)
        return seed

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} state={self._state.tolist()}>"


@register_view_type
class _SeedState(ArrayView):
    """`SeedGenerator.state` as a Keras variable (`seed_generator/seed_generator_state`)."""

    trainable = False

    def __init__(self, generator):
        self._generator = generator
        self._path = ("seed_generator_state",)

    @property
    def path(self):
        return f"{self._generator.name}/seed_generator_state"

    @property
    def value(self):
        owned = self._generator._slot()
        if owned is not None:
            return owned[0].state[owned[1]]
        stored = self._generator._stored()
        if stored is not None:
            return stored[0]._own_variables_tree("state")[stored[1]]
        return self._generator._state

    def _write(self, value):
        owned = self._generator._slot()
        stored = self._generator._stored()
        if owned is not None:
            owned[0].state[owned[1]] = value
        elif stored is not None:  # the layer's stored state (it updates `_state` too)
            stored[0]._assign_own("state", stored[1], jnp.asarray(value, jnp.uint32))
        else:
            self._generator._state = value


def draw_seed(seed):
    """A JAX key from `seed`: an int, a `SeedGenerator`, a JAX key, or None (global source)."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return random_state.next_key()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed_from_int(seed)
    if isinstance(seed, jax.Array):
        return seed
    raise ValueError(
        "`seed` must be an integer, a `kerax.random.SeedGenerator`, a JAX key or None. "
        f"Received: seed={seed!r} (of type {type(seed).__name__})"
    )
