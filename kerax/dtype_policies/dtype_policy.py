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
    def quantization_mode(self):
        """The quantization mode (`"int8"`, `"float8"`), None for a float policy."""
        return None

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

# Keras 3's quantized policies: "int8_from_float32", "float8_from_mixed_bfloat16", ...;
# kerax implements int8, int4 and float8 ("gptq" and "awq" are refused).
QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")


class QuantizedDTypePolicy(DTypePolicy):
    """The policy of a quantized layer (`keras.dtype_policies.QuantizedDTypePolicy`): its
    float `source_name` policy plus the quantization `mode`.

    Args:
        mode: `"int8"` (or `"float8"`, see `QuantizedFloat8DTypePolicy`).
        source_name: the float policy the layer had (None: the global policy).

    Example:
    >>> policy = QuantizedDTypePolicy("int8", "mixed_bfloat16")
    >>> policy.name, policy.quantization_mode, policy.compute_dtype
    ('int8_from_mixed_bfloat16', 'int8', 'bfloat16')
    """

    _keras_module = "keras.dtype_policies"

    def __init__(self, mode, source_name=None):
        source_name = source_name or dtype_policy().name
        source = DTypePolicy(source_name)
        if mode not in QUANTIZATION_MODES:
            raise ValueError(f"Invalid quantization mode. Expected one of "
                             f"{QUANTIZATION_MODES}. Received: mode={mode}")
        _check_implemented(mode)
        if mode == "int8" and source.compute_dtype == "float16":
            raise ValueError(f"Quantization mode='{mode}' doesn't work well with "
                             "compute_dtype='float16'.")
        self._name = f"{mode}_from_{source_name}"
        self._compute_dtype, self._variable_dtype = source.compute_dtype, source.variable_dtype
        self._source_name, self._quantization_mode = source_name, mode

    @property
    def quantization_mode(self):
        return self._quantization_mode

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<{type(self).__name__} "{self._name}">'


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """The policy of a float8-quantized layer; `amax_history_length` is the length of its
    scaling history (`keras.dtype_policies.QuantizedFloat8DTypePolicy`).

    Example:
    >>> QuantizedFloat8DTypePolicy("float8", "float32").get_config()
    {'mode': 'float8', 'source_name': 'float32', 'amax_history_length': 1024}
    """

    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode=mode, source_name=source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError("`amax_history_length` must be an integer. "
                            f"Received: amax_history_length={amax_history_length}")
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self):
        return self._amax_history_length

    def get_config(self):
        return {**super().get_config(), "amax_history_length": self._amax_history_length}


class Int4DTypePolicy(QuantizedDTypePolicy):
    """The policy of an int4-quantized layer (`keras.dtype_policies.Int4DTypePolicy`):
    `mode` is `"int4/<block_size>"`, -1 for per-channel scales, a positive block size for
    sub-channel groups.

    Example:
    >>> policy = Int4DTypePolicy("int4/128", "float32")
    >>> policy.name, policy.quantization_mode, policy.block_size, policy.get_config()
    ('int4/128_from_float32', 'int4', 128, {'mode': 'int4/128', 'source_name': 'float32'})
    """

    def __init__(self, mode, source_name=None):
        parts = mode.split("/")
        expected = "'int4/<block_size>'"
        if len(parts) != 2 or parts[0] != "int4":
            raise ValueError(f"Invalid mode for Int4DTypePolicy. Expected format {expected}, "
                             f"but got '{mode}'.")
        try:
            block_size = int(parts[1])
        except ValueError:
            raise ValueError("Invalid mode for Int4DTypePolicy. <block_size> must be an "
                             f"integer. Expected format {expected}, but got '{mode}'.") from None
        if block_size < -1 or block_size == 0:
            raise ValueError("Invalid block_size in mode. Supported values are -1 "
                             "(per-channel) or a positive integer (sub-channel), but got "
                             f"{block_size} from '{mode}'.")
        super().__init__(mode="int4", source_name=source_name)
        self._name = f"{mode}_from_{self._source_name}"
        self.mode, self.block_size = "int4", block_size

    def get_config(self):
        return {**super().get_config(), "mode": f"{self.mode}/{self.block_size}"}


def _check_implemented(mode):
    if mode.split("/")[0] not in ("int8", "float8", "int4"):
        raise NotImplementedError(
            f"kerax does not implement the {mode!r} quantization mode (Keras' GPTQ and AWQ "
            "policies); it quantizes to 'int8', 'int4' and 'float8'. Use a float policy "
            "such as 'float32', or quantize the float model with `model.quantize('int8')`."
        )


def _quantized_by_name(name):
    mode, sep, source_name = name.partition("_from_")
    if not sep or not source_name:
        raise ValueError("Cannot convert `policy` into a valid pair (`mode`, `source_name`) "
                         f"to instantiate `QuantizedDTypePolicy`. Received: policy={name}")
    _check_implemented(mode)
    return _class_for_mode(mode)(mode, source_name)


def _class_for_mode(mode):
    """The policy class of a quantized mode (Keras': `"int4/128"` is an Int4DTypePolicy,
    a bare `"int4"` a QuantizedDTypePolicy)."""
    if mode == "float8":
        return QuantizedFloat8DTypePolicy
    if mode.startswith("int4/"):
        return Int4DTypePolicy
    return QuantizedDTypePolicy


_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": DTypePolicy,
            "QuantizedDTypePolicy": QuantizedDTypePolicy,
            "QuantizedFloat8DTypePolicy": QuantizedFloat8DTypePolicy,
            "Int4DTypePolicy": Int4DTypePolicy}


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
        if "mode" in config:  # a quantized policy's config
            _check_implemented(config["mode"])
            cls = _CLASSES.get(identifier.get("class_name"), QuantizedDTypePolicy)
            if config["mode"] == "float8" or config["mode"].startswith("int4/"):
                cls = _class_for_mode(config["mode"])
            return cls(**config)
        return DTypePolicy.from_config(config)
    if isinstance(identifier, str):
        if identifier.startswith(QUANTIZATION_MODES):  # as Keras: "int8..." is quantized
            return _quantized_by_name(identifier)
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(jnp.dtype(identifier).name)
    except TypeError:
        raise ValueError(f"Cannot interpret {identifier!r} as a dtype policy.") from None


def serialize(policy):
    """A policy as Keras' serialized dict.

    Example:
    >>> serialize(get("int8_from_float32"))["class_name"]
    'QuantizedDTypePolicy'
    """
    if isinstance(policy, QuantizedDTypePolicy):
        return {"module": "keras.dtype_policies", "class_name": type(policy).__name__,
                "config": policy.get_config(), "registered_name": None}
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
