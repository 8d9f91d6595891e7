"""A user's custom steps as step functions of the one execution builder.

`fit`, `evaluate` and `predict` run every step kind through the same executions
(`steps.make_execution` for arrays, `programs.make_stream_execution` for streams):
`step(ts, (x, y, sample_weight, row_mask)) -> ts` over one `TrainState`. This module wraps
the two kinds of custom step into that form:

- **Keras 3's JAX API**: `train_step(self, state, data) -> (logs, state)` with `state =
  (trainable_variables, non_trainable_variables, optimizer_variables,
  metrics_variables)`, and `data` exactly as Keras passes it (`x`, `(x,)`, `(x, y)` or
  `(x, y, sample_weight)`). The train state holds the model's variables, the optimizer
  state (`optimizer.state`, so `optimizer.iterations` advances) and, in `metric_state`,
  the metrics' variables and the last step's logs (Keras reports the last step's logs).
- **kerax's pure API**: `pure_train_step(self, ts, batch) -> (ts, logs)` with `batch =
  (x, y, sample_weight)`; the logs are averaged over the epoch.

A custom step sees every row of its batch, so a short last batch is never padded: it runs
at its real size (`Trainer._exact_last_batch`), compiled once in the first epoch. A step
whose batch has no real rows (filling a stream's last execution) or whose logs hold a
non-finite value (any key, not only `"loss"`) leaves the state unchanged, and `fit` raises
(or stops, with `TerminateOnNaN`) as for the built-in step.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.layers import stateless_call as layer_stateless
from kerax.trainer import stateless
from kerax.trainer import steps as steps_lib
from kerax.trainer.train_state import TrainState

FLAG = steps_lib.FIRST_BAD_STEP


def pack(x, y=None, sample_weight=None):
    """Keras' `pack_x_y_sample_weight`: the `data` a Keras-style step receives.

    Example:
    >>> pack("x"), pack(["a", "b"]), pack("x", "y"), pack("x", "y", "w")
    ('x', (['a', 'b'],), ('x', 'y'), ('x', 'y', 'w'))
    """
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def _cast_like(tree, template):
    return jax.tree_util.tree_map(lambda v, t: lax.convert_element_type(v, t.dtype), tree,
                                  template)


def _zeros(template):
    return jax.tree_util.tree_map(lambda t: np.zeros(t.shape, t.dtype), template)


def _all_finite(logs):
    """Whether every floating value the step returned is finite (True with none: a step
    that returns no floating logs cannot be guarded)."""
    leaves = [jnp.asarray(v) for v in jax.tree_util.tree_leaves(logs)]
    checks = [jnp.all(jnp.isfinite(v)) for v in leaves
              if jnp.issubdtype(v.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)


def _guarded(old, rows, run):
    """Runs `run() -> (new_ts, logs or None)` only for a step with real rows after no bad
    step (an empty step, filling an execution, costs nothing), and keeps `new_ts` only if
    every floating value of `logs` is finite (whatever their keys); records the first bad
    step as the built-in step does."""
    bad = old.metric_state[FLAG]

    def step():
        new, logs = run()
        finite = _all_finite(logs)
        new = new._replace(metric_state={**new.metric_state, FLAG: bad})
        out = lax.cond(finite, lambda: new, lambda: old)
        flag = jnp.where(finite, bad, old.step).astype(bad.dtype)
        return out._replace(metric_state={**out.metric_state, FLAG: flag})

    return lax.cond(jnp.any(rows) & (bad < 0), step, lambda: old)


class _OptimizerLists:
    """The optimizer state over the trainable params tree <-> Keras' flat lists: every
    params-shaped subtree (Adam's `mu`, `nu`, ...) becomes a list in the order of
    `model.trainable_variables`, and back."""

    def __init__(self, model, params, mask):
        self.template, _ = steps_lib.partition(params, mask)
        self.treedef = jax.tree_util.tree_structure(self.template)
        train, _ = model._keras_variable_layout()
        self.paths = [path for _, path in train]

    def _is_params(self, node):
        """Whether `node` has the params' structure down to the params' leaves (the
        optimizer's slots may hold a tuple or nothing per parameter)."""
        if not isinstance(node, dict):
            return False
        try:
            self.treedef.flatten_up_to(node)
        except (ValueError, TypeError):
            return False
        return True

    def to_lists(self, opt_state):
        return jax.tree_util.tree_map(
            lambda n: [layer_stateless.leaf_at(n, p) for p in self.paths] if self._is_params(n) else n,
            opt_state, is_leaf=self._is_params)

    def _from_list(self, values):
        out = layer_stateless.copy_tree(self.template)
        for path, value in zip(self.paths, values):
            node = out
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = value
        return out

    def from_lists(self, opt_lists):
        is_list = lambda n: type(n) is list and len(n) == len(self.paths)  # noqa: E731
        return jax.tree_util.tree_map(
            lambda n: self._from_list(n) if is_list(n) else n, opt_lists, is_leaf=is_list)


def _logs_dict(logs, what):
    if not isinstance(logs, dict):
        raise TypeError(
            f"`{what}` must return its logs as a dict of metric values (`(logs, state)` "
            f"with `logs = {{'loss': ...}}`). Received logs of type {type(logs).__name__}."
        )
    return dict(logs)


class KerasSteps:
    """Keras 3's `train_step` / `test_step` / `predict_step` as step functions."""

    def __init__(self, model, mask):
        self.model = model
        self.mask = mask

    # -- the user's steps, called with Keras' lists --
    def _lists(self, ts):
        return stateless.variables_to_lists(self.model, {"params": ts.params,
                                                         "state": ts.state})

    def _variables(self, ts, train, other):
        return stateless.lists_to_variables(self.model, train, other,
                                            base={"params": ts.params, "state": ts.state})

    def call_train(self, ts, batch):
        """`(new_ts, logs)` of the user's `train_step` (no guard)."""
        x, y, sw = batch[:3]
        train, other = self._lists(ts)
        opt = _OptimizerLists(self.model, ts.params, self.mask)
        rng, step_rng = jax.random.split(ts.rng)
        token = stateless._STEP_RNG.set(step_rng)
        try:
            logs, state = self.model.train_step(
                (train, other, opt.to_lists(ts.opt_state), list(ts.metric_state["vars"])),
                pack(x, y, sw))
        finally:
            stateless._STEP_RNG.reset(token)
        logs = _logs_dict(logs, "train_step")
        train, other, opt_vars, metric_vars = state
        variables = self._variables(ts, train, other)
        new = TrainState(variables["params"], variables["state"], opt.from_lists(opt_vars),
                         {"vars": list(metric_vars)}, rng, ts.step + 1)
        return new, logs

    def call_test(self, ts, batch):
        x, y, sw = batch[:3]
        train, other = self._lists(ts)
        logs, state = self.model.test_step((train, other, list(ts.metric_state["vars"])),
                                           pack(x, y, sw))
        logs = _logs_dict(logs, "test_step")
        variables = self._variables(ts, state[0], state[1])
        return ts._replace(state=variables["state"],
                           metric_state={"vars": list(state[2])}), logs

    # -- step functions of the execution builder --
    def train_step(self, ts, batch):
        def run():
            new, logs = self.call_train(ts, batch)
            logs_ = _cast_like(logs, ts.metric_state["logs"])
            return new._replace(metric_state={**new.metric_state, "logs": logs_}), logs

        return _guarded(ts, batch[3], run)

    def test_step(self, ts, batch):
        def run():
            new, logs = self.call_test(ts, batch)
            logs_ = _cast_like(logs, ts.metric_state["logs"])
            return new._replace(metric_state={**new.metric_state, "logs": logs_}), None

        return _guarded(ts, batch[3], run)

    def predict_step(self, params, state, x):
        train, other = stateless.variables_to_lists(self.model,
                                                    {"params": params, "state": state})
        result = self.model.predict_step((train, other), pack(x))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(
                "`predict_step(self, state, data)` must return `(outputs, "
                "non_trainable_variables)`, as in Keras 3's JAX backend. Received a "
                f"{type(result).__name__}."
            )
        variables = stateless.lists_to_variables(self.model, train, result[1],
                                                 base={"params": params, "state": state})
        return result[0], variables["state"]

    @staticmethod
    def logs(metric_state):
        """The last step's logs as the step returned them; the epoch loop flattens them on
        the host (`steps.flatten_logs`): inside the program a flat dict's keys would be
        re-sorted by `jit`, losing Keras' order."""
        return metric_state["logs"]

    def init_metric_state(self, template):
        fresh = [v for m in self.model.metrics for v in m.stateless_reset_state()]
        return {"vars": fresh, "logs": _zeros(template), FLAG: np.asarray(-1, np.int32)}

    def store_metrics(self, metric_state):
        """Puts the metrics' variables back into the metric objects (`metric.result()`)."""
        values, i = list(metric_state["vars"]), 0
        for m in self.model.metrics:
            k = len(m.stateless_reset_state())
            m.state = m._as_state(values[i:i + k])
            i += k

    def templates(self, ts, batch, kinds):
        """The logs' shapes of the train/test steps, traced abstractly on `batch`."""
        out = {}
        for kind in kinds:
            ms = {"vars": [v for m in self.model.metrics for v in m.stateless_reset_state()]}
            call = self.call_train if kind == "train" else self.call_test
            out[kind] = jax.eval_shape(lambda t, b: call(t, b)[1],  # noqa: B023
                                       ts._replace(metric_state=ms), batch)
        return out


class PureSteps:
    """kerax's `pure_train_step` / `pure_test_step` / `pure_predict_step`."""

    def __init__(self, model, mask):
        self.model = model
        self.mask = mask

    def call_train(self, ts, batch):
        new, logs = self.model.pure_train_step(ts._replace(metric_state={}), tuple(batch[:3]))
        return new, _logs_dict(logs, "pure_train_step")

    def call_test(self, ts, batch):
        logs = self.model.pure_test_step(ts._replace(metric_state={}), tuple(batch[:3]))
        return ts, _logs_dict(logs, "pure_test_step")

    def _accumulate(self, ts, new, logs):
        ms = ts.metric_state
        sums = {k: ms["sums"][k] + jnp.asarray(logs[k], jnp.float32) for k in ms["sums"]}
        return new._replace(metric_state={"sums": sums, "count": ms["count"] + 1.0,
                                          FLAG: ms[FLAG]})

    def train_step(self, ts, batch):
        def run():
            new, logs = self.call_train(ts, batch)
            return self._accumulate(ts, new, logs), logs

        return _guarded(ts, batch[3], run)

    def test_step(self, ts, batch):
        def run():
            _, logs = self.call_test(ts, batch)
            return self._accumulate(ts, ts, logs), None

        return _guarded(ts, batch[3], run)

    def predict_step(self, params, state, x):
        ts = TrainState(params, state, None, {}, None, jnp.zeros((), jnp.int32))
        return self.model.pure_predict_step(ts, x), state

    @staticmethod
    def logs(metric_state):
        count = metric_state["count"]
        return {k: v / count for k, v in metric_state["sums"].items()}

    def init_metric_state(self, template):
        sums = {k: np.zeros((), np.float32) for k in template}
        return {"sums": sums, "count": np.zeros((), np.float32),
                FLAG: np.asarray(-1, np.int32)}

    def store_metrics(self, metric_state):
        pass

    def templates(self, ts, batch, kinds):
        out = {}
        for kind in kinds:
            call = self.call_train if kind == "train" else self.call_test
            out[kind] = jax.eval_shape(lambda t, b: call(t, b)[1], ts, batch)  # noqa: B023
        return out


class StepFunctions:
    """The step functions `fit`/`evaluate`/`predict` compile: each kind is the model's
    custom step where it defines one, else the built-in step."""

    def __init__(self, model, trainable_mask):
        builtin = steps_lib.StepFunctions(model, trainable_mask)
        self.styles = {kind: stateless.custom_step(model, kind)
                       for kind in ("train", "test", "predict")}
        self.custom = {kind: (KerasSteps if style == "keras" else PureSteps)(
            model, trainable_mask) for kind, style in self.styles.items() if style}
        self.train_step = (self.custom["train"].train_step if "train" in self.custom
                           else builtin.train_step)
        self.train_step_unguarded = (None if "train" in self.custom
                                     else builtin.train_step_unguarded)
        self.test_step = (self.custom["test"].test_step if "test" in self.custom
                          else builtin.test_step)
        self.predict_step = (self.custom["predict"].predict_step if "predict" in self.custom
                             else builtin.predict_step)


def custom_steps(model, kind):
    """The `KerasSteps`/`PureSteps` of `model`'s custom `kind` step, or None."""
    style = stateless.custom_step(model, kind)
    if style is None:
        return None
    mask = model._trainable_mask()
    return (KerasSteps if style == "keras" else PureSteps)(model, mask)


__all__ = ["KerasSteps", "PureSteps", "StepFunctions", "custom_steps", "pack"]
