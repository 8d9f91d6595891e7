"""`memory_report`: per-device memory of one training step, before training starts."""

import jax
import numpy as np


def _nbytes_per_device(tree):
    total = 0
    for a in jax.tree_util.tree_leaves(tree):
        shape = a.sharding.shard_shape(a.shape) if hasattr(a, "sharding") else a.shape
        total += int(np.prod(shape)) * np.dtype(a.dtype).itemsize
    return total


def memory_report(model, x, y=None, batch_size=32):
    """Per-device bytes of a compiled training step under the current distribution.

    Compiles one training step for a batch of `batch_size` rows like `x`/`y` (no step
    runs) and reads XLA's `compiled.memory_analysis()`. The model must be compiled.

    Args:
        model: a compiled kerax model.
        x, y: sample inputs and targets (only shapes and dtypes are used).
        batch_size: the global batch size to plan for.

    Returns:
        A dict of per-device bytes: `"params"`, `"optimizer_state"` (as laid out by the
        distribution), and XLA's `"arguments"`, `"outputs"`, `"temporaries"` (activations
        and other scratch), `"generated_code"`, and `"total"`
        (arguments + outputs + temporaries - aliased donated buffers).

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> report = kerax.distribution.memory_report(model, np.ones((8, 4)), np.ones((8, 2)))
    >>> report["params"]
    40
    """
    from kerax.distribution import placement

    model._require_compiled("memory_report")
    x, y, sw, batch_size = model._prepare_arrays(x, y, None, batch_size, "memory_report")
    model._ensure_built(x)
    model._validate_against_model(x, y, sw)
    row = lambda a: np.zeros((1,) + a.shape[1:], a.dtype)  # noqa: E731
    data = jax.tree_util.tree_map(row, (x, y, sw))
    model._build_metrics(data)
    data = placement.place_data(data)
    ts = model._make_train_state()
    idx, mask = placement.place_plan(np.zeros((1, batch_size), np.int32),
                                     np.ones((1, batch_size), bool), 1)
    fn = model._program("train", 1, (ts, data, idx, mask))
    compiled = fn.lower(ts, data, idx, mask).compile()
    stats = compiled.memory_analysis()
    get = lambda name: int(getattr(stats, name, 0) or 0)  # noqa: E731
    report = {
        "params": _nbytes_per_device(ts.params),
        "optimizer_state": _nbytes_per_device(ts.opt_state),
        "arguments": get("argument_size_in_bytes"),
        "outputs": get("output_size_in_bytes"),
        "temporaries": get("temp_size_in_bytes"),
        "generated_code": get("generated_code_size_in_bytes"),
    }
    report["total"] = (report["arguments"] + report["outputs"] + report["temporaries"]
                       - get("alias_size_in_bytes"))
    return report
