"""One kind of Keras object (activation, initializer, loss, ...) and its name table.

Keras gives each of `activations`, `initializers`, `regularizers`, `constraints`,
`losses`, `metrics`, `optimizers` (and `optimizers.schedules`) the same trio:
`serialize`, `deserialize` and `get`. `ObjectRegistry` is that trio, written once; each
module keeps its documented `serialize`/`deserialize`/`get` functions and delegates here.

Resolution follows Keras 3:

- `deserialize("name")` looks in custom scopes, `custom_objects` and registered objects
  (returning what it finds as it is), then in the module's table (building a class with
  its default arguments).
- `get("name")` looks in the module's table first (as Keras' `get` does), then in the
  registered objects, and builds a class; `get(dict)` deserializes; an object it is given
  is returned when it is accepted (callable, by default), a class being built first
  (except for activations, where a class is itself the callable).
- An unknown name raises `UnknownIdentifierError` (a `ValueError`, as Keras raises)
  naming the kind, the identifier, close matches and how to register a custom object.
"""

import difflib
import inspect

from kerax.errors import UnknownIdentifierError
from kerax.serialization import object_registration, serialization_lib


class ObjectRegistry:
    """The `serialize` / `deserialize` / `get` trio for one kind of Keras object.

    Args:
        kind: what the objects are, as messages name them (`"initializer"`).
        objects: the module's table of built-in names (class names, snake_case aliases,
            function names) to objects.
        default: what `get(None)` returns (`linear` for activations, else None).
        instantiate: whether `get`/`deserialize` build a class found by name or passed
            as a class, with its default arguments (False for activations).
        by_name: whether `serialize` writes a built-in object as its plain name
            (activations: `"relu"`), as Keras does.
        functions: functions by name that serialized function dicts (and, after
            `objects`, plain names given to `deserialize`) resolve to, where a function
            shares its name with an object of `objects` (metrics: `binary_accuracy` is
            both a function and `BinaryAccuracy`'s snake_case name).
        case_insensitive: whether names also match lowercased (optimizers: `"ADAM"`).
        accept: whether `get` may return an object it was given (default: `callable`).
        expected: the end of the "Could not interpret" message: what to pass instead.

    Example:
    >>> import math
    >>> reg = ObjectRegistry("rounding", {"floor": math.floor, "ceil": math.ceil},
    ...                      expected="a name such as 'floor', or a callable")
    >>> reg.get("floor") is math.floor
    True
    >>> reg.serialize(math.floor)["config"]
    'floor'
    >>> reg.get("flor")
    Traceback (most recent call last):
    ...
    kerax.errors.UnknownIdentifierError: Unknown rounding identifier: 'flor'. Did you ...
    """

    def __init__(self, kind, objects, *, default=None, instantiate=True, by_name=False,
                 functions=None, case_insensitive=False, accept=callable,
                 expected="a name or a callable"):
        self.kind = kind
        self.objects = objects
        self.functions = functions or {}
        self.default = default
        self.instantiate = instantiate
        self.by_name = by_name
        self.case_insensitive = case_insensitive
        self.accept = accept
        self.expected = expected

    def serialize(self, obj):
        """Keras 3's serialized form of `obj` (a name for built-ins when `by_name`)."""
        if obj is None:
            obj = self.default
        if self.by_name:
            name = getattr(obj, "__name__", None)
            if name is not None and self.objects.get(name) is obj:
                return name
        return serialization_lib.serialize_keras_object(obj)

    def deserialize(self, config, custom_objects=None):
        """Builds the object a name or a serialized dict describes.

        Raises:
            UnknownIdentifierError: the name (or the dict's class name) is not known.
        """
        if config is None:
            return None
        if isinstance(config, str):
            # As Keras: a custom or registered object comes back as it is; a built-in
            # class named by a string is built with its default arguments.
            obj = object_registration.get_registered_object(config, custom_objects, None)
            if obj is not None:
                return obj
            obj = self._builtin(config)
            if obj is None:
                obj = self.functions.get(config)
            if obj is None:
                raise self.unknown(config)
            return self._built(obj)
        if isinstance(config, dict) and isinstance(config.get("class_name"), str) \
                and self.case_insensitive:
            config = {**config, "class_name": self._canonical(config["class_name"])}
        table = self.objects
        if isinstance(config, dict) and config.get("class_name") == "function":
            table = {**self.objects, **self.functions}
        found = serialization_lib.resolve(config, table, custom_objects)
        if found is None:
            name = config["config"] if config["class_name"] == "function" else \
                config["class_name"]
            raise self.unknown(name)
        return serialization_lib.build(found, config)

    def get(self, identifier):
        """Resolves a name, a config dict, a class or an object, as Keras' `get` does.

        Raises:
            UnknownIdentifierError: for a name that is not known (a `ValueError`).
            ValueError: for anything else that is not accepted.
        """
        if identifier is None:
            return self.default
        if isinstance(identifier, dict):
            obj = self.deserialize(identifier)
        elif isinstance(identifier, str):
            obj = self._builtin(identifier)
            if obj is None:
                obj = object_registration.get_registered_object(identifier)
            if obj is None:
                raise self.unknown(identifier)
            obj = self._built(obj)
        else:
            obj = identifier
        if self.accept(obj):
            return self._built(obj)
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}. Expected "
            f"{self.expected}."
        )

    def check_name(self, name):
        """Raises `UnknownIdentifierError` when `name` resolves to nothing; builds nothing
        (building would take an automatic name, as Keras counts them)."""
        if self._builtin(name) is None \
                and object_registration.get_registered_object(name) is None:
            raise self.unknown(name)

    def unknown(self, name):
        """The `UnknownIdentifierError` for a name nothing resolves."""
        known = sorted(self.objects)
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
        return UnknownIdentifierError(
            f"Unknown {self.kind} identifier: {name!r}.{hint}\nKnown {self.kind} "
            f"identifiers: {', '.join(known)}.\nFor a custom {self.kind}, pass the object "
            "itself, or decorate it with `@kerax.saving.register_keras_serializable()` "
            "(or pass it in `custom_objects`) and use its registered name."
        )

    def _canonical(self, name):
        if name in self.objects or not self.case_insensitive:
            return name
        lowered = {key.lower(): key for key in self.objects}
        return lowered.get(name.lower(), name)

    def _builtin(self, name):
        return self.objects.get(self._canonical(name))

    def _built(self, obj):
        return obj() if inspect.isclass(obj) and self.instantiate else obj
