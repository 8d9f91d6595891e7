"""`ProgramsMixin`: the compiled executions of a model, cached per signature.

An execution runs K steps of one step kind in one dispatch. Array inputs gather their
batches on the device by index (`steps.make_execution`); streams hand in K stacked
batches (`make_stream_execution`). The step itself is the built-in one or the model's
custom step (`custom_steps.StepFunctions`): every step kind gets the same executions.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.distribution import placement
from kerax.trainer import compile_cache
from kerax.trainer import custom_steps
from kerax.trainer import steps as steps_lib

_FLAG = steps_lib.FIRST_BAD_STEP


def make_stream_execution(step_fn, num_steps, unroll, logs_fn):
    """`execute(ts, batches, mask) -> (ts, logs)` over `num_steps` stacked batches.

    The loop stops after the last step with real rows: the empty steps that fill a short
    final execution (a stream of unknown length) cost nothing.
    """

    def execute(ts, batches, mask):
        def body(i, carry):
            x, y, sw = jax.tree_util.tree_map(lambda a: a[i], batches)
            return step_fn(carry, (x, y, sw, mask[i]))

        if num_steps == 1:
            ts = step_fn(ts, jax.tree_util.tree_map(lambda a: a[0], batches) + (mask[0],))
        elif unroll is True:
            ts, _ = lax.scan(lambda c, bm: (step_fn(c, bm[0] + (bm[1],)), None), ts,
                             (batches, mask), unroll=True)
        else:
            has_rows = jnp.any(mask, axis=1)
            end = jnp.max(jnp.where(has_rows, jnp.arange(1, num_steps + 1), 0))
            ts = lax.fori_loop(0, end, body, ts)
        return ts, logs_fn(ts.metric_state)

    return execute


def make_stream_predict(predict_fn, unroll):
    """`predict(params, state, batches, mask) -> (outputs, state)` over stacked batches
    (the state a layer assigns in `call` carries over; empty steps leave it).

    As in `make_stream_execution`, a rolled loop stops after the last step with real
    rows: the empty steps that fill a short final execution (a stream of unknown length)
    are not computed (their outputs, never read, stay zeros).
    """

    def predict(params, state, batches, mask):
        def step(carry, xm):
            out, new = predict_fn(params, carry, xm[0])
            return steps_lib.keep_if_rows(xm[1], new, carry), out

        num_steps = mask.shape[0]
        if unroll is True or num_steps == 1:
            state, outs = lax.scan(step, state, (batches, mask), unroll=unroll)
            return outs, state

        def body(i, carry):
            state, outs = carry
            state, out = step(state, jax.tree_util.tree_map(lambda a: a[i], (batches, mask)))
            return state, jax.tree_util.tree_map(
                lambda buf, o: lax.dynamic_update_index_in_dim(buf, o, i, 0), outs, out)

        first = jax.tree_util.tree_map(lambda a: a[0], batches)
        shapes = jax.eval_shape(lambda s, x: predict_fn(params, s, x)[0], state, first)
        outs = jax.tree_util.tree_map(
            lambda s: jnp.zeros((num_steps,) + s.shape, s.dtype), shapes)
        has_rows = jnp.any(mask, axis=1)
        end = jnp.max(jnp.where(has_rows, jnp.arange(1, num_steps + 1), 0))
        state, outs = lax.fori_loop(0, end, body, (state, outs))
        return outs, state

    return predict


def make_direct_predict(predict_fn):
    """`predict(params, state, x) -> (outputs, state)` of one whole batch `x`, the
    outputs with a leading steps axis of 1 (as the gathering executions give them)."""

    def predict(params, state, x):
        out, state = predict_fn(params, state, x)
        return jax.tree_util.tree_map(lambda o: o[None], out), state

    return predict


class ProgramsMixin:
    """The compiled executions of `Trainer` (see `Model`)."""

    def _logs_fn(self, kind):
        def logs_fn(ms):
            return {**self._metric_results(ms, kind), _FLAG: ms[_FLAG]}

        return logs_fn

    def _cached_program(self, sig, kind, build):
        fn = self._programs.get(sig)
        if fn is None:
            compile_cache.ensure_configured()
            fn = self._programs[sig] = build(
                custom_steps.StepFunctions(self, self._trainable_mask()),
                self._unroll_for(kind))
            self.compile_counts[kind] = self.compile_counts.get(kind, 0) + 1
        return fn

    def _program(self, kind, num_steps, example_args=None, contiguous=False, unguarded=False):
        """A jitted array execution per (kind, steps, trainable mask); jit handles new
        shapes."""
        bulk = num_steps * self.__dict__.get("_batch_bytes", 0) <= steps_lib.BULK_GATHER_BYTES
        sig = (kind, num_steps, self._trainable_mask_signature(), placement.program_key(),
               bulk, contiguous, unguarded)

        def build(step_fns, unroll):
            if kind == "predict_direct":
                return jax.jit(make_direct_predict(step_fns.predict_step))
            if kind == "predict":
                return jax.jit(steps_lib.make_predict_execution(step_fns.predict_step,
                                                                num_steps, unroll))
            step = step_fns.train_step if kind == "train" else step_fns.test_step
            body = steps_lib.make_execution(
                step, num_steps, unroll, self._logs_fn(kind), bulk, contiguous,
                step_fns.train_step_unguarded if kind == "train" and unguarded else None)
            return placement.jit_execution(body, example_args[0], self, kind == "train")

        return self._cached_program(sig, "predict" if kind == "predict_direct" else kind,
                                    build)

    def _stream_program(self, kind, num_steps, example_ts=None):
        """A jitted stream execution of `kind` ("train", "test", "predict")."""
        name = "stream_" + kind
        sig = (name, num_steps, self._trainable_mask_signature(), placement.program_key())

        def build(step_fns, unroll):
            if kind == "predict":
                return jax.jit(make_stream_predict(step_fns.predict_step, unroll))
            step = step_fns.train_step if kind == "train" else step_fns.test_step
            return placement.jit_execution(
                make_stream_execution(step, num_steps, unroll, self._logs_fn(kind)),
                example_ts, self, kind == "train")

        return self._cached_program(sig, name, build)

    def _unroll_for(self, kind):
        return bool(getattr(self, "_unroll_scan", False))

    def _segment(self, idx, mask, start, k):
        """`(idx, mask, steps)`: the plan of the next execution, which runs `steps` real
        steps from `start`: up to `k` steps of padded batches; or, when the steps need
        exact batches (`_exact_last_batch`: a custom step, or added losses over rows),
        the steps before the first short batch, or that short batch alone at its real
        rows. An exact execution is filled up to `k` steps with empty ones (skipped by
        the step), so wherever a short batch falls, executions have one of two shapes."""
        size = min(k, idx.shape[0] - start)
        if not getattr(self, "_exact_last_batch", False):
            return idx[start:start + size], mask[start:start + size], size
        full = mask[start:start + size].all(axis=1)
        rows = None
        if not full.all():
            size, rows = (int(np.argmin(full)), None) if full[0] else (1, int(mask[start].sum()))
        step_idx, step_mask = idx[start:start + size, :rows], mask[start:start + size, :rows]
        if size < k:
            fill = ((0, k - size), (0, 0))
            step_idx, step_mask = np.pad(step_idx, fill), np.pad(step_mask, fill)
        return step_idx, step_mask, size

    def _train_execution(self, ts, adapter, idx, mask):
        """The program and its arguments (after `ts`) for an execution's plan."""
        size = idx.shape[0]
        args = (adapter.data,) + adapter.place_plan(idx, mask)
        # An unshuffled plan slices its batches out of the data instead of gathering.
        contiguous = (adapter.shuffle is False and placement.current() is None
                      and steps_lib.is_contiguous(idx, mask, adapter.num_samples))
        # Tiny models run their steps unguarded when every step has real rows.
        unguarded = steps_lib.can_run_unguarded(mask, self._unroll_for("train"))
        return self._program("train", size, (ts,) + args, contiguous, unguarded), args


__all__ = ["ProgramsMixin", "make_direct_predict", "make_stream_execution",
           "make_stream_predict"]
