"""`fit` on streams vs the same `fit` on arrays: paired, interleaved ratios.

    python -m bench.streams                       # W4 and W1 (--quick sizes), 15 rounds
    python -m bench.streams --workload W5 --rounds 5

Every round times one epoch of each way back to back (the order rotates), so the ratio
stream / arrays of a round compares two runs made under the same load; the table gives
the median of those per-round ratios with their spread ((max - min) / 2), and the ratio of
the best epochs (the run that was least disturbed by other processes). The streams feed
the same batches in the same order as the arrays (see `bench.workloads`): a
`kerax.utils.PyDataset`, a Python generator (unknown length), a re-iterable (a class
with `__iter__`, like a torch `DataLoader`) and a grain `MapDataset`.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

from bench import workloads as W  # noqa: E402

STREAM_WAYS = ["kerax fit PyDataset", "kerax fit generator", "kerax fit iterable",
               "kerax fit grain"]


def run(name, rounds, ways):
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
    seconds = {way: [] for way in built}
    order = list(built)
    for r in range(rounds):
        for way in order[r % len(order):] + order[:r % len(order)]:
            seconds[way].append(sum(built[way].epoch() for _ in range(spec["reps"])))
    examples = spec["reps"] * built["kerax fit"].examples
    print(f"\n### {name} {spec['title']}, batch {spec['batch']}: stream / arrays, "
          f"{rounds} rounds\n")
    print("| way | examples/s (median) | ± | / arrays (median of rounds) | ± | / arrays (best) |")
    print("|---|---:|---:|---:|---:|---:|")
    base = seconds["kerax fit"]
    for way, times in seconds.items():
        rates = [examples / t for t in times]
        ratios = [b / t for b, t in zip(base, times)]
        print(f"| {way} | {statistics.median(rates):,.0f} | {(max(rates) - min(rates)) / 2:,.0f} "
              f"| {statistics.median(ratios):.2f} | {(max(ratios) - min(ratios)) / 2:.2f} "
              f"| {min(base) / min(times):.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="W4,W1")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--ways", default=",".join(STREAM_WAYS))
    args = parser.parse_args()
    start = time.time()
    for name in args.workload.split(","):
        run(name, args.rounds, args.ways.split(","))
    print(f"\n(total {time.time() - start:.0f} s; load average at the end "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())})")


if __name__ == "__main__":
    main()
