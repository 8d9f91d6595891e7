"""Where each array of a training checkpoint goes when it is restored.

Under a distribution, parameters and model state take the layout their path gets from
the distribution (a `LayoutMap` rule, or replicated), optimizer slots the layout of their
parameter, and the rest (metric sums, the RNG key) is replicated: the same placement the
trainer gives a live `TrainState`. Restoring reads each array straight onto that
sharding, so no device or host ever holds a full copy of a sharded parameter. With no
distribution there is nothing to say (arrays come back on the default device), whatever
distribution wrote the checkpoint.
"""

import jax

from kerax.distribution import placement


def training_shardings(model, tree):
    """Shardings for a `training_checkpoint` tree of `model`, or None (no distribution).

    The result has `tree`'s structure; the data position (host arrays) gets None leaves.
    """
    dist = placement.current()
    if dist is None:
        return None
    var = placement.variable_shardings(
        model, {"params": tree["params"], "state": tree["state"]}, dist, check=False)
    rep = placement.replicated(dist)
    everywhere = lambda t: jax.tree_util.tree_map(lambda _: rep, t)  # noqa: E731
    opt = tree["opt_state"]
    if opt is not None:
        opt = placement.opt_state_shardings(opt, tree["params"], var["params"], dist)
    out = {"params": var["params"], "state": var["state"], "opt_state": opt}
    for key, value in tree.items():
        if key not in out:
            out[key] = (jax.tree_util.tree_map(lambda _: None, value) if key == "data"
                        else everywhere(value))
    return out
