"""Custom training steps, two ways, run compiled by `fit` / `evaluate` / `predict`.

1. **Keras 3's JAX-backend API, unchanged**, so Keras JAX code ports: override
   `train_step(self, state, data) -> (logs, state)` with
   `state = (trainable_variables, non_trainable_variables, optimizer_variables,
   metrics_variables)` (lists, in Keras' order), and use `self.stateless_call(...)`,
   `self.compute_loss(...)`, `self.optimizer.stateless_apply(...)`,
   `metric.stateless_update_state(...)` / `stateless_result(...)` and `self.metrics`.
   `test_step(self, state, data) -> (logs, state)` with `state = (trainable_variables,
   non_trainable_variables, metrics_variables)` and `predict_step(self, state, data)`
   likewise.
2. **The kerax way**: override `pure_train_step(self, ts, batch) -> (ts, logs)` over one
   named `TrainState(params, state, opt_state, metric_state, rng, step)` pytree (no list
   indexing), with `batch = (x, y, sample_weight)`. `init_optimizer_state(params)` creates
   `ts.opt_state` (override it for several optimizers); the logs are averaged over the
   epoch. `pure_test_step(self, ts, batch) -> logs` and `pure_predict_step(self, ts, x)`
   likewise. See `examples/gan.py`.

`fit`, `evaluate` and `predict` run either step through the same executions as the
built-in steps (see `kerax.trainer.custom_steps`), so every argument works for them.
"""

import contextvars
import inspect

import jax
import jax.numpy as jnp

from kerax.backend import apply_scope as scope_lib
from kerax.layers import seed_state
from kerax.layers import stateless_call as layer_stateless
from kerax.layers import weight_rules as regularization

_LOSSES = contextvars.ContextVar("kerax_stateless_losses", default=())
# The activity/`add_loss` terms of the last `stateless_call` (without weight regularization).
_CALL_LOSSES = contextvars.ContextVar("kerax_stateless_call_losses", default=())

_KERAS_STEPS = {"train": "train_step", "test": "test_step", "predict": "predict_step"}
_PURE_STEPS = {"train": "pure_train_step", "test": "pure_test_step",
               "predict": "pure_predict_step"}


def custom_step(model, kind):
    """`"keras"`, `"pure"` or None: which custom step `model` defines for `kind`."""
    for style, names in (("pure", _PURE_STEPS), ("keras", _KERAS_STEPS)):
        fn = getattr(type(model), names[kind], None)
        if fn is not None and not fn.__module__.startswith("kerax."):
            return style
    return None


# --------------------------------------------------------------- Keras' flat lists --
variables_to_lists = layer_stateless.variables_to_lists
lists_to_variables = layer_stateless.lists_to_variables


def _unpack(data):
    """Keras' `unpack_x_y_sample_weight`: `x`, `(x,)`, `(x, y)`, `(x, y, sw)` -> 3-tuple."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    return tuple(data) + (None,) * (3 - len(data))


class StatelessMixin:
    """Keras 3's stateless model methods and kerax's pure custom steps (see the module)."""

    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, training=None, rng=None, **kwargs):
        """Keras' pure call: `(outputs, non_trainable_variables)` from lists of arrays.

        Without `training`, the model's `call` default is used (`call(self, x,
        training=True)` trains; no default, or `None`, is inference), as in Keras.

        The layer losses of this call (regularizers, `add_loss`) go into the next
        `compute_loss`, or are returned third with `return_losses=True`.
        """
        variables = lists_to_variables(self, trainable_variables, non_trainable_variables)
        if training is None and _call_default_training(self):
            training = True  # else None reaches `call` as "not given", as in Keras
        # Outside `fit`, random layers draw from their seed states (passed in
        # `non_trainable_variables` and returned advanced), as in Keras; a layer without
        # one gets `PRNGKey(0)`.
        implicit = rng is None and _STEP_RNG.get() is None
        if rng is None and training is not False:
            rng = jax.random.PRNGKey(0) if implicit else _STEP_RNG.get()
        with scope_lib.record_forward() as record, seed_state.implicit_rng(implicit):
            outputs, state = self.apply(variables, *args, training=training, rng=rng, **kwargs)
        losses = regularization.weight_regularization_losses(self, variables["params"])
        losses += list(record.losses)
        _LOSSES.set(tuple(losses))
        _CALL_LOSSES.set(tuple(record.losses))
        _, non_trainable = variables_to_lists(self, {**variables, "state": state})
        if return_losses:
            return outputs, non_trainable, losses
        return outputs, non_trainable

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras' `compute_loss`: the compiled loss plus the last `stateless_call`'s losses."""
        loss = jnp.zeros((), jnp.float32)
        if self._compile_loss is not None:
            loss = self._compile_loss(y, y_pred, sample_weight=sample_weight)
        for extra in _LOSSES.get():
            loss = loss + jnp.sum(extra).astype(loss.dtype)
        return loss

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables,
                               metrics_variables, x=None, y=None, y_pred=None,
                               sample_weight=None, training=True):
        """Keras 3's `stateless_compute_loss`: `compute_loss` with the weight
        regularization of the given `trainable_variables` (plus the last
        `stateless_call`'s `add_loss` terms).

        Returns `(loss, (trainable_variables, non_trainable_variables,
        metrics_variables))`, as Keras' JAX trainer does (the lists unchanged: kerax's
        `compute_loss` is pure).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> tv, ntv = model.trainable_variables, model.non_trainable_variables
        >>> y_pred, ntv = model.stateless_call(tv, ntv, np.ones((4, 2)))
        >>> loss, (tv, ntv, mv) = model.stateless_compute_loss(
        ...     tv, ntv, model.metrics_variables, y=np.ones((4, 1)), y_pred=y_pred)
        """
        variables = lists_to_variables(self, trainable_variables, non_trainable_variables)
        regs = regularization.weight_regularization_losses(self, variables["params"])
        token = _LOSSES.set(tuple(regs) + _CALL_LOSSES.get())
        try:
            try:
                loss = self.compute_loss(x, y, y_pred, sample_weight, training=training)
            except TypeError as error:  # a user's `compute_loss` without `training`
                if "training" not in str(error):
                    raise
                loss = self.compute_loss(x, y, y_pred, sample_weight)
        finally:
            _LOSSES.reset(token)
        return loss, (trainable_variables, non_trainable_variables, metrics_variables)

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    # -- Keras 3's JAX-backend steps, so that an override can call `super().train_step` --
    def train_step(self, state, data):
        """Keras 3's JAX `train_step(state, data) -> (logs, state)`: forward with
        `stateless_call`, `stateless_compute_loss`, gradients,
        `optimizer.stateless_apply` and the metrics of `self.metrics`.

        `fit` runs its built-in step unless a subclass overrides this; an override may
        call `super().train_step(state, data)`, as in Keras.
        """
        tv, ntv, ov, mv = state
        x, y, sw = _unpack(data)

        def loss_fn(tv):
            y_pred, new_ntv = self.stateless_call(tv, ntv, x, training=True)
            loss, _ = self.stateless_compute_loss(tv, new_ntv, mv, x=x, y=y, y_pred=y_pred,
                                                  sample_weight=sw, training=True)
            return self.optimizer.scale_loss(loss), (loss, y_pred, new_ntv)

        (_, (loss, y_pred, ntv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv)
        tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
        logs, mv = self._stateless_metrics(mv, loss, y, y_pred, sw)
        return logs, (tv, ntv, ov, mv)

    def test_step(self, state, data):
        """Keras 3's JAX `test_step(state, data) -> (logs, state)` (see `train_step`)."""
        tv, ntv, mv = state
        x, y, sw = _unpack(data)
        y_pred, ntv = self.stateless_call(tv, ntv, x, training=False)
        loss, _ = self.stateless_compute_loss(tv, ntv, mv, x=x, y=y, y_pred=y_pred,
                                              sample_weight=sw, training=False)
        logs, mv = self._stateless_metrics(mv, loss, y, y_pred, sw)
        return logs, (tv, ntv, mv)

    def predict_step(self, state, data):
        """Keras 3's JAX `predict_step(state, data) -> (outputs, non_trainable)`."""
        tv, ntv = state
        x, _, _ = _unpack(data)
        return self.stateless_call(tv, ntv, x, training=False)

    def _stateless_metrics(self, metrics_variables, loss, y, y_pred, sample_weight):
        """Keras' `_update_metrics_variables`: `(logs, metrics_variables)` after one
        batch, through the same metric update as the built-in step."""
        subs = lambda m: getattr(m, "metrics", None) if hasattr(m, "_as_list") else None  # noqa
        state, i = {}, 0
        for m in self.metrics:
            k = len(m.stateless_reset_state())
            part = m._as_state(list(metrics_variables[i:i + k]))
            state.update(part if subs(m) is not None else {m.name: part})
            i += k
        rows = jnp.ones((jnp.shape(jax.tree_util.tree_leaves(y_pred)[0])[0],), bool)
        new = self.update_metric_state(state, loss, y, y_pred, sample_weight, rows)
        logs, values = {}, []
        for m in self.metrics:
            for sub in (subs(m) if subs(m) is not None else [m]):
                logs[sub.name] = sub.compute(new[sub.name])
                values += [new[sub.name][key] for key in sub.init()]
        return logs, values

    def init_optimizer_state(self, params):
        """The `opt_state` of the kerax-way step (override it for several optimizers)."""
        return self.optimizer.init(params)


def _call_default_training(model):
    """The default of `training` in `model.call`'s signature (False when it has none)."""
    try:
        param = inspect.signature(model.call).parameters.get("training")
    except (TypeError, ValueError):
        return False
    return param is not None and param.default is True


_STEP_RNG = contextvars.ContextVar("kerax_stateless_rng", default=None)


__all__ = ["StatelessMixin", "custom_step", "variables_to_lists", "lists_to_variables"]
