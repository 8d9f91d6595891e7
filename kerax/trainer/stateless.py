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

Either step is jit-compiled once per batch shape (the last, short batch compiles once
more, as in Keras) with the state donated.
"""

import contextvars

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers import scope as scope_lib
from kerax.trainer.train_state import TrainState

_LOSSES = contextvars.ContextVar("kerax_stateless_losses", default=())

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
def _layout(model):
    """`(trainable_leaves, non_trainable_leaves)`: `(collection, path)` in Keras' order.

    As in Keras, the non-trainable list holds SeedGenerator states too, so the random
    state of Keras-style layers travels through `stateless_call`.
    """
    return model._keras_variable_layout()


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _with_leaves(variables, leaves, values):
    out = {c: _copy(v) for c, v in variables.items()}
    for (coll, path), value in zip(leaves, values):
        node = out[coll]
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
    return out


def _copy(tree):
    return {k: _copy(v) for k, v in tree.items()} if isinstance(tree, dict) else tree


def variables_to_lists(model, variables):
    """`(trainable_variables, non_trainable_variables)` lists from a variables pytree."""
    train, other = _layout(model)
    return ([_get(variables[c], p) for c, p in train], [_get(variables[c], p) for c, p in other])


def lists_to_variables(model, trainable_variables, non_trainable_variables):
    """The variables pytree for Keras-ordered lists (inverse of `variables_to_lists`)."""
    train, other = _layout(model)
    for what, given, want in (("trainable_variables", trainable_variables, train),
                              ("non_trainable_variables", non_trainable_variables, other)):
        if len(given) != len(want):
            raise ValueError(
                f"Model '{model.name}': `{what}` has {len(given)} arrays, but the model has "
                f"{len(want)}. Pass the lists from the `state` that `train_step` received, "
                "in the same order."
            )
    return _with_leaves(model.variables, train + other,
                        list(trainable_variables) + list(non_trainable_variables))


class StatelessMixin:
    """Keras 3's stateless model methods and kerax's pure custom steps (see the module)."""

    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, training=False, rng=None, **kwargs):
        """Keras' pure call: `(outputs, non_trainable_variables)` from lists of arrays.

        The layer losses of this call (regularizers, `add_loss`) go into the next
        `compute_loss`, or are returned third with `return_losses=True`.
        """
        variables = lists_to_variables(self, trainable_variables, non_trainable_variables)
        if rng is None and training:
            rng = jax.random.PRNGKey(0) if _STEP_RNG.get() is None else _STEP_RNG.get()
        with scope_lib.record_forward() as record:
            outputs, state = self.apply(variables, *args, training=training, rng=rng, **kwargs)
        from kerax.trainer import regularization

        losses = regularization.weight_regularization_losses(self, variables["params"])
        losses += list(record.losses)
        _LOSSES.set(tuple(losses))
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

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    def init_optimizer_state(self, params):
        """The `opt_state` of the kerax-way step (override it for several optimizers)."""
        return self.optimizer.init(params)


_STEP_RNG = contextvars.ContextVar("kerax_stateless_rng", default=None)


# ------------------------------------------------------------------ the steps --
def _pack(x, y, sw):
    if y is None and sw is None:
        return (x,)
    return (x, y) if sw is None else (x, y, sw)


def _keras_train(model):
    def step(carry, batch):
        state, rng = carry
        rng, step_rng = jax.random.split(rng)
        token = _STEP_RNG.set(step_rng)
        try:
            logs, state = model.train_step(tuple(state), _pack(*batch))
        finally:
            _STEP_RNG.reset(token)
        return (tuple(state), rng), logs
    return step


def _pure_train(model):
    def step(carry, batch):
        ts, sums, count = carry
        ts, logs = model.pure_train_step(ts, batch)
        sums = {k: sums.get(k, 0.0) + jnp.asarray(v, jnp.float32) for k, v in logs.items()}
        return (ts, sums, count + 1), {k: v / (count + 1) for k, v in sums.items()}
    return step


def _batches(data, n, batch_size, shuffle, seed):
    """Host batches of `batch_size` rows; under a distribution, laid out on the batch axis
    (each process takes its block of the data and its share of every global batch)."""
    from kerax.distribution import placement

    dist = placement.current()
    if dist is not None:
        data, n = placement.local_batch_share(data, n)
        batch_size = placement.local_batch_size(batch_size)
        last = n % batch_size * jax.process_count()
        if last:
            placement.check_batch_size(dist, last)  # fails before the first step
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        batch = jax.tree_util.tree_map(lambda a: np.asarray(a)[rows], data)
        yield batch if dist is None else placement.place_batch(batch)


def _place_variables(model):
    """Under a distribution: the variables (and a kerax-way step's optimizer state, made
    from them) on the layout's shardings; the step's outputs keep them."""
    from kerax.distribution import placement

    if placement.current() is not None:
        placement.place_variables(model)


def _num_rows(x):
    return len(jax.tree_util.tree_leaves(x)[0])


def _keras_state(model, kind):
    train, other = variables_to_lists(model, model.variables)
    for m in model.metrics:
        m.reset_state()
    metric_vars = [v for m in model.metrics for v in m.variables]
    if kind != "train":
        return (train, other, metric_vars)
    if getattr(model, "_stateless_opt_state", None) is None:
        model._stateless_opt_state = model.optimizer.init(train)
    return (train, other, model._stateless_opt_state, metric_vars)


def _store_keras_state(model, state):
    train, other = state[0], state[1]
    model.variables = lists_to_variables(model, train, other)
    if len(state) == 4:
        model._stateless_opt_state = state[2]
    metric_vars, i = list(state[-1]), 0
    for m in model.metrics:
        k = len(m.variables)
        m.state = m._as_state(metric_vars[i:i + k])
        i += k


def _pure_state(model):
    params = model.variables["params"]
    if getattr(model, "_pure_opt_state", None) is None:
        model._pure_opt_state = model.init_optimizer_state(params)
    if getattr(model, "_pure_rng", None) is None:
        from kerax.backend import random_state

        model._pure_rng = random_state.next_key()
    return TrainState(params, model.variables["state"], model._pure_opt_state, {},
                      model._pure_rng, jnp.asarray(getattr(model, "_pure_step", 0), jnp.int32))


def _store_pure_state(model, ts):
    model.variables = {"params": ts.params, "state": ts.state}
    model._pure_opt_state, model._pure_rng, model._pure_step = ts.opt_state, ts.rng, ts.step


def fit(model, x, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        shuffle=True, sample_weight=None, validation_data=None, initial_epoch=0, **unused):
    """`Model.fit` for a model with a custom train step (see the module docstring)."""
    from kerax.callbacks.callback_list import CallbackList

    batch_size = batch_size or 32
    model._ensure_built(x)
    _place_variables(model)
    n = _num_rows(x)
    style = custom_step(model, "train")
    if model._compile_metrics is not None and y is not None:
        model._build_metrics(jax.tree_util.tree_map(np.asarray, (x, y, sample_weight)))
    step = jax.jit(_keras_train(model) if style == "keras" else _pure_train(model))
    verbose = 1 if verbose == "auto" else verbose
    steps = -(-n // batch_size)
    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    cbs.on_train_begin()
    logs, seed = {}, int(np.random.default_rng().integers(2**31))
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        if style == "keras":
            from kerax.backend import random_state

            carry = (_keras_state(model, "train"), random_state.next_key())
        else:
            carry = (_pure_state(model), {}, jnp.zeros((), jnp.float32))
        for i, batch in enumerate(_batches((x, y, sample_weight), n, batch_size, shuffle,
                                           seed + epoch)):
            cbs.on_train_batch_begin(i)
            if style == "pure" and i == 0:
                carry = (carry[0], {k: jnp.zeros((), jnp.float32) for k in jax.eval_shape(
                    step, carry, batch)[1]}, carry[2])
            carry, logs = step(carry, batch)
            cbs.on_train_batch_end(i, logs)
        if style == "keras":
            _store_keras_state(model, carry[0])
        else:
            _store_pure_state(model, carry[0])
        logs = {k: float(v) for k, v in logs.items()}
        if validation_data is not None:
            val = evaluate(model, *validation_data, batch_size=batch_size, verbose=0,
                           return_dict=True)
            logs.update({"val_" + k: v for k, v in val.items()})
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return model.history


def evaluate(model, x, y=None, batch_size=None, verbose="auto", sample_weight=None,
             return_dict=False, **unused):
    """`Model.evaluate` for a model with a custom test step."""
    batch_size = batch_size or 32
    model._ensure_built(x)
    _place_variables(model)
    if model._compile_metrics is not None and y is not None:
        model._build_metrics(jax.tree_util.tree_map(np.asarray, (x, y, sample_weight)))
    style = custom_step(model, "test")
    logs = {}
    if style == "keras":
        def step(state, batch):
            logs, state = model.test_step(tuple(state), _pack(*batch))
            return tuple(state), logs

        carry = _keras_state(model, "test")
    else:
        def step(carry, batch):
            ts, sums, count = carry
            out = model.pure_test_step(ts, batch)
            sums = {k: sums[k] + jnp.asarray(v, jnp.float32) for k, v in out.items()}
            return (ts, sums, count + 1), {k: v / (count + 1) for k, v in sums.items()}

        carry = None
    step = jax.jit(step)
    for batch in _batches((x, y, sample_weight), _num_rows(x), batch_size, False, 0):
        if carry is None:
            ts = _pure_state(model)
            keys = jax.eval_shape(model.pure_test_step, ts, batch)
            carry = (ts, {k: jnp.zeros((), jnp.float32) for k in keys}, jnp.zeros(()))
        carry, logs = step(carry, batch)
    if style == "keras":
        _store_keras_state(model, carry)
    logs = {k: float(v) for k, v in logs.items()}
    return logs if return_dict else (list(logs.values()) if len(logs) > 1 else
                                     next(iter(logs.values())))


def predict(model, x, batch_size=None, **unused):
    """`Model.predict` for a model with a custom predict step."""
    from kerax.distribution import placement

    batch_size = batch_size or 32
    model._ensure_built(x)
    _place_variables(model)
    if custom_step(model, "predict") == "keras":
        state = variables_to_lists(model, model.variables)
        step = jax.jit(lambda s, b: model.predict_step(s, b))
        outs = [step(state, (b,)) for b in _batches(x, _num_rows(x), batch_size, False, 0)]
    else:
        ts = _pure_state(model)
        step = jax.jit(lambda t, b: model.pure_predict_step(t, b))
        outs = [step(ts, b) for b in _batches(x, _num_rows(x), batch_size, False, 0)]
    outs = [placement.to_host(o) for o in outs]  # several processes: this process's rows
    return jax.tree_util.tree_map(lambda *o: np.concatenate([np.asarray(a) for a in o]), *outs)


__all__ = ["StatelessMixin", "custom_step", "fit", "evaluate", "predict",
           "variables_to_lists", "lists_to_variables"]
