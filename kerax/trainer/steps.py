"""The pure steps and the compiled executions built from them.

`train_step(TrainState, batch) -> TrainState` is forward, loss, gradient, optimizer update
and metric accumulation in one function; an *execution* runs K steps in one dispatch
(`lax.scan`, or unrolled where a rolled loop is slow), gathering each step's batch from
device-resident data by index. Logs are computed on device from the metric state; the
host reads them only when it reports them.
"""


import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.layers import batch_mask
from kerax.backend import apply_scope as scope_lib
from kerax.trainer.train_state import TrainState


def flatten_logs(logs):
    """Logs in Keras' order (`pythonify_logs`): sorted by key, a nested dict (the
    "compile_metrics" container's result a custom step returns) merged in at its key.

    Example:
    >>> list(flatten_logs({"loss": 1.0, "compile_metrics": {"mae": 2.0}}))
    ['mae', 'loss']
    """
    out = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(flatten_logs(value))
        else:
            out[key] = value
    return out

def partition(params, mask):
    """Splits params into (trainable, frozen) trees with None where a leaf is absent."""
    trainable = jax.tree_util.tree_map(lambda m, p: p if m else None, mask, params)
    frozen = jax.tree_util.tree_map(lambda m, p: None if m else p, mask, params)
    return trainable, frozen


def combine(mask, trainable, frozen):
    is_none = lambda x: x is None  # noqa: E731
    return jax.tree_util.tree_map(lambda m, t, f: t if m else f, mask, trainable, frozen,
                                  is_leaf=is_none)


FIRST_BAD_STEP = "_first_bad_step"


class StepFunctions:
    """Builds the pure train/test/predict steps of a compiled model."""

    def __init__(self, model, trainable_mask):
        self.model = model
        self.mask = trainable_mask

    # ------------------------------------------------------------------------ steps --
    def _forward(self, params, state, x, row_mask, training, rng):
        """`(y_pred, new_state, (added_losses, output_mask))`: the layer losses and the
        model's output mask come out of the forward pass through a `ForwardRecord`."""
        with batch_mask.use(row_mask), scope_lib.record_forward() as record:
            y_pred, new_state = self.model.apply({"params": params, "state": state}, x,
                                                 training=training, rng=rng)
        return y_pred, new_state, (list(record.losses), record.output_mask(self.model))

    def _loss(self, y, y_pred, sw, row_mask, params, extras):
        model = self.model
        added, out_mask = extras
        loss = model.compute_loss_value(y, y_pred, sw, combine_masks(row_mask, out_mask))
        reg = model.regularization_loss(params, added)
        return loss + reg if reg is not None else loss

    def _gradients(self, ts, batch):
        """Forward and backward: `(grads, loss, y_pred, new_state, output_mask, rng)`."""
        x, y, sw, row_mask = batch
        model = self.model
        trainable, frozen = partition(ts.params, self.mask)
        # Split the key only if the forward pass draws random numbers: a threefry split
        # is a noticeable share of a small model's step.
        if uses_randomness(lambda k: self._forward(ts.params, ts.state, x, row_mask, True, k),
                           ts.rng):
            rng, step_rng = jax.random.split(ts.rng)
        else:
            rng, step_rng = ts.rng, ts.rng

        def loss_fn(trainable):
            params = combine(self.mask, trainable, frozen)
            y_pred, new_state, extras = self._forward(params, ts.state, x, row_mask, True,
                                                      step_rng)
            loss = self._loss(y, y_pred, sw, row_mask, params, extras)
            # Loss scaling (mixed_float16, `loss_scale_factor`); the optimizer unscales.
            return model.optimizer.scale_loss(loss, ts.opt_state), (loss, y_pred, new_state,
                                                                   extras[1])

        (_, (loss, y_pred, new_state, out_mask)), grads = jax.value_and_grad(
            loss_fn, has_aux=True)(trainable)
        return grads, loss, y_pred, new_state, out_mask, rng

    def _apply(self, ts, batch, grads, loss, y_pred, out_mask):
        """The optimizer update, constraints and metrics: `(params, opt_state, metrics)`."""
        _, y, sw, row_mask = batch
        model = self.model
        trainable, frozen = partition(ts.params, self.mask)
        new_trainable, opt_state = model.optimizer.apply(grads, ts.opt_state, trainable)
        params = model.apply_constraints(combine(self.mask, new_trainable, frozen))
        metric_state = model.update_metric_state(ts.metric_state, loss, y, y_pred, sw, row_mask,
                                                 output_mask=out_mask)
        metric_state.pop(FIRST_BAD_STEP, None)
        return params, opt_state, metric_state

    def _train_update(self, ts, batch):
        """One unguarded step: `(TrainState fields..., loss)` with the update applied."""
        grads, loss, y_pred, new_state, out_mask, rng = self._gradients(ts, batch)
        params, opt_state, metric_state = self._apply(ts, batch, grads, loss, y_pred, out_mask)
        return params, new_state, opt_state, metric_state, rng, loss

    def train_step(self, ts, batch):
        """The guarded step: forward, loss, gradients, update and metrics."""
        row_mask = batch[3]
        grads, loss, y_pred, new_state, out_mask, rng = self._gradients(ts, batch)
        # A non-finite loss skips the step and every later one: the state stays as it was
        # before the first bad step, and the host raises at the execution boundary.
        # Steps with no real rows (filling a short final execution) are skipped likewise.
        bad = ts.metric_state[FIRST_BAD_STEP]
        has_rows = jnp.any(row_mask)
        finite = jnp.isfinite(loss)
        ok = finite & has_rows & (bad < 0)
        # The update runs inside one conditional, so a skipped step keeps the old state
        # without a select per leaf: ~20% less XLA compile time for an MLP's execution,
        # and no copy of the state on the (usual) updating branch.
        metrics = {k: v for k, v in ts.metric_state.items() if k != FIRST_BAD_STEP}
        state, params, opt_state, metric_state = lax.cond(
            ok,
            lambda: (new_state,) + self._apply(ts, batch, grads, loss, y_pred, out_mask),
            lambda: (ts.state, ts.params, ts.opt_state, metrics))
        metric_state = dict(metric_state)
        metric_state[FIRST_BAD_STEP] = jnp.where((bad < 0) & has_rows & ~finite, ts.step, bad)
        return TrainState(params, state, opt_state, metric_state, rng,
                          ts.step + ok.astype(ts.step.dtype))

    def train_step_unguarded(self, ts, batch):
        """The step without the per-step guard, for batches that all have real rows.

        It only records whether a loss was non-finite; `make_execution` then reruns the
        execution with `train_step` from its initial state (see `two_phase`).
        """
        params, new_state, opt_state, metric_state, rng, loss = self._train_update(ts, batch)
        bad = ts.metric_state[FIRST_BAD_STEP]
        metric_state[FIRST_BAD_STEP] = jnp.where((bad < 0) & ~jnp.isfinite(loss), ts.step, bad)
        return TrainState(params, new_state, opt_state, metric_state, rng, ts.step + 1)

    def test_step(self, ts, batch):
        """Loss and metrics; the state a layer assigns in `call` is kept, as in Keras."""
        x, y, sw, row_mask = batch
        y_pred, new_state, extras = self._forward(ts.params, ts.state, x, row_mask, False,
                                                  None)
        loss = self._loss(y, y_pred, sw, row_mask, ts.params, extras)
        metric_state = self.model.update_metric_state(ts.metric_state, loss, y, y_pred, sw,
                                                      row_mask, output_mask=extras[1])
        metric_state[FIRST_BAD_STEP] = ts.metric_state[FIRST_BAD_STEP]
        return ts._replace(state=keep_if_rows(row_mask, new_state, ts.state),
                           metric_state=metric_state)

    def predict_step(self, params, state, x):
        """`(outputs, state)`: the state a layer assigns in `call`, as Keras keeps it."""
        return self.model.apply({"params": params, "state": state}, x, training=False)


def keep_if_rows(row_mask, new, old):
    """`new` if the step has real rows, else `old` (a step filling an execution)."""
    has_rows = jnp.any(row_mask)
    return jax.tree_util.tree_map(lambda n, o: jnp.where(has_rows, n, o), new, old)


def combine_masks(row_mask, output_mask):
    """The padded-row mask `(batch,)` and-ed with a model output mask `(batch, ...)`.

    Returns `row_mask` when the output carries no (single-array) mask.
    """
    if output_mask is None or not hasattr(output_mask, "shape") or output_mask.ndim < 1:
        return row_mask
    rows = jnp.reshape(row_mask, row_mask.shape + (1,) * (output_mask.ndim - 1))
    return jnp.logical_and(rows, output_mask.astype(bool))


def _gather(data, idx):
    return jax.tree_util.tree_map(lambda a: a[idx], data)


def _slice(data, start, size):
    return jax.tree_util.tree_map(
        lambda a: lax.dynamic_slice_in_dim(a, start, size, axis=0), data)


def is_contiguous(idx, mask, num_samples):
    """Whether a host plan `(steps, batch)` reads consecutive rows `s, s+1, ...` that are
    all real and in bounds (an unshuffled epoch), so each step can slice its batch out of
    the data instead of gathering it.

    Example:
    >>> import numpy as np
    >>> idx = np.arange(8).reshape(2, 4)
    >>> is_contiguous(idx, np.ones((2, 4), bool), 8), is_contiguous(idx[::-1], np.ones((2, 4), bool), 8)
    (True, False)
    """
    flat = np.asarray(idx).reshape(-1)
    if flat.size == 0 or np.ndim(idx) != 2 or not np.asarray(mask).all():
        return False
    return bool(flat[0] >= 0 and flat[-1] < num_samples and (np.diff(flat) == 1).all())


# Gathering a whole execution's batches in one bulk gather before the loop is ~2x faster
# than a small gather per step for small models on XLA:CPU; above this many bytes per
# execution, each step gathers its own batch instead (bounded memory).
BULK_GATHER_BYTES = 256 * 1024 * 1024


# Executions of models whose params and optimizer state fit in this many bytes can run
# their steps unguarded (see `make_execution`): the per-step non-finite guard is a
# noticeable share of a tiny model's step, while the price, keeping the
# execution's initial state alive, is small for such models.
UNGUARDED_MAX_STATE_BYTES = 1024 * 1024


def _state_bytes(ts):
    leaves = jax.tree_util.tree_leaves((ts.params, ts.opt_state))
    return sum(int(np.prod(a.shape)) * jnp.dtype(a.dtype).itemsize for a in leaves)


def can_run_unguarded(mask, unroll):
    """Whether a host plan's execution may use the unguarded loop: every step has a real
    row (a step without one must be skipped, which only the guarded step does)."""
    mask = np.asarray(mask)
    return unroll is not True and mask.shape[0] > 1 and bool(mask.any(axis=1).all())


def make_execution(step_fn, num_steps, unroll, logs_fn, bulk_gather=True, contiguous=False,
                   unguarded_step_fn=None):
    """`execute(ts, data, idx, mask) -> (ts, logs)`: `num_steps` steps in one program.

    `idx`/`mask` have shape `(num_steps, batch)`; the batches are gathered from `data`
    (x, y, sample_weight) on the device, all at once before the loop when `bulk_gather`,
    else step by step. With `contiguous` (see `is_contiguous`) each step slices its batch
    at `idx[step, 0]` instead: no gather, no copy of the epoch's data. With
    `num_steps == 1` there is no loop at all.

    With `unguarded_step_fn` (the step without its non-finite guard; use it only where
    `can_run_unguarded` holds) and a small state (`UNGUARDED_MAX_STATE_BYTES`), the loop
    runs unguarded; if a loss was non-finite at the execution's step `j`, it runs again
    from the initial state for `j` steps. The result is the guarded loop's (the state
    from before the first bad step) without the guard's per-step cost.
    """

    def one(step, ts, batch, m):
        x, y, sw = batch
        return step(ts, (x, y, sw, m))

    def loop(step, ts, data, idx, mask):
        if contiguous:
            size = idx.shape[1]
            if num_steps == 1:
                return one(step, ts, _slice(data, idx[0, 0], size), mask[0])

            def body(carry, sm):
                return one(step, carry, _slice(data, sm[0], size), sm[1]), None

            return lax.scan(body, ts, (idx[:, 0], mask), unroll=unroll)[0]
        if num_steps == 1:
            return one(step, ts, _gather(data, idx[0]), mask[0])
        if bulk_gather:
            def body(carry, bm):
                return one(step, carry, bm[0], bm[1]), None

            return lax.scan(body, ts, (_gather(data, idx), mask), unroll=unroll)[0]

        def body(carry, im):
            return one(step, carry, _gather(data, im[0]), im[1]), None

        return lax.scan(body, ts, (idx, mask), unroll=unroll)[0]

    def execute(ts, data, idx, mask):
        if (unguarded_step_fn is None or num_steps == 1 or unroll is True
                or _state_bytes(ts) > UNGUARDED_MAX_STATE_BYTES):
            ts = loop(step_fn, ts, data, idx, mask)
        else:
            ts = unguarded(ts, data, idx, mask)
        return ts, logs_fn(ts.metric_state)

    def unguarded(ts0, data, idx, mask):
        if contiguous:
            size = idx.shape[1]
            batch_at = lambda i: _slice(data, idx[i, 0], size)  # noqa: E731
        elif bulk_gather:
            batches = _gather(data, idx)
            batch_at = lambda i: jax.tree_util.tree_map(lambda a: a[i], batches)  # noqa: E731
        else:
            batch_at = lambda i: _gather(data, idx[i])  # noqa: E731

        def run(limit):  # `limit` unguarded steps from the initial state
            def body(i, ts):
                return one(unguarded_step_fn, ts, batch_at(i), mask[i])

            return lax.fori_loop(0, limit, body, ts0)

        # One loop in the program, run once, or twice when a loss was non-finite: the
        # second pass stops before the first bad step (at once if the state came in bad).
        def body(carry):
            _, limit, passes, wanted, found = carry
            ts = run(limit)
            bad = ts.metric_state[FIRST_BAD_STEP]
            redo = (passes == 0) & (bad >= 0)
            came_in_bad = ts0.metric_state[FIRST_BAD_STEP] >= 0
            good_steps = jnp.where(came_in_bad, 0, bad - ts0.step).astype(limit.dtype)
            return (ts, jnp.where(redo, good_steps, limit), passes + 1,
                    jnp.where(redo, 2, wanted), jnp.where(redo, bad, found))

        one_int = lambda v: jnp.asarray(v, jnp.int32)  # noqa: E731
        ts, _, _, _, found = lax.while_loop(
            lambda c: c[2] < c[3], body,
            (ts0, one_int(num_steps), one_int(0), one_int(1), one_int(-1)))
        # After a second pass the state is the one from before the first bad step; it
        # keeps that step's index, as the guarded loop does.
        first_bad = jnp.where(found >= 0, found, ts.metric_state[FIRST_BAD_STEP])
        return ts._replace(metric_state={**ts.metric_state, FIRST_BAD_STEP: first_bad})

    return execute


def uses_randomness(fn, *args):
    """Whether `fn(*args)` draws random numbers (inspected at trace time).

    Only random operations whose results reach an output count: a key folded in and then
    never drawn from (as containers do for every sub-layer) costs nothing once XLA drops
    it, so it does not make the step split its key.
    """
    names = ("threefry2x32", "random_bits", "random_split", "random_fold_in", "random_seed")
    literal = jax.extend.core.Literal

    def walk(jaxpr):
        live = {v for v in jaxpr.outvars if not isinstance(v, literal)}
        for eqn in reversed(jaxpr.eqns):
            if not (eqn.effects or any(v in live for v in eqn.outvars)):
                continue
            if eqn.primitive.name in names:
                return True
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                if walk(sub):
                    return True
            live.update(v for v in eqn.invars if not isinstance(v, literal))
        return False

    return walk(jax.make_jaxpr(fn)(*args).jaxpr)


def make_predict_execution(predict_fn, num_steps, unroll):
    """`execute(params, state, x_data, idx, mask) -> (outputs, state)`, the outputs with
    a leading `(steps, batch)`; the state a layer assigns in `call` carries over from
    step to step (steps without real rows leave it), as Keras keeps it."""

    def execute(params, state, data, idx, mask):
        def one(state, x, m):
            out, new = predict_fn(params, state, x)
            return keep_if_rows(m, new, state), out

        if num_steps == 1:
            state, out = one(state, _gather(data, idx[0]), mask[0])
            return jax.tree_util.tree_map(lambda o: o[None], out), state

        def body(carry, im):
            return one(carry, _gather(data, im[0]), im[1])

        state, outs = lax.scan(body, state, (idx, mask), unroll=unroll)
        return outs, state

    return execute


def real_rows(outputs, mask):
    """Host outputs `(steps, batch, ...)` of an execution, flattened to its real rows.

    Example:
    >>> import numpy as np
    >>> real_rows(np.arange(4).reshape(2, 2), np.array([[True, True], [True, False]]))
    array([0, 1, 2])
    """
    rows = np.asarray(mask).reshape(-1)
    return jax.tree_util.tree_map(
        lambda a: np.asarray(a).reshape((-1,) + a.shape[2:])[rows], outputs)


def zeros_like_tree(tree):
    return jax.tree_util.tree_map(jnp.zeros_like, tree)
