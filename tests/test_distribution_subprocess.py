"""Runs tests/distribution in its own pytest process on 8 simulated CPU devices.

JAX fixes the device count when it starts, so the distribution tests cannot share this
process (one device); the subprocess sets `--xla_force_host_platform_device_count=8`.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_distribution_suite_passes_on_8_simulated_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/distribution", "-q", "-o", "addopts=",
         "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "skipped" not in result.stdout, tail
