"""`OptaxOptimizer`: any optax transformation, usable where Keras takes an optimizer."""

from kerax.optimizers.base_optimizer import Optimizer


class OptaxOptimizer(Optimizer):
    """Wraps any `optax.GradientTransformation` so `compile` can take it as is.

    Example:
    >>> import optax
    >>> opt = OptaxOptimizer(optax.sgd(0.1))
    >>> opt.name
    'optax_optimizer'
    """

    def __init__(self, transformation, name=None):
        super().__init__(learning_rate=None, name=name or "optax_optimizer")
        self._tx = transformation

    @property
    def tx(self):
        return self._tx

    @property
    def iterations(self):
        return self._raw_iterations

    @property
    def learning_rate(self):
        hs = self._hyper_state()
        if hs is not None and "learning_rate" in hs.hyperparams:
            return hs.hyperparams["learning_rate"]
        return None

    @learning_rate.setter
    def learning_rate(self, value):
        hs = self._hyper_state()
        if hs is None or "learning_rate" not in hs.hyperparams:
            raise TypeError(
                "This optax transformation has no injectable `learning_rate`; wrap it with "
                "`optax.inject_hyperparams` to set the rate from callbacks."
            )
        self._set_learning_rate_in_state(value)

    def get_config(self):
        raise NotImplementedError("An optax transformation cannot be serialized to a config.")
