"""`fit` on streams vs the same `fit` on arrays: paired, interleaved ratios.

    python -m bench.streams                       # W4 and W1 (--quick sizes), 15 rounds
    python -m bench.streams --workload W5 --rounds 5

Every round times one epoch of each way back to back (the order rotates), so the ratio
stream / arrays of a round compares two runs made under the same load; the table gives
the median of those per-round ratios with their spread ((max - min) / 2), and the ratio of
the best epochs (the run that was least disturbed by other processes). The CPU columns
compare the process's CPU time per epoch (all threads: the device's and the reading's):
the work a stream adds, whatever the load. On a machine shared with other processes the
reading cannot hide on a free core, and the wall-clock ratio approaches the CPU ratio.
The streams feed the same batches in the same order as the arrays (see
`bench.workloads`): a `kerax.utils.PyDataset`, a Python generator (unknown length), a
re-iterable (a class with `__iter__`, like a torch `DataLoader`) and a grain
`MapDataset`.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

from bench import workloads as W  # noqa: E402

STREAM_WAYS = ["kerax fit PyDataset", "kerax fit generator", "kerax fit iterable",
               "kerax fit grain"]


def run(name, rounds, ways, raw=None):
    spec = W.WORKLOADS[name]
    x, y = W.make_data(spec, spec["quick_n"])
    ways = ["kerax fit"] + ways
    built = {}
    for way in ways:
        try:
            built[way] = W.make_way(way, spec, x, y)
            built[way].epoch()  # warm-up: compiles
        except ImportError as e:  # grain not installed
            print(f"{way}: skipped ({e})")
    clocks = {way: _cpu_clock(fit) for way, fit in built.items()}
    seconds = {way: [] for way in built}
    cpu = {way: [] for way in built}
    order = list(built)
    for r in range(rounds):
        for way in order[r % len(order):] + order[:r % len(order)]:
            clocks[way].cpu = []
            seconds[way].append(sum(built[way].epoch() for _ in range(spec["reps"])))
            cpu[way].append(sum(clocks[way].cpu))
    examples = spec["reps"] * built["kerax fit"].examples
    if raw is not None:  # the per-round samples, to pool several runs
        raw[name] = {"examples": examples, "seconds": seconds, "cpu": cpu}
    print(f"\n### {name} {spec['title']}, batch {spec['batch']}: stream / arrays, "
          f"{rounds} rounds\n")
    print("| way | examples/s (median) | ± | / arrays (median of rounds) | ± | / arrays (best) "
          "| CPU / arrays (median) | ± |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base, base_cpu = seconds["kerax fit"], cpu["kerax fit"]
    for way, times in seconds.items():
        rates = [examples / t for t in times]
        ratios = [b / t for b, t in zip(base, times)]
        cpu_ratios = [b / t for b, t in zip(base_cpu, cpu[way])]
        print(f"| {way} | {statistics.median(rates):,.0f} | {(max(rates) - min(rates)) / 2:,.0f} "
              f"| {statistics.median(ratios):.2f} | {(max(ratios) - min(ratios)) / 2:.2f} "
              f"| {min(base) / min(times):.2f} | {statistics.median(cpu_ratios):.2f} "
              f"| {(max(cpu_ratios) - min(cpu_ratios)) / 2:.2f} |")


def _cpu_clock(fit):
    """Replaces `fit`'s epoch timer by one that also records the process's CPU time."""
    import kerax

    class Clock(kerax.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.cpu = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t, self.c = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            fit.epoch_seconds.append(time.perf_counter() - self.t)
            self.cpu.append(time.process_time() - self.c)

    fit.timer = Clock()
    return fit.timer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="W4,W1")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--ways", default=",".join(STREAM_WAYS))
    parser.add_argument("--raw", help="write every round's seconds and CPU seconds to this "
                                      "JSON file")
    args = parser.parse_args()
    start = time.time()
    raw = {}
    for name in args.workload.split(","):
        run(name, args.rounds, args.ways.split(","), raw)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(raw, f)
    print(f"\n(total {time.time() - start:.0f} s; load average at the end "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())})")


if __name__ == "__main__":
    main()
