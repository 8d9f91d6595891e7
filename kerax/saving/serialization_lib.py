"""Keras 3's JSON object format: `{"module", "class_name", "config", "registered_name"}`.

Deserializing looks names up only in kerax's own tables and in objects the user
registered or passed; it never imports a module named in the file.
"""

from kerax.saving import object_registration


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
        registered = object_registration._GLOBAL_CUSTOM_NAMES.get(cls)
        return {
            "module": getattr(cls, "_keras_module", cls.__module__),
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": registered or cls.__name__,
        }
    if callable(obj):
        registered = object_registration._GLOBAL_CUSTOM_NAMES.get(obj)
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": getattr(obj, "__name__", repr(obj)),
            "registered_name": registered or getattr(obj, "__name__", None),
        }
    raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()`.")


def deserialize_keras_object(config, module_objects=None, custom_objects=None, **kwargs):
    """Inverse of `serialize_keras_object`: builds the object named by `config`.

    `module_objects` maps class names to kerax's built-in classes for this kind of object.
    Names are resolved from custom scopes, `custom_objects`, registered objects, then
    `module_objects`; nothing is imported.
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        obj = object_registration.get_registered_object(config, custom_objects, module_objects)
        if obj is None:
            raise ValueError(_unknown(config, module_objects))
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"Could not deserialize {config!r}: expected a dict with 'class_name'.")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "function":
        name = config.get("registered_name") or inner
        fn = object_registration.get_registered_object(name, custom_objects, module_objects)
        if fn is None:
            fn = object_registration.get_registered_object(inner, custom_objects, module_objects)
        if fn is None:
            raise ValueError(_unknown(inner, module_objects))
        return fn
    cls = None
    registered = config.get("registered_name")
    if registered:
        cls = object_registration.get_registered_object(registered, custom_objects, module_objects)
    if cls is None:
        cls = object_registration.get_registered_object(class_name, custom_objects, module_objects)
    if cls is None:
        raise ValueError(_unknown(class_name, module_objects))
    if hasattr(cls, "from_config"):
        return cls.from_config(inner or {})
    return cls(**(inner or {}))


def _unknown(name, module_objects):
    return (
        f"Could not locate class or function {name!r}. Make sure custom classes are "
        "decorated with `@kerax.saving.register_keras_serializable()` or passed in "
        "`custom_objects`."
    )
