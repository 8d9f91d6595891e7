"""Memory at scale: the deepest transformer LM whose training step fits a memory budget.

    python -m bench.memory                      # budget 512 MiB, d=256, seq 256, batch 16
    python -m bench.memory --budget-mib 1024 --dim 512

For each way, one training step is compiled (never run) and its memory is XLA's
`compiled.memory_analysis()`: arguments + outputs + temporaries - donated aliases (for
kerax, `kerax.distribution.memory_report`, the step `fit` runs). The memory grows linearly
with the number of blocks, so two compiles (1 and 2 blocks) give the slope, and a third at
the predicted depth checks it (stepping down until it fits). Ways: kerax `fit` (float32),
kerax with every layer inside `kerax.RematScope("full")`, kerax with a `mixed_bfloat16`
policy, and the hand-written jax+optax step of the same model (bench W5's floor) without
and with `jax.checkpoint` around each block.
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import optax  # noqa: E402

from bench import workloads as W  # noqa: E402


def _spec(args, layers):
    return dict(kind="lm", layers=layers, dim=args.dim, heads=args.heads, length=args.length,
                vocab=1000, batch=args.batch, title=f"LM d={args.dim}, {layers} blocks")


def kerax_bytes(spec, mode):
    import kerax

    x, y = W.make_data(spec, spec["batch"])
    if mode == "bf16":
        kerax.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        if mode == "remat":
            with kerax.RematScope(mode="full"):
                model = W.build_model(kerax, spec)
        else:
            model = W.build_model(kerax, spec)
        W.compile_model(kerax, model, spec)
        report = kerax.distribution.memory_report(model, x, y, batch_size=spec["batch"])
    finally:
        kerax.mixed_precision.set_global_policy("float32")
        kerax.backend.clear_session()
    return report["total"]


def hand_bytes(spec, remat):
    x, y = W.make_data(spec, spec["batch"])
    tx = optax.adam(1e-3, eps=1e-7)
    params = W.init_params(spec, jax.random.PRNGKey(0))
    forward = W._lm_forward
    if remat:
        forward = lambda s, p, x: W._lm_forward(s, p, x, remat=True)  # noqa: E731

    def step(params, opt_state, x, y):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(forward(spec, p, x), y).mean()

        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    compiled = jax.jit(step, donate_argnums=(0, 1)).lower(
        params, tx.init(params), x, y).compile()
    s = compiled.memory_analysis()
    return (s.argument_size_in_bytes + s.output_size_in_bytes - s.alias_size_in_bytes
            + s.temp_size_in_bytes)


WAYS = {
    "kerax fit": lambda spec: kerax_bytes(spec, "float32"),
    "kerax fit, RematScope('full')": lambda spec: kerax_bytes(spec, "remat"),
    "kerax fit, mixed_bfloat16": lambda spec: kerax_bytes(spec, "bf16"),
    "hand jax+optax": lambda spec: hand_bytes(spec, remat=False),
    "hand, jax.checkpoint per block": lambda spec: hand_bytes(spec, remat=True),
}


def deepest(measure, args):
    """`(blocks, bytes, bytes per block)`: the most blocks whose step fits the budget."""
    budget = args.budget_mib * 2**20
    one, two = measure(_spec(args, 1)), measure(_spec(args, 2))
    slope = max(two - one, 1)
    blocks = max(0, int((budget - (one - slope)) // slope))
    blocks = min(blocks, args.max_blocks)
    while blocks > 0:
        used = measure(_spec(args, blocks))
        if used <= budget:
            return blocks, used, slope
        blocks -= max(1, (used - budget) // slope)
    return 0, one, slope


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.memory",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--budget-mib", type=int, default=512)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-blocks", type=int, default=64)
    args = parser.parse_args()
    print(f"\n### Deepest causal transformer LM (d={args.dim}, {args.heads} heads, seq "
          f"{args.length}, batch {args.batch}, vocab 1000) whose training step fits "
          f"{args.budget_mib} MiB (XLA memory_analysis, {jax.default_backend()})\n")
    print("| way | blocks | step MiB at that depth | MiB per block |")
    print("|---|---:|---:|---:|")
    for name, measure in WAYS.items():
        blocks, used, slope = deepest(measure, args)
        print(f"| {name} | {blocks} | {used / 2**20:,.0f} | {slope / 2**20:,.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
