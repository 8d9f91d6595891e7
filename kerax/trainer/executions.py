"""The executions an input provides to the one epoch loop, for every step kind.

`executions_for(model, adapter)` wraps a data adapter: `ArrayExecutions` plans epochs as
index arrays gathered on the device, `StreamExecutions` stacks and prefetches host
batches. Both offer the same three iterators, `train`, `test` and `predict`, of
`(program, args, steps)`: a compiled execution of the model's train/test/predict step
(built-in or custom), its arguments after the state, and how many real batches it runs.
"""

import numpy as np

from kerax.distribution import placement
from kerax.trainer import predict_plan


class ArrayExecutions:
    """Executions over an `ArrayDataAdapter`'s epoch plans (`(steps, batch)` indices)."""

    is_stream = False

    def __init__(self, model, adapter):
        self.model = model
        self.adapter = adapter

    def epoch_plan(self):
        return self.adapter.epoch_plan()

    def train(self, ts, plan, k, start=0):
        idx, mask = plan
        while start < idx.shape[0]:
            step_idx, step_mask, size = self.model._segment(idx, mask, start, k)
            program, args = self.model._train_execution(ts, self.adapter, step_idx, step_mask)
            yield program, args, size
            start += size

    def test(self, ts, plan, k):
        idx, mask = plan
        start = 0
        while start < idx.shape[0]:
            step_idx, step_mask, size = self.model._segment(idx, mask, start, k)
            args = (self.adapter.data,) + self.adapter.place_plan(step_idx, step_mask)
            yield self.model._program("test", step_idx.shape[0], (ts,) + args), args, size
            start += size

    def predict(self, plan, k):
        """Yields `(program, args, steps, mask)`: `program(params, state, *args) ->
        (outputs, state)`; `mask` marks the real rows."""
        idx, mask = plan
        x_data, start = self.adapter.data[0], 0
        if (idx.shape[0] == 1 and idx.shape[1] >= self.adapter.num_samples
                and placement.current() is None):
            # One batch (`idx` is `arange(n)` then padding: predict keeps the order): the
            # predict step runs on the data itself, padded on the host to the batch's rows
            # (so 1 to `batch_size` examples compile one program per power of two rows).
            x_data = predict_plan.pad_rows(x_data, idx.shape[1])
            yield self.model._program("predict_direct", 1), (x_data,), 1, mask
            return
        while start < idx.shape[0]:
            size = min(k, idx.shape[0] - start)
            args = (x_data,) + self.adapter.place_plan(idx[start:start + size],
                                                       mask[start:start + size])
            yield self.model._program("predict", size), args, size, mask[start:start + size]
            start += size


class StreamExecutions:
    """Executions over a `StreamDataAdapter`'s stacked, prefetched batches."""

    is_stream = True

    def __init__(self, model, adapter):
        self.model = model
        self.adapter = adapter

    def epoch_plan(self):
        return None

    def train(self, ts, plan, k, start=0):
        return self._run("train", ts, k)

    def test(self, ts, plan, k):
        return self._run("test", ts, k)

    def _run(self, kind, ts, k):
        for batches, mask, real in self.adapter.executions(k):
            program = self.model._stream_program(kind, mask.shape[0], ts)
            yield program, placement.place_batches(batches, mask), real

    def predict(self, plan, k):
        for batches, mask, real in self.adapter.executions(k):
            placed, placed_mask = placement.place_batches(batches, mask)
            program = self.model._stream_program("predict", mask.shape[0])
            yield program, (placed[0], placed_mask), real, np.asarray(mask)


def executions_for(model, adapter):
    """The `ArrayExecutions` or `StreamExecutions` of `adapter`."""
    kind = StreamExecutions if hasattr(adapter, "executions") else ArrayExecutions
    return kind(model, adapter)


__all__ = ["ArrayExecutions", "StreamExecutions", "executions_for"]
