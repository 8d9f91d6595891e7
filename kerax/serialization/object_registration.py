"""Registration of user classes for (de)serialization, as `keras.saving` does it."""

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_CUSTOM_SCOPE_STACK = []


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function so `load_model` can find it by `"package>name"`.

    Example:
    >>> import kerax
    >>> @kerax.saving.register_keras_serializable(package="Doc")
    ... def my_fn(x):
    ...     return x
    >>> kerax.saving.get_registered_name(my_fn)
    'Doc>my_fn'
    """

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if hasattr(obj, "get_config") is False and isinstance(obj, type):
            raise ValueError(
                f"Cannot register {obj.__name__}: a class must define `get_config()`."
            )
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    """The name `obj` was registered under, or its `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks `name` up in the scopes, the given dicts, then the global registry."""
    for scope in reversed(_CUSTOM_SCOPE_STACK):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects():
    """The global dict of registered objects (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes names resolvable while loading.

    Example:
    >>> import kerax
    >>> with kerax.saving.CustomObjectScope({"f": len}):
    ...     kerax.saving.get_registered_object("f") is len
    True
    """

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _CUSTOM_SCOPE_STACK.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _CUSTOM_SCOPE_STACK.pop()


custom_object_scope = CustomObjectScope
