"""`HyperParameters`: the search space and the current values, as keras-tuner 1.4 has them.

Calling `hp.Int(...)` inside a model-building function registers the hyperparameter the
first time and returns its current value (the default until an oracle assigns one).
Conditional hyperparameters (`parent_name`/`parent_values`, `conditional_scope`) are
active only while their parents have one of the given values; an inactive one returns
`None`.
"""

import collections
import contextlib
import copy

from kerax.tuner import hp_types


class HyperParameters:
    """A search space plus one value for each active hyperparameter.

    Example:
    >>> hp = HyperParameters()
    >>> hp.Int("units", 8, 64, step=8)
    8
    >>> hp.Choice("act", ["relu", "tanh"])
    'relu'
    >>> with hp.conditional_scope("act", ["tanh"]):
    ...     hp.Float("scale", 0.1, 1.0) is None
    True
    >>> hp.values
    {'units': 8, 'act': 'relu'}
    """

    def __init__(self):
        self._name_scopes = []
        self._conditions = []
        self._hps = collections.defaultdict(list)
        self._space = []
        self.values = {}
        self.active_scopes = []
        self.inactive_scopes = []

    @contextlib.contextmanager
    def name_scope(self, name):
        """Prefix names registered inside with `name/`."""
        self._name_scopes.append(name)
        try:
            yield
        finally:
            self._name_scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name, parent_values):
        """Hyperparameters registered inside are active only if `parent_name` is in
        `parent_values`."""
        parent_name = self._get_name(parent_name)
        if not self._exists(parent_name):
            raise ValueError(
                f"`HyperParameter` named: {parent_name} not defined. Register the parent "
                f"(e.g. `hp.Choice('{parent_name}', ...)`) before its conditional scope.")
        condition = hp_types.Parent(parent_name, parent_values)
        self._conditions.append(condition)
        scopes = self.active_scopes if condition.is_active(self.values) else self.inactive_scopes
        scopes.append(copy.deepcopy(self._conditions))
        try:
            yield
        finally:
            self._conditions.pop()

    def is_active(self, hyperparameter):
        """Whether a hyperparameter (object or name) is active under the current values."""
        if isinstance(hyperparameter, hp_types.HyperParameter):
            return self._conditions_are_active(hyperparameter.conditions)
        return any(self._conditions_are_active(hp.conditions)
                   for hp in self._hps[str(hyperparameter)])

    def _conditions_are_active(self, conditions):
        return all(c.is_active(self.values) for c in conditions)

    def _exists(self, name, conditions=None):
        conditions = self._conditions if conditions is None else conditions
        return any(hp.conditions == conditions for hp in self._hps.get(name, ()))

    def _retrieve(self, hp):
        if self._exists(hp.name, hp.conditions):
            return self.values[hp.name] if self.is_active(hp) else None
        return self._register(hp)

    def _register(self, hp, overwrite=False):
        for condition in self._conditions:
            if condition.name == hp.name:
                raise ValueError(
                    f"A conditional `HyperParameter` cannot have the same name as its "
                    f"parent. Found: {hp.name} and parent_name: {condition.name}")
        hp = type(hp).from_config(hp.get_config())
        self._hps[hp.name].append(hp)
        self._space.append(hp)
        if not self.is_active(hp):
            return None
        if overwrite or hp.name not in self.values:
            self.values[hp.name] = hp.default
        return self.values[hp.name]

    def get(self, name):
        """The current value of `name`; raises if it is inactive or unknown."""
        name = self._get_name(name)
        if name in self.values:
            return self.values[name]
        if name in self._hps:
            raise ValueError(f"{name} is currently inactive.")
        raise KeyError(f"{name} does not exist.")

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        try:
            self.get(name)
            return True
        except (KeyError, ValueError):
            return False

    def _add(self, hp_class, name, parent_name, parent_values, **kwargs):
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_class(name=self._get_name(name),
                                           conditions=self._conditions, **kwargs))

    def Choice(self, name, values, ordered=None, default=None, parent_name=None,
               parent_values=None):
        """One of `values`; see `kerax.tuner.hp_types.Choice`."""
        return self._add(hp_types.Choice, name, parent_name, parent_values, values=values,
                         ordered=ordered, default=default)

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None,
            parent_name=None, parent_values=None):
        """An integer in `[min_value, max_value]`; see `kerax.tuner.hp_types.Int`."""
        return self._add(hp_types.Int, name, parent_name, parent_values, min_value=min_value,
                         max_value=max_value, step=step, sampling=sampling, default=default)

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None,
              parent_name=None, parent_values=None):
        """A float in `[min_value, max_value]`; see `kerax.tuner.hp_types.Float`."""
        return self._add(hp_types.Float, name, parent_name, parent_values,
                         min_value=min_value, max_value=max_value, step=step,
                         sampling=sampling, default=default)

    def Boolean(self, name, default=False, parent_name=None, parent_values=None):
        """`True` or `False`."""
        return self._add(hp_types.Boolean, name, parent_name, parent_values, default=default)

    def Fixed(self, name, value, parent_name=None, parent_values=None):
        """A constant, recorded with each trial."""
        return self._add(hp_types.Fixed, name, parent_name, parent_values, value=value)

    @property
    def space(self):
        return self._space

    def get_config(self):
        return {"space": [{"class_name": type(p).__name__, "config": p.get_config()}
                          for p in self._space],
                "values": dict(self.values)}

    @classmethod
    def from_config(cls, config):
        hps = cls()
        for entry in config["space"]:
            hp = hp_types.deserialize(entry)
            hps._hps[hp.name].append(hp)
            hps._space.append(hp)
        hps.values = dict(config["values"])
        return hps

    def copy(self):
        return HyperParameters.from_config(self.get_config())

    def merge(self, hps, overwrite=True):
        """Add the hyperparameters of `hps` (a `HyperParameters` or a list)."""
        if isinstance(hps, HyperParameters):
            hps = hps.space
        if not overwrite:
            hps = [hp for hp in hps if not self._exists(hp.name, hp.conditions)]
        for hp in hps:
            self._register(hp, overwrite)

    def ensure_active_values(self):
        """Sample a value for each active hyperparameter without one; drop inactive ones."""
        for hp in self._space:
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.random_sample()
            else:
                self.values.pop(hp.name, None)

    @contextlib.contextmanager
    def _maybe_conditional_scope(self, parent_name, parent_values):
        if parent_name:
            with self.conditional_scope(parent_name, parent_values):
                yield
        else:
            yield

    def _get_name(self, name):
        return "/".join(self._name_scopes) + "/" + str(name) if self._name_scopes else str(name)
