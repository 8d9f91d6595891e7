"""`TrainStateMixin`: the model's live train state between executions.

`fit` assembles a `TrainState` from the model (variables, the optimizer's state, the RNG
key, the step) before an epoch and stores it back after every execution, so callbacks,
checkpoints and `model.variables` see the current numbers. Storing the variables replaces
one reference (`live_variables.store`): every layer reads its part of them through its
link, lazily, and a weight a callback writes between executions is read back into the
train state for the next one. `train_rng` / `set_train_rng` are the API other kerax
packages (checkpoints) use for the RNG key.
"""

import jax
import numpy as np

from kerax.backend import random_state
from kerax.distribution import placement
from kerax.layers import live_variables
from kerax.trainer import custom_steps
from kerax.trainer import stateless
from kerax.trainer import steps as steps_lib
from kerax.trainer.pytrees import all_layers, signature, unalias
from kerax.trainer.train_state import TrainState


def train_rng(model):
    """The key `fit`'s steps draw from (None before the first `fit`).

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> train_rng(model) is None
    True
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    >>> train_rng(model) is None
    False
    """
    return getattr(model, "_train_rng", None)


def set_train_rng(model, rng):
    """Sets the key the next `fit` step draws from (a checkpoint restore)."""
    model._train_rng = rng


class TrainStateMixin:
    """The train-state half of `Trainer` (see `Model`)."""

    _opt_mask_signature = None

    def _trainable_mask(self):
        """The trainable mask, cached per (params structure, trainable flags)."""
        params = self._variables["params"]
        flags = tuple(l.trainable for l in all_layers(self))
        key = (jax.tree_util.tree_structure(params), flags)
        cached = getattr(self, "_mask_cache", None)
        if cached is None or cached[0] != key:
            mask = self.trainable_mask(params)
            self._mask_cache = cached = (key, mask, signature(mask))
        return cached[1]

    def _trainable_mask_signature(self):
        """`signature(self._trainable_mask())`, made once per mask (a program lookup per
        execution asks for it)."""
        self._trainable_mask()
        return self._mask_cache[2]

    def _make_train_state(self):
        live_variables.check(self)  # once per epoch: the stores after executions are O(1)
        ts = self._base_train_state()._replace(metric_state=self._fresh_metric_state())
        self._stored_variables = live_variables.version(self)
        return placement.place_train_state(self, unalias(ts))

    def _make_test_state(self):
        """The state of an evaluation: the variables and fresh "test" metric state."""
        ts = TrainState(self._variables["params"], self._variables["state"], None,
                        self._init_metric_state("test"), None, np.zeros((), np.int32))
        return placement.place_train_state(self, ts)

    def _base_train_state(self):
        """The train state without metric state: variables, optimizer state (a pure
        custom step's `init_optimizer_state`), RNG key and step."""
        variables = self._variables
        params = variables["params"]
        if stateless.custom_step(self, "train") == "pure":
            if self.__dict__.get("_pure_opt_state") is None:
                self._set_train_opt_state(self.init_optimizer_state(params))
            opt_state, step = self._pure_opt_state, self.__dict__.get("_pure_step", 0)
        else:
            mask = self._trainable_mask()
            trainable, _ = steps_lib.partition(params, mask)
            if self.optimizer.state is None or self._opt_mask_signature != signature(mask):
                self.optimizer.build(trainable)
                self._opt_mask_signature = signature(mask)
            opt_state, step = self.optimizer.state, self.optimizer.iterations
        if train_rng(self) is None:
            set_train_rng(self, random_state.next_key())
        return TrainState(params, variables["state"], opt_state, {}, train_rng(self),
                          np.asarray(step, np.int32))

    def _fresh_metric_state(self):
        """`_init_metric_state()` as host arrays, made once per set of metric objects
        (creating device scalars every epoch is a visible share of a tiny model's)."""
        if stateless.custom_step(self, "train"):
            return self._init_metric_state("train")
        key = (id(self._loss_tracker), tuple(id(m) for m in self._compile_metrics.all()))
        cached = self.__dict__.get("_fresh_metric_cache")
        if cached is None or cached[0] != key:
            cached = (key, jax.tree_util.tree_map(np.asarray, self._init_metric_state()))
            self._fresh_metric_cache = cached
        return cached[1]

    def _store_train_state(self, ts):
        live_variables.store(self, {"params": ts.params, "state": ts.state})
        self._stored_variables = live_variables.version(self)
        custom = custom_steps.custom_steps(self, "train")
        if isinstance(custom, custom_steps.PureSteps):
            self._pure_opt_state, self._pure_step = ts.opt_state, ts.step
            if not self._uses_own_opt_state():
                self.optimizer.state = ts.opt_state  # `optimizer.iterations` counts
        else:
            self.optimizer.state = ts.opt_state
        self._store_metric_objects(ts.metric_state)
        set_train_rng(self, ts.rng)
        self._metric_state = ts.metric_state

    def _uses_own_opt_state(self):
        """Whether a pure custom step keeps its own optimizer state (`init_optimizer_state`
        overridden, e.g. one state per optimizer of a GAN)."""
        return (stateless.custom_step(self, "train") == "pure"
                and type(self).init_optimizer_state is not
                stateless.StatelessMixin.init_optimizer_state)

    def _train_opt_state(self):
        return self._pure_opt_state if self._uses_own_opt_state() else self.optimizer.state

    def _set_train_opt_state(self, opt_state):
        if stateless.custom_step(self, "train") == "pure":
            self._pure_opt_state = opt_state
        if not self._uses_own_opt_state():
            self.optimizer.state = opt_state

    def _with_callback_changes(self, ts):
        """`ts` with the optimizer state a callback replaced (a new learning rate) and the
        variables it wrote (`assign`, `set_weights`), so the change applies from the next
        batch on, as in Keras."""
        current = self._train_opt_state()
        changed = {}
        if current is not ts.opt_state and current is not None:
            changed["opt_state"] = current
        if live_variables.changed_since(self, self.__dict__.get("_stored_variables")):
            variables = self._variables
            changed.update(params=variables["params"], state=variables["state"])
            self._stored_variables = live_variables.version(self)
        if not changed:
            return ts
        return placement.place_train_state(self, unalias(ts._replace(**changed)))


__all__ = ["TrainStateMixin", "train_rng", "set_train_rng"]
