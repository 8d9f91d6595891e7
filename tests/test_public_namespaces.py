"""Public names of kerax's namespaces against Keras 3's: the gaps may only shrink.

`kerax.layers` has its own test (tests/layers/test_public_names.py).
"""

import functools

import pytest

import kerax

# Keras 3 names each kerax namespace does not have yet. Remove a name when it lands; the
# test fails if a listed name exists or a new gap appears.
KNOWN_MISSING = {
    "": {
        "Function", "Operation", "StatelessScope", "SymbolicScope",
        "Variable", "distillation", "legacy",
        "wrappers",
    },
    "applications": set(),
    "utils": {
        "legacy",
    },
    "backend": set(),
    "saving": {"KerasFileEditor"},
    "config": {
        "disable_flash_attention", "enable_flash_attention", "is_flash_attention_enabled",
        "is_nnx_enabled", "set_backend",
    },
    "ops": set(), "ops.nn": set(), "ops.numpy": set(), "ops.image": set(),
    "ops.linalg": set(),
    "random": set(),
    "tree": set(),
    "models": set(),
    "optimizers": {"legacy"},
    "optimizers.schedules": set(),
    "losses": set(),
    "metrics": set(),
    "callbacks": {"RemoteMonitor"},
    "activations": set(),
    "initializers": set(),
    "regularizers": set(),
    "constraints": set(),
    "datasets": set(),
    "distribution": set(),
    "dtype_policies": {
        "AWQDTypePolicy", "DTypePolicyMap", "GPTQDTypePolicy",
    },
    "quantizers": {  # GPTQ and AWQ are not implemented
        "AWQConfig", "GPTQConfig", "fake_quant_with_min_max_vars",
    },
    "mixed_precision": set(),
    "visualization": set(),
}
NOT_API = {"src"}  # Keras' implementation package, not part of its API


def _module(root, path):
    return functools.reduce(getattr, path.split("."), root) if path else root


@pytest.mark.parametrize("namespace", sorted(KNOWN_MISSING))
def test_missing_names_only_shrink(keras, namespace):
    theirs = {n for n in dir(_module(keras, namespace)) if not n.startswith("_")} - NOT_API
    missing = theirs - set(dir(_module(kerax, namespace)))
    label = f"keras.{namespace}" if namespace else "keras"
    known = KNOWN_MISSING[namespace]
    assert not (missing - known), f"{label}: new gaps: {sorted(missing - known)}"
    landed = known - missing
    assert not landed, f"{label}: now present, remove from KNOWN_MISSING: {sorted(landed)}"
