"""W5 (the causal transformer LM) on a shared machine: kerax `fit` vs the naive hand floor,
in wall time and in CPU time, ratios paired per round.

    python -m bench.w5                  # quick size (20 steps per epoch), 9 rounds
    python -m bench.w5 --rounds 15 --n 1280

On a machine loaded by other processes the wall time of an epoch varies by +-50% from one
epoch to the next, so the medians of `python -m bench` decide little. Here each round runs
one epoch of every way back to back (the order rotates), the ratio to the floor is taken
within the round, and the process' CPU time (user + system, all threads) is reported
beside the wall time: the work a way does, which the load barely changes (its system
part is mostly page faults: each execution's large temporaries are mapped anew). "kerax fit
spe=5" is what "auto" chose for W5 before it counted each execution's fresh temporaries
(one execution per 5 steps; now one per 20-step epoch, as the hand scan).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench import workloads as W  # noqa: E402

WAYS = ("kerax fit", "kerax fit spe=5", "hand scan")


def _timed(way):
    t, c = time.perf_counter(), os.times()
    way.epoch()
    end = os.times()
    return time.perf_counter() - t, (end.user - c.user) + (end.system - c.system), \
        end.system - c.system


def _stats(values):
    return statistics.median(values), (max(values) - min(values)) / 2


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.w5", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--n", type=int, default=W.WORKLOADS["W5"]["quick_n"],
                        help="examples per epoch")
    args = parser.parse_args()
    spec = W.WORKLOADS["W5"]
    x, y = W.make_data(spec, args.n)
    ways = {name: W.make_way(name, spec, x, y) for name in WAYS}
    for way in ways.values():  # compile, then one warm epoch
        way.epoch()
        way.epoch()
    wall, cpu, system = ({n: [] for n in ways} for _ in range(3))
    names = list(ways)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            w, c, k = _timed(ways[name])
            wall[name].append(w)
            cpu[name].append(c)
            system[name].append(k)
    print(f"W5 {spec['title']}, {args.n} examples/epoch, {args.rounds} rounds; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    print("| way | wall ms/epoch | ± | speed / floor (paired) | ± | CPU ms/epoch | ± "
          "| CPU speed / floor (paired) | ± | of which system ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        rel_wall = [h / k for k, h in zip(wall[name], wall["hand scan"])]
        rel_cpu = [h / k for k, h in zip(cpu[name], cpu["hand scan"])]
        cells = [*_stats(wall[name]), *_stats(rel_wall), *_stats(cpu[name]), *_stats(rel_cpu)]
        print(f"| {name} | {cells[0] * 1e3:,.0f} | {cells[1] * 1e3:,.0f} | {cells[2]:.2f} | "
              f"{cells[3]:.2f} | {cells[4] * 1e3:,.0f} | {cells[5] * 1e3:,.0f} | "
              f"{cells[6]:.2f} | {cells[7]:.2f} | {statistics.median(system[name]) * 1e3:,.0f} |")


if __name__ == "__main__":
    main()
