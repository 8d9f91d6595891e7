"""Dtype policies: the dtype a layer stores its variables in and the one it computes in.

`"mixed_bfloat16"` keeps variables in float32 and computes in bfloat16; `"mixed_float16"`
likewise with float16 (and `compile` then wraps the optimizer in a `LossScaleOptimizer`,
as Keras does). A policy is applied around a layer's pure `apply` — floating inputs and
params are cast to the compute dtype — not by branches inside each layer.
"""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.backend import global_state

_GLOBAL = {"policy": None}


class DTypePolicy:
    """A dtype policy, as `keras.DTypePolicy`.

    Args:
        name: `"float32"`, `"bfloat16"`, `"mixed_bfloat16"`, `"mixed_float16"`, ... (None:
            `floatx()`).

    Example:
    >>> policy = DTypePolicy("mixed_bfloat16")
    >>> policy.compute_dtype, policy.variable_dtype
    ('bfloat16', 'float32')
    """

    _keras_module = "keras"

    def __init__(self, name=None):
        name = name or _config.floatx()
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string, e.g. 'mixed_bfloat16'. Received: {name!r}")
        if "_from_" in name:
            _refuse_quantized(name)
        if name in ("mixed_float16", "mixed_bfloat16"):
            compute, variable = name.split("_")[1], "float32"
        else:
            try:
                compute = variable = jnp.dtype(name).name
            except TypeError:
                raise ValueError(
                    f"Cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies "
                    "include 'mixed_float16', 'mixed_bfloat16', and the name of any float "
                    "dtype such as 'float32'."
                ) from None
        self._name, self._compute_dtype, self._variable_dtype = name, compute, variable

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._compute_dtype

    @property
    def variable_dtype(self):
        return self._variable_dtype

    @property
    def is_mixed(self):
        return self._compute_dtype != self._variable_dtype

    def convert_input(self, x, autocast=True):
        """Casts a floating input to the compute dtype (other inputs pass through)."""
        if autocast and hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating) \
                and x.dtype != jnp.dtype(self._compute_dtype):
            return jnp.asarray(x).astype(self._compute_dtype)
        return x

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy

# Keras 3's quantized policies: "int8_from_float32", "int4_from_mixed_bfloat16",
# "float8_from_float32", "gptq/4/128_from_float32", "awq/...", and their configs.
_QUANTIZATION_MODES = ("int8", "int4", "float8", "gptq", "awq")


def _refuse_quantized(name):
    mode = name.split("/")[0].split("_from_")[0]
    if mode in _QUANTIZATION_MODES:
        raise NotImplementedError(
            f"kerax does not implement quantized dtype policies (Keras' QuantizedDTypePolicy); "
            f"received dtype={name!r}. Use a float policy such as 'float32' or "
            "'mixed_bfloat16'."
        )


def get(identifier):
    """A `DTypePolicy` from a name, a policy, a config dict, or None (the global policy).

    Example:
    >>> get("mixed_bfloat16").compute_dtype
    'bfloat16'
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        config = identifier.get("config", identifier)
        if "mode" in config:  # a QuantizedDTypePolicy's config
            _refuse_quantized(f"{config['mode']}_from_{config.get('source_name')}")
        return DTypePolicy.from_config(config)
    if isinstance(identifier, str):
        _refuse_quantized(identifier)  # as Keras' `get`, "int8" alone means quantization
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(jnp.dtype(identifier).name)
    except TypeError:
        raise ValueError(f"Cannot interpret {identifier!r} as a dtype policy.") from None


def serialize(policy):
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    return get(config)


def set_dtype_policy(policy):
    """Sets the global dtype policy (`None` resets it to `floatx()`).

    Example:
    >>> set_dtype_policy("mixed_bfloat16")
    >>> dtype_policy().name
    'mixed_bfloat16'
    >>> set_dtype_policy(None)
    """
    _GLOBAL["policy"] = None if policy is None else get(policy)


global_state.register_reset(lambda: set_dtype_policy(None))


def dtype_policy():
    """The global dtype policy (default: `floatx()`)."""
    return _GLOBAL["policy"] or DTypePolicy(_config.floatx())


set_global_policy = set_dtype_policy
global_policy = dtype_policy
