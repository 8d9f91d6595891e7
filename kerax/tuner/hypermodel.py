"""`HyperModel`: builds a model from `hp`, and optionally overrides how it is fitted."""

from kerax.tuner import errors


class HyperModel:
    """Subclass and define `build(hp)`; override `fit(hp, model, *args, **kwargs)` to
    tune how the model trains (batch size, preprocessing, a custom loop).

    Example:
    >>> import kerax
    >>> class MyHyperModel(HyperModel):
    ...     def build(self, hp):
    ...         units = hp.Int("units", 4, 16, step=4)
    ...         model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(units)])
    ...         model.compile(optimizer="adam", loss="mse")
    ...         return model
    ...     def fit(self, hp, model, *args, **kwargs):
    ...         return model.fit(*args, batch_size=hp.Choice("batch_size", [8, 16]), **kwargs)
    """

    def __init__(self, name=None, tunable=True):
        self.name = name
        self.tunable = tunable
        self._build = self.build
        self.build = self._build_wrapper

    def build(self, hp):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `build(hp)` and return a compiled model.")

    def _build_wrapper(self, hp, *args, **kwargs):
        if not self.tunable:
            hp = hp.copy()
        return self._build(hp, *args, **kwargs)

    def declare_hyperparameters(self, hp):
        pass

    def fit(self, hp, model, *args, **kwargs):
        """Train `model`; return a `History`, a dict of metrics, or a float."""
        return model.fit(*args, **kwargs)


class DefaultHyperModel(HyperModel):
    """Wraps a plain `build(hp)` function."""

    def __init__(self, build, name=None, tunable=True):
        super().__init__(name=name, tunable=tunable)
        self.build = build


def get_hypermodel(hypermodel):
    if hypermodel is None or isinstance(hypermodel, HyperModel):
        return hypermodel
    if not callable(hypermodel):
        raise errors.FatalValueError(
            "The `hypermodel` argument should be either a callable with signature `build(hp)` "
            f"returning a model, or an instance of `HyperModel`. Received: {hypermodel!r}.")
    return DefaultHyperModel(hypermodel)
