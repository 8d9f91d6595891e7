"""What a step costs: its FLOPs (from a traced jaxpr) and an execution's memory (from
XLA's memory analysis), for choosing "auto" `steps_per_execution`."""

import os

import jax
import jax.extend
import numpy as np

# "auto" steps_per_execution keeps a compiled execution's memory (see `execution_memory`)
# within this share of the device's memory (of the RAM available on CPU), or within
# `EXECUTION_MEMORY_BUDGET` bytes when that is set.
EXECUTION_MEMORY_FRACTION = 0.5
EXECUTION_MEMORY_BUDGET = None


def execution_memory_budget(device=None):
    """Bytes an "auto"-sized execution may use: `EXECUTION_MEMORY_BUDGET` if set, else
    `EXECUTION_MEMORY_FRACTION` of the device's memory limit (GPU/TPU) or of the RAM
    available now (CPU).

    Example:
    >>> execution_memory_budget() > 0
    True
    """
    if EXECUTION_MEMORY_BUDGET is not None:
        return int(EXECUTION_MEMORY_BUDGET)
    device = device or jax.local_devices()[0]
    try:
        limit = (device.memory_stats() or {}).get("bytes_limit")
    except Exception:  # memory_stats is not implemented everywhere
        limit = None
    if not limit:
        try:
            limit = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            limit = 8 * 1024**3
    return int(limit * EXECUTION_MEMORY_FRACTION)


def execution_memory(compiled):
    """`(needed, fixed)` bytes of a compiled program from XLA's memory analysis: needed =
    arguments + outputs not aliased to (donated) arguments + temporaries; fixed = the
    part that does not depend on the number of steps (arguments and outputs).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> compiled = jax.jit(lambda a: a + 1).lower(jnp.ones(4)).compile()
    >>> execution_memory(compiled)[1] >= 32
    True
    """
    stats = compiled.memory_analysis()
    if stats is None:
        return 0, 0
    fixed = (stats.argument_size_in_bytes + stats.output_size_in_bytes
             - stats.alias_size_in_bytes)
    return fixed + stats.temp_size_in_bytes, fixed


def has_convolution(closed_jaxpr):
    """Whether a traced program contains a convolution (at any nesting depth)."""

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in ("conv_general_dilated", "conv"):
                return True
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                if walk(sub):
                    return True
        return False

    return walk(closed_jaxpr.jaxpr)


def jaxpr_flops(closed_jaxpr):
    """Floating-point operations of a traced program, counted from its equations.

    A matrix product counts `2 * output size * contracted size`, a convolution
    `2 * output size * kernel size / output features`, any other operation one per
    output element; a loop body counts once (as XLA's cost analysis does).

    Example:
    >>> import jax, jax.numpy as jnp
    >>> jaxpr_flops(jax.make_jaxpr(jnp.dot)(jnp.ones((4, 3)), jnp.ones((3, 2))))
    48
    """

    def count(jaxpr):
        total = 0
        for eqn in jaxpr.eqns:
            name = eqn.primitive.name
            out = sum(int(np.prod(v.aval.shape)) for v in eqn.outvars
                      if hasattr(v.aval, "shape"))
            subs = list(jax.extend.core.jaxprs_in_params(eqn.params))
            if name == "dot_general":
                (lhs_contract, _), _ = eqn.params["dimension_numbers"]
                lhs = eqn.invars[0].aval.shape
                total += 2 * out * int(np.prod([lhs[d] for d in lhs_contract]))
            elif name == "conv_general_dilated":
                rhs = eqn.invars[1].aval.shape
                features = rhs[eqn.params["dimension_numbers"].rhs_spec[0]]
                total += 2 * out * int(np.prod(rhs)) // max(int(features), 1)
            elif subs:
                total += sum(count(sub) for sub in subs)
            else:
                total += out
        return total

    return count(closed_jaxpr.jaxpr)


def jaxpr_bytes(closed_jaxpr):
    """Bytes of the values a traced program computes (a loop body counted once): a
    stand-in for its compiled step's temporaries (within ~2x of XLA's memory analysis
    for a transformer or an MLP), known before anything is compiled.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> jaxpr_bytes(jax.make_jaxpr(lambda a: jnp.tanh(a) + 1)(jnp.ones((4, 5))))
    160
    """

    def count(jaxpr):
        total = 0
        for eqn in jaxpr.eqns:
            subs = list(jax.extend.core.jaxprs_in_params(eqn.params))
            if subs:
                total += sum(count(sub) for sub in subs)
                continue
            total += sum(int(np.prod(v.aval.shape)) * v.aval.dtype.itemsize
                         for v in eqn.outvars if hasattr(v.aval, "shape"))
        return total

    return count(closed_jaxpr.jaxpr)


def train_step_flops(forward_jaxpr, num_params):
    """A training step's FLOPs estimated from its forward pass: forward plus backward
    (about 3x the forward) plus an optimizer update (about 12 per parameter); within
    ~25% of XLA's cost analysis of the whole step on dense, convolutional and recurrent
    models, at a fraction of the cost of tracing and lowering that step.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> fwd = jax.make_jaxpr(jnp.dot)(jnp.ones((4, 3)), jnp.ones((3, 2)))
    >>> train_step_flops(fwd, num_params=6)
    216
    """
    return 3 * jaxpr_flops(forward_jaxpr) + 12 * int(num_params)


__all__ = ["execution_memory_budget", "execution_memory", "has_convolution", "jaxpr_flops",
           "jaxpr_bytes", "train_step_flops"]
