"""Keras 3's learning-rate schedules: pure, jax-traceable functions of the step."""

import math

import jax.numpy as jnp


class LearningRateSchedule:
    """Base class: a serializable function `step -> learning rate`.

    Subclasses implement `__call__(step)` with jax.numpy (so it traces under `jit` and
    inside `optax.inject_hyperparams`) and `get_config()`.

    Example:
    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * 0.5 ** jnp.asarray(step, jnp.float32)
    ...     def get_config(self):
    ...         return {}
    >>> round(float(Halving()(2)), 6)
    0.025
    """

    _keras_module = "keras.optimizers.schedules"

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_steps(arg, value):
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


def _lr_and_step(initial_learning_rate, step):
    lr = jnp.asarray(initial_learning_rate)
    if not jnp.issubdtype(lr.dtype, jnp.floating):
        lr = lr.astype(jnp.float32)
    return lr, jnp.asarray(step).astype(lr.dtype)


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored if staircase).

    Example:
    >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(10)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps, self.decay_rate = decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        lr, step = _lr_and_step(self.initial_learning_rate, step)
        p = step / jnp.asarray(self.decay_steps, lr.dtype)
        if self.staircase:
            p = jnp.floor(p)
        return lr * jnp.power(jnp.asarray(self.decay_rate, lr.dtype), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` for `boundaries[i-1] < step <= boundaries[i]`.

    Example:
    >>> s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [round(float(s(t)), 6) for t in (10, 11, 21)]
    [1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        step = jnp.asarray(step)
        values = [jnp.asarray(v) for v in self.values]
        dtype = values[0].dtype
        bounds = [jnp.asarray(b).astype(step.dtype) for b in self.boundaries]
        result = (step <= bounds[0]).astype(dtype) * values[0]
        result = result + (step > bounds[-1]).astype(dtype) * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1]):
            result = result + ((step > low) & (step <= high)).astype(dtype) * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`.

    Example:
    >>> s = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)
    >>> round(float(s(5)), 6)
    0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = cycle, name

    def __call__(self, step):
        lr, step = _lr_and_step(self.initial_learning_rate, step)
        end = jnp.asarray(self.end_learning_rate, lr.dtype)
        decay_steps = jnp.asarray(self.decay_steps, lr.dtype)
        if self.cycle:
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        p = step / decay_steps
        return (lr - end) * jnp.power(1 - p, jnp.asarray(self.power, lr.dtype)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Example:
    >>> s = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    >>> float(s(1))
    0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps, self.decay_rate = decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        lr, step = _lr_and_step(self.initial_learning_rate, step)
        p = step / jnp.asarray(self.decay_steps, lr.dtype)
        if self.staircase:
            p = jnp.floor(p)
        return lr / (jnp.asarray(1, lr.dtype) + jnp.asarray(self.decay_rate, lr.dtype) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(step, decay_steps, lr, alpha):
    pi = jnp.asarray(math.pi, lr.dtype)
    cosine_decayed = 0.5 * (1.0 + jnp.cos(pi * (step / decay_steps)))
    return lr * ((1 - alpha) * cosine_decayed + alpha)


class CosineDecay(LearningRateSchedule):
    """Cosine decay to `alpha * lr` over `decay_steps`, after an optional linear warmup.

    With `warmup_target`, the rate rises linearly from `initial_learning_rate` to
    `warmup_target` over `warmup_steps`, then decays from `warmup_target`.

    Example:
    >>> s = CosineDecay(1.0, decay_steps=10)
    >>> round(float(s(5)), 6)
    0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        lr, step = _lr_and_step(self.initial_learning_rate, step)
        decay_steps = jnp.asarray(self.decay_steps, lr.dtype)
        if self.warmup_target is None:
            return _cosine(jnp.minimum(step, decay_steps), decay_steps, lr, self.alpha)
        target = jnp.asarray(self.warmup_target, lr.dtype)
        warmup_steps = jnp.asarray(self.warmup_steps, lr.dtype)
        step = jnp.minimum(step, decay_steps + warmup_steps)
        warm = (target - lr) * (step / warmup_steps) + lr
        decay = _cosine(step - warmup_steps, decay_steps, target, self.alpha)
        return jnp.where(step < warmup_steps, warm, decay)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by `t_mul`, peaks by `m_mul`.

    Example:
    >>> s = CosineDecayRestarts(1.0, first_decay_steps=10)
    >>> float(s(0)), round(float(s(10)), 6)
    (1.0, 1.0)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        lr, step = _lr_and_step(self.initial_learning_rate, step)
        dtype = lr.dtype
        alpha = jnp.asarray(self.alpha, dtype)
        t_mul = jnp.asarray(self._t_mul, dtype)
        m_mul = jnp.asarray(self._m_mul, dtype)
        fraction = step / jnp.asarray(self.first_decay_steps, dtype)
        if self._t_mul == 1.0:
            i_restart = jnp.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
            sum_r = (1.0 - jnp.power(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / jnp.power(t_mul, i_restart)
        m_fac = jnp.power(m_mul, i_restart)
        cosine_decayed = 0.5 * m_fac * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        return lr * ((1 - alpha) * cosine_decayed + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}
