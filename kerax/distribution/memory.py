"""`memory_report`: per-device memory of one training step, before training starts."""

import jax
import numpy as np

from kerax.errors import NotCompiledError


def _nbytes_per_device(tree):
    total = 0
    for a in jax.tree_util.tree_leaves(tree):
        shape = a.sharding.shard_shape(a.shape) if hasattr(a, "sharding") else a.shape
        total += int(np.prod(shape)) * np.dtype(a.dtype).itemsize
    return total


def memory_report(model, x, y=None, batch_size=32):
    """Per-device bytes of a compiled training step under the current distribution.

    Compiles one training step for a batch of `batch_size` rows like `x`/`y` (no step
    runs) and reads XLA's `compiled.memory_analysis()`. The model must be compiled. It
    prepares a `fit` (`model.prepare_fit`, which sets `model.fit_run`) on one row of
    `x`/`y` and compiles the run's first execution.

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
    if not getattr(model, "compiled", False):
        raise NotCompiledError(
            "You must call `compile()` before `memory_report()`: the model needs an "
            "optimizer and a loss, e.g. `model.compile(optimizer='adam', loss='mse')`.")
    # Only the shapes matter: one row of each array, planned in batches of `batch_size`.
    one_row = lambda a: np.asarray(a)[:1]  # noqa: E731
    run = model.prepare_fit(jax.tree_util.tree_map(one_row, x),
                            None if y is None else jax.tree_util.tree_map(one_row, y),
                            batch_size=batch_size, verbose=0, steps_per_epoch=1)
    program, ts, args = run.first_execution()
    compiled = program.lower(ts, *args).compile()
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
