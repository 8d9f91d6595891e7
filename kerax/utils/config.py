"""`Config`: a dict of named values with attribute access and freezing."""

import copy
import difflib
import json


class Config:
    """A dict-like container of named values, as `keras.utils.Config`.

    Values are read and set as attributes or as items; `freeze()` makes every later
    change raise; `as_dict()` and `to_json()` export it. Iteration gives the keys in
    sorted order, as in Keras.

    Args:
        **kwargs: the initial values.

    Raises:
        ValueError: on a change (set, delete, `pop`, `update`) while frozen.
        AttributeError: when reading an attribute that is not a key.

    Example:
    >>> from kerax.utils import Config
    >>> config = Config(learning_rate=0.1)
    >>> config.momentum = 0.9
    >>> config["seed"] = 1
    >>> config.learning_rate, config["momentum"], sorted(config)
    (0.1, 0.9, ['learning_rate', 'momentum', 'seed'])
    >>> config.freeze()
    >>> config.frozen
    True
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self):
        """Whether the config is frozen."""
        return self._frozen

    def freeze(self):
        """Makes every later change raise a `ValueError`."""
        self._frozen = True

    def unfreeze(self):
        """Allows changes again."""
        self._frozen = False

    def _check_not_frozen(self, what):
        if self._frozen:
            raise ValueError(
                f"Cannot {what}: this Config is frozen. Call `config.unfreeze()` first "
                "to change it."
            )

    def as_dict(self):
        """A shallow copy of the values, as a `dict`."""
        return copy.copy(self._config)

    def to_json(self):
        """The values as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def pop(self, *args):
        self._check_not_frozen(f"pop {args[0]!r}" if args else "pop")
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._check_not_frozen("update")
        return self._config.update(*args, **kwargs)

    def __setattr__(self, name, value):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__setattr__(self, name, value)
        self._check_not_frozen(f"set {name!r}")
        self._config[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        close = difflib.get_close_matches(name, list(config), n=1, cutoff=0.7)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise AttributeError(f"Unknown attribute: '{name}'.{hint}")

    def __setitem__(self, key, item):
        self._check_not_frozen(f"set {key!r}")
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._check_not_frozen(f"delete {key!r}")
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"
