"""DataParallel overhead: 8 simulated CPU devices vs 1 device on the same total work.

Run: python bench/bench_distribution.py  (it starts one subprocess per configuration,
since JAX fixes the device count at start-up). Prints seconds per epoch (best of 3,
after a warm-up epoch) and the ratio. On a CPU host the 8 "devices" share the same
cores, so the ratio measures the cost of partitioning and collectives, not a speed-up.
"""

import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np, kerax
from kerax import distribution as kd
if sys.argv[1] == "dp":
    kd.set_distribution(kd.DataParallel())
rng = np.random.default_rng(0)
x = rng.normal(size=(8192, 64)).astype("float32")
y = rng.normal(size=(8192, 16)).astype("float32")
model = kerax.Sequential([kerax.Input((64,)), kerax.layers.Dense(256, activation="relu"),
                          kerax.layers.Dense(256, activation="relu"), kerax.layers.Dense(16)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, batch_size=256, epochs=1, verbose=0)
times = []
for _ in range(3):
    t = time.perf_counter()
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds_per_epoch": min(times)}))
"""


def run(mode, devices):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds_per_epoch"]


if __name__ == "__main__":
    single = run("single", 1)
    dp = run("dp", 8)
    print(f"1 device:                 {single * 1e3:8.1f} ms/epoch")
    print(f"DataParallel, 8 devices:  {dp * 1e3:8.1f} ms/epoch")
    print(f"overhead ratio (8 / 1):   {dp / single:8.2f}")
