"""The hyperparameter kinds of keras-tuner 1.4: `Int`, `Float`, `Choice`, `Boolean`, `Fixed`.

Each kind maps a cumulative probability in [0, 1) to a value (`prob_to_value`) and back
(`value_to_prob`), exactly as keras-tuner does, so a seeded search samples the same values.
"""

import math
import random


def prob_to_index(prob, n_index):
    """The 0-based bucket of `prob` among `n_index` equal buckets."""
    index = int(math.floor(prob / (1 / n_index)))
    return n_index - 1 if index == n_index else index


def index_to_prob(index, n_index):
    """The centre of bucket `index` among `n_index` equal buckets."""
    return (index + 0.5) * (1 / n_index)


class Parent:
    """Condition: active when hyperparameter `name` has one of `values`."""

    def __init__(self, name, values):
        self.name = name
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        first = values[0]
        if isinstance(first, str):
            values = [str(v) for v in values]
        elif isinstance(first, int) and not isinstance(first, bool):
            values = [int(v) for v in values]
        elif not isinstance(first, (bool, float)):
            raise TypeError(
                f"Can contain only `int`, `float`, `str`, or `bool`, found values: {values} "
                f"with types: {type(first)}")
        self.values = values

    def is_active(self, values):
        return self.name in values and values[self.name] in self.values

    def __eq__(self, other):
        return (isinstance(other, Parent) and other.name == self.name
                and other.values == self.values)

    def get_config(self):
        return {"name": self.name, "values": self.values}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _serialize_condition(condition):
    return {"class_name": "Parent", "config": condition.get_config()}


def _deserialize_condition(config):
    if isinstance(config, Parent):
        return config
    return Parent.from_config(config["config"])


class HyperParameter:
    """Base class: a name, a default and the conditions under which it is active."""

    def __init__(self, name, default=None, conditions=None):
        self.name = name
        self._default = default
        if not conditions:
            conditions = []
        elif not isinstance(conditions, (list, tuple)):
            conditions = [conditions]
        self.conditions = list(conditions)

    @property
    def default(self):
        return self._default

    def random_sample(self, seed=None):
        """A value drawn with `random.Random(seed)`, as keras-tuner draws it."""
        return self.prob_to_value(float(random.Random(seed).random()))

    def get_config(self):
        return {"name": self.name, "default": self.default,
                "conditions": [_serialize_condition(c) for c in self.conditions]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["conditions"] = [_deserialize_condition(c) for c in config["conditions"]]
        return cls(**config)


class Numerical(HyperParameter):
    """A value in `[min_value, max_value]`, sampled linearly, log or reverse-log."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear",
                 default=None, **kwargs):
        super().__init__(name=name, default=default, **kwargs)
        self.max_value = max_value
        self.min_value = min_value
        self.step = step
        self.sampling = (sampling or "linear").lower()
        kind = f"HyperParameters.{type(self).__name__}(name='{name}')"
        if min_value > max_value:
            raise ValueError(
                f"For {kind}, min_value {min_value} is greater than the max_value "
                f"{max_value}.")
        if self.sampling not in ("linear", "log", "reverse_log"):
            raise ValueError(
                f"For {kind}, sampling must be one of {{'linear', 'log', 'reverse_log'}}; "
                f"received sampling='{sampling}'.")
        if self.sampling != "linear" and min_value <= 0:
            raise ValueError(
                f"For {kind}, sampling='{self.sampling}' does not support negative values, "
                f"found min_value: {min_value}.")
        if self.sampling != "linear" and step is not None and step <= 1:
            raise ValueError(
                f"For {kind}, expected step > 1 with sampling='{self.sampling}'. "
                f"Received: step={step}.")

    def _from_prob(self, prob, max_value):
        lo = self.min_value
        if self.sampling == "linear":
            return prob * (max_value - lo) + lo
        if self.sampling == "log":
            return lo * math.pow(max_value / lo, prob)
        return max_value + lo - lo * math.pow(max_value / lo, 1 - prob)

    def _to_prob(self, value, max_value):
        lo = self.min_value
        if max_value == lo:
            return 0.5
        if self.sampling == "linear":
            return (value - lo) / (max_value - lo)
        if self.sampling == "log":
            return math.log(value / lo) / math.log(max_value / lo)
        return 1.0 - math.log((max_value + lo - value) / lo) / math.log(max_value / lo)

    def _n_values(self):
        if self.sampling == "linear":
            return int((self.max_value - self.min_value) // self.step + 1)
        return int(math.log(self.max_value / self.min_value, self.step) + 1e-8) + 1

    def _value_at(self, index):
        lo = self.min_value
        if self.sampling == "linear":
            return lo + index * self.step
        if self.sampling == "log":
            return lo * math.pow(self.step, index)
        return self.max_value + lo - lo * math.pow(self.step, index)

    def _step_prob(self, value):
        lo = self.min_value
        if self.sampling == "linear":
            index = (value - lo) // self.step
        elif self.sampling == "log":
            index = math.log(value / lo, self.step)
        else:
            index = math.log((self.max_value - value + lo) / lo, self.step)
        return index_to_prob(index, self._n_values())

    @property
    def values(self):
        """The grid: every step, or ten bucket centres when there is no step."""
        if self.step is None:
            return tuple({self.prob_to_value(i * 0.1 + 0.05) for i in range(10)})
        return (self._value_at(i) for i in range(self._n_values()))

    def get_config(self):
        config = super().get_config()
        config.update(min_value=self.min_value, max_value=self.max_value, step=self.step,
                      sampling=self.sampling)
        return config


def _check_int(value, arg):
    if int(value) != value:
        raise ValueError(f"{arg} must be an int, Received: {value} of type {type(value)}.")
    return int(value)


class Int(Numerical):
    """An integer in `[min_value, max_value]` (both included).

    Example:
    >>> Int("units", 32, 128, step=32).prob_to_value(0.99)
    128
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear",
                 default=None, **kwargs):
        if step is not None:
            step = _check_int(step, arg="step")
        elif sampling == "linear":
            step = 1
        super().__init__(name=name, min_value=_check_int(min_value, arg="min_value"),
                         max_value=_check_int(max_value, arg="max_value"), step=step,
                         sampling=sampling, default=default, **kwargs)

    def __repr__(self):
        return (f"Int(name: '{self.name}', min_value: {self.min_value}, max_value: "
                f"{self.max_value}, step: {self.step}, sampling: {self.sampling}, "
                f"default: {self.default})")

    @property
    def default(self):
        return self.min_value if self._default is None else self._default

    def prob_to_value(self, prob):
        if self.step is None:
            return int(self._from_prob(prob, self.max_value + 1))
        return int(self._value_at(prob_to_index(prob, self._n_values())))

    def value_to_prob(self, value):
        if self.step is None:
            return self._to_prob(value + 0.5, self.max_value + 1)
        return self._step_prob(value)

    def get_config(self):
        config = super().get_config()
        config["default"] = self._default
        return config


class Float(Numerical):
    """A float in `[min_value, max_value]`; `step` makes it a grid.

    Example:
    >>> Float("lr", 1e-4, 1e-2, sampling="log").prob_to_value(0.5)
    0.001
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear",
                 default=None, **kwargs):
        super().__init__(name=name, min_value=float(min_value), max_value=float(max_value),
                         step=step, sampling=sampling,
                         default=default, **kwargs)

    def __repr__(self):
        return (f"Float(name: '{self.name}', min_value: '{self.min_value}', max_value: "
                f"'{self.max_value}', step: '{self.step}', sampling: '{self.sampling}', "
                f"default: '{self.default}')")

    @property
    def default(self):
        return self.min_value if self._default is None else self._default

    def prob_to_value(self, prob):
        if self.step is None:
            return self._from_prob(prob, self.max_value)
        return self._value_at(prob_to_index(prob, self._n_values()))

    def value_to_prob(self, value):
        if self.step is None:
            return self._to_prob(value, self.max_value)
        return self._step_prob(value)


class Choice(HyperParameter):
    """One of `values` (all `int`, all `float`, all `str` or all `bool`).

    Example:
    >>> Choice("act", ["relu", "tanh"]).default
    'relu'
    """

    def __init__(self, name, values, ordered=None, default=None, **kwargs):
        super().__init__(name=name, default=default, **kwargs)
        if not values:
            raise ValueError("`values` must be provided for `Choice`.")
        types = {type(v) for v in values}
        if len(types) > 1:
            raise TypeError(
                f"A `Choice` can contain only one type of value, found values: {values} "
                f"with types {types}.")
        first = values[0]
        if isinstance(first, str):
            values = [str(v) for v in values]
            default = None if default is None else str(default)
        elif isinstance(first, int) and not isinstance(first, bool):
            values = [int(v) for v in values]
            default = None if default is None else int(default)
        elif not isinstance(first, (bool, float)):
            raise TypeError(
                f"A `Choice` can contain only `int`, `float`, `str`, or `bool`, found "
                f"values: {values} with types: {type(first)}")
        if default is not None and default not in values:
            raise ValueError(
                f"The default value should be one of the choices. You passed: "
                f"values={values}, default={default}")
        self._values = list(values)
        self._default = default
        numeric = isinstance(first, (int, float)) and not isinstance(first, bool)
        if ordered and not numeric:
            raise ValueError("`ordered` must be `False` for non-numeric types.")
        self.ordered = numeric if ordered is None else ordered

    def __repr__(self):
        return (f"Choice(name: '{self.name}', values: {self._values}, ordered: "
                f"{self.ordered}, default: {self.default})")

    @property
    def values(self):
        return self._values

    @property
    def default(self):
        return self._values[0] if self._default is None else self._default

    def prob_to_value(self, prob):
        return self._values[prob_to_index(prob, len(self._values))]

    def value_to_prob(self, value):
        return index_to_prob(self._values.index(value), len(self._values))

    def get_config(self):
        config = super().get_config()
        config.update(values=self._values, ordered=self.ordered)
        return config


class Boolean(HyperParameter):
    """`True` or `False`.

    Example:
    >>> Boolean("shuffle").prob_to_value(0.7)
    True
    """

    def __init__(self, name, default=False, **kwargs):
        super().__init__(name=name, default=default, **kwargs)
        if default not in (True, False):
            raise ValueError(f"`default` must be a Python boolean. You passed: default={default}")

    def __repr__(self):
        return f'Boolean(name: "{self.name}", default: {self.default})'

    @property
    def values(self):
        return (True, False)

    def prob_to_value(self, prob):
        return bool(prob >= 0.5)

    def value_to_prob(self, value):
        return 0.75 if value else 0.25


class Fixed(HyperParameter):
    """A constant that is recorded with the trial.

    Example:
    >>> Fixed("epochs", 3).values
    (3,)
    """

    def __init__(self, name, value, **kwargs):
        super().__init__(name=name, default=value, **kwargs)
        if isinstance(value, bool):
            value = bool(value)
        elif isinstance(value, int):
            value = int(value)
        elif not isinstance(value, (float, str)):
            raise ValueError(
                f"`Fixed` value must be an `int`, `float`, `str`, or `bool`, found {value}")
        self.value = value

    def __repr__(self):
        return f"Fixed(name: {self.name}, value: {self.value})"

    @property
    def values(self):
        return (self.value,)

    @property
    def default(self):
        return self.value

    def prob_to_value(self, prob):
        return self.value

    def value_to_prob(self, value):
        return 0.5

    def get_config(self):
        config = super().get_config()
        config.pop("default")
        config["value"] = self.value
        return config


ALL_TYPES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


def deserialize(config):
    """A hyperparameter from `{"class_name": ..., "config": ...}`."""
    if config["class_name"] not in ALL_TYPES:
        raise ValueError(
            f"Unknown hyperparameter class '{config['class_name']}'; expected one of "
            f"{sorted(ALL_TYPES)}.")
    return ALL_TYPES[config["class_name"]].from_config(config["config"])
