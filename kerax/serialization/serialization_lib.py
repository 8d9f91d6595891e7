"""Keras 3's JSON object format: `{"module", "class_name", "config", "registered_name"}`.

Deserializing looks names up only in kerax's own tables and in objects the user
registered or passed; it never imports a module named in the file.
"""

import inspect
import sys

from kerax.errors import UnsafeModelError
from kerax.serialization import object_registration

# Modules whose functions can run commands, touch files, import or evaluate code. A file
# naming one of them (as `module`, or as a dotted class or function name) is refused in
# safe mode; kerax never imports a module named in a file in any mode.
_DENIED_MODULES = frozenset({
    "builtins", "__builtin__", "os", "posix", "nt", "subprocess", "sys", "shutil",
    "importlib", "pickle", "cPickle", "marshal", "socket", "ctypes", "runpy", "code",
    "codeop", "pty", "io", "pathlib", "tempfile", "urllib", "http", "requests", "eval",
    "exec", "webbrowser", "multiprocessing", "threading", "signal", "types", "inspect",
    "operator", "functools", "glob", "commands", "platform", "asyncio",
})
_UNSAFE_GLOBAL = [False]
_SAFE_MODE_STACK = []


def enable_unsafe_deserialization():
    """Disables safe mode globally (allows `Lambda` bytecode): only for trusted files.

    Example:
    >>> from kerax.serialization import serialization_lib as sl
    >>> sl.enable_unsafe_deserialization(); sl.in_safe_mode()
    False
    >>> sl._UNSAFE_GLOBAL[0] = False  # restore the default for the other examples
    """
    _UNSAFE_GLOBAL[0] = True


def in_safe_mode():
    """Whether deserialization currently refuses code from files (the default: True)."""
    if _SAFE_MODE_STACK:
        return _SAFE_MODE_STACK[-1]
    return not _UNSAFE_GLOBAL[0]


def loading_in_safe_mode():
    """Whether a safe-mode load is running (Keras' `in_safe_mode()` inside `load_model`).

    Keras refuses some file reads a config asks for (a vocabulary file outside the
    archive) only while loading in safe mode, not in user code.

    Example:
    >>> loading_in_safe_mode()
    False
    >>> with SafeModeScope(True):
    ...     loading_in_safe_mode()
    True
    """
    return bool(_SAFE_MODE_STACK) and _SAFE_MODE_STACK[-1]


class SafeModeScope:
    """`with SafeModeScope(False):` allows `Lambda` bytecode while loading a trusted file.

    `safe_mode=None` keeps the current setting; after `enable_unsafe_deserialization()`
    the scope is unsafe whatever it is given, as in Keras.

    Example:
    >>> with SafeModeScope(False):
    ...     in_safe_mode()
    False
    >>> in_safe_mode()
    True
    """

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        # As in Keras, `enable_unsafe_deserialization()` overrides `safe_mode=True`.
        safe = in_safe_mode() if self.safe_mode is None else bool(self.safe_mode)
        _SAFE_MODE_STACK.append(safe and not _UNSAFE_GLOBAL[0])
        return self

    def __exit__(self, *exc):
        _SAFE_MODE_STACK.pop()


def _denied(name):
    if not isinstance(name, str) or not name:
        return False
    root = name.replace(":", ".").split(".")[0]
    return root in _DENIED_MODULES


def check_config_safety(config, where="the file"):
    """Refuses configs that would run code: raises `UnsafeModelError` (in safe mode).

    Checks every nested object dict: a `module` or dotted class/function name in a
    module that can run commands or touch files (`os`, `subprocess`, `builtins`, ...)
    is always refused; a Python lambda (`__lambda__`, marshalled bytecode) is refused
    unless safe mode is off.

    Example:
    >>> check_config_safety({"class_name": "function", "module": "os", "config": "system"})
    Traceback (most recent call last):
    ...
    kerax.errors.UnsafeModelError: ...
    """
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        if "class_name" not in node:
            continue
        names = [node.get("module"), node.get("class_name"), node.get("registered_name")]
        if node.get("class_name") == "function":
            names.append(node.get("config"))
        for name in names:
            if _denied(name) or (isinstance(name, str) and "." in name and
                                 _denied(name.split(".")[0])):
                raise UnsafeModelError(
                    f"Refusing to load {where}: it names {name!r} (module "
                    f"{node.get('module')!r}, class {node.get('class_name')!r}), which can run "
                    "commands or touch files and is never a Keras object. kerax does not "
                    "import modules named in a file; this file may be malicious."
                )
        if node.get("class_name") == "__lambda__" and in_safe_mode():
            raise UnsafeModelError(
                f"Refusing to load {where}: it contains a Python lambda stored as marshalled "
                "bytecode (a `Lambda` layer), and loading it would run that code. Pass "
                "`safe_mode=False` (or call `kerax.config.enable_unsafe_deserialization()`) "
                "only if you trust the source of this file."
            )


def serialize_keras_object(obj):
    """Serializes `obj` into Keras 3's dict format (plain values pass through).

    Example:
    >>> from kerax import initializers
    >>> serialize_keras_object(initializers.Zeros())["class_name"]
    'Zeros'
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        cls = type(obj)
        config = obj.get_config()
        if not isinstance(config, dict):
            raise TypeError(
                f"The `get_config()` method of {obj!r} should return a dict. It returned: "
                f"{config!r}"
            )
        registered = object_registration._GLOBAL_CUSTOM_NAMES.get(cls)
        builtin = cls.__module__.startswith("kerax.") and registered is None
        out = {
            # As Keras: a built-in class is named by its public module and has no
            # registered name; any other class by its own module and registered name.
            "module": getattr(cls, "_keras_module", cls.__module__) if builtin
            else cls.__module__,
            "class_name": cls.__name__,
            "config": _serialize_config(config),
            "registered_name": None if builtin else registered or cls.__name__,
        }
        build = obj.get_build_config() if hasattr(obj, "get_build_config") else None
        if build is not None:
            out["build_config"] = build
        return out
    if callable(obj):
        registered = object_registration._GLOBAL_CUSTOM_NAMES.get(obj)
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": getattr(obj, "__name__", repr(obj)),
            "registered_name": registered or getattr(obj, "__name__", None),
        }
    raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()`.")


def _serialize_config(value):
    """Keras' `serialize_dict` of a `get_config()`: objects inside (a sub-layer stored
    in a custom layer's config, an initializer) become their serialized dicts."""
    if isinstance(value, dict):
        return {k: _serialize_config(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_serialize_config(v) for v in value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        return serialize_keras_object(value)
    if callable(value) and not isinstance(value, type) and hasattr(value, "__name__"):
        return serialize_keras_object(value)  # a function (TextVectorization's standardize)
    return value


# Keras' public modules named in files, and the kerax modules that hold those classes
# (a fixed table: a name read from a file is only looked up in these).
_BUILTIN_MODULES = {
    "keras.layers": "kerax.layers",
    "keras.initializers": "kerax.initializers",
    "keras.regularizers": "kerax.regularizers",
    "keras.constraints": "kerax.constraints",
    "keras.losses": "kerax.losses",
    "keras.metrics": "kerax.metrics",
    "keras.optimizers": "kerax.optimizers",
    "keras.optimizers.schedules": "kerax.optimizers.schedules",
    "keras.random": "kerax.random",
    "keras.quantizers": "kerax.quantizers",
    "keras.dtype_policies": "kerax.dtype_policies",
    "keras.models": "kerax.models",
    "keras.utils": "kerax.utils",
    # (FeatureSpace's own layers: the nodes of a model Keras built on a FeatureSpace)
    "keras.src.layers.preprocessing.feature_space": "kerax.utils.feature_space_features",
    "keras": "kerax",
}


def _builtin_object(module, name):
    """The kerax class or function Keras exports as `module.name`, or None.

    Reads the kerax namespace from `sys.modules` rather than importing it: this package
    sits below every namespace it names, and any `import kerax...` has already loaded
    them all (kerax/__init__.py imports each public namespace).
    """
    target = _BUILTIN_MODULES.get(module)
    if target is None or not isinstance(name, str) or name.startswith("_"):
        return None
    obj = getattr(sys.modules.get(target), name, None)
    return obj if isinstance(obj, type) or callable(obj) else None


def deserialize_keras_object(config, module_objects=None, custom_objects=None, **kwargs):
    """Inverse of `serialize_keras_object`: builds the object named by `config`.

    `module_objects` maps class names to kerax's built-in classes for this kind of object.
    Names are resolved from custom scopes, `custom_objects`, registered objects, then
    `module_objects`; nothing is imported.

    Example:
    >>> from kerax import initializers
    >>> deserialize_keras_object({"class_name": "Constant", "config": {"value": 2.0}},
    ...                          module_objects=initializers.ALL).value
    2.0
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, (list, tuple)):  # element by element, as Keras
        return [deserialize_keras_object(c, module_objects, custom_objects, **kwargs)
                for c in config]
    if isinstance(config, str):
        obj = object_registration.get_registered_object(config, custom_objects, module_objects)
        if obj is None and module_objects is None:
            return config  # a plain string (an optimizer's name in a compile config)
        if obj is None:
            raise ValueError(unknown_message(config))
        return obj
    found = resolve(config, module_objects, custom_objects)
    if found is None:
        raise ValueError(unknown_message(config.get("config") if config.get("class_name")
                                         == "function" else config["class_name"]))
    return build(found, config)


def resolve(config, module_objects=None, custom_objects=None):
    """The class or function a serialized dict names, or None when nothing is known by it.

    Looks in custom scopes, `custom_objects`, registered objects, `module_objects`, then
    Keras' public modules (`"module": "keras.layers"`); never imports anything.

    Raises:
        TypeError: `config` is not a dict with a `"class_name"`.

    Example:
    >>> from kerax import initializers
    >>> resolve({"class_name": "Zeros", "config": {}}, initializers.ALL).__name__
    'Zeros'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"Could not deserialize {config!r}: expected a dict with 'class_name'.")
    class_name = config["class_name"]
    names = (config.get("registered_name"), config.get("config")) if class_name == "function" \
        else (config.get("registered_name"), class_name)
    for name in names:
        if isinstance(name, str) and name:
            found = object_registration.get_registered_object(name, custom_objects, module_objects)
            if found is not None:
                return found
    if class_name == "function":
        return None
    return _builtin_object(config.get("module"), class_name)


def build(found, config):
    """The object `config` describes, given the class or function `resolve` found.

    A function is returned as it is; a class is built with `from_config` (passing the
    current safe mode where it accepts one) and, as Keras does, a serialized built layer
    comes back built.

    Example:
    >>> from kerax import initializers
    >>> build(initializers.Constant, {"class_name": "Constant", "config": {"value": 3.0}}).value
    3.0
    """
    if config.get("class_name") == "function":
        return found
    inner = config.get("config") or {}
    if hasattr(found, "from_config"):
        if _accepts(found.from_config, "safe_mode"):
            obj = found.from_config(inner, safe_mode=in_safe_mode())
        else:
            obj = found.from_config(inner)
    else:
        obj = found(**inner)
    build_config = config.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", True):
        obj.build_from_config(build_config)
    return obj


def _accepts(fn, arg):
    try:
        return arg in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def unknown_message(name):
    """The message for a serialized name that no table, scope or registration knows."""
    return (
        f"Could not locate class or function {name!r}. Make sure custom classes are "
        "decorated with `@kerax.saving.register_keras_serializable()` or passed in "
        "`custom_objects`."
    )
