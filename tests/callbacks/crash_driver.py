"""Driver for the crash-safe checkpoint test (run as a script, not collected by pytest).

`python crash_driver.py OUT_DIR`: for each kill point, forks a process that commits
step 1 (tree A), then SIGKILLs itself at that point while writing tree B. Prints
`{point: exit_status}` as JSON.
"""

import json
import os
import signal
import sys

os.environ["JAX_PLATFORMS"] = "cpu"

import numpy as np  # noqa: E402

from kerax.checkpoint import checkpoint_manager as cm  # noqa: E402


def trees():
    a = {"w": np.arange(12, dtype=np.float32).reshape(3, 4),
         "b": {"k": np.array([1, 2, 3], np.int32), "s": np.float32(0.25)}}
    b = {"w": a["w"] + 1, "b": {"k": a["b"]["k"] * 5, "s": np.float32(0.5)}}
    return a, b


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def after_nth(fn, n):
    """`fn`, but the process dies right after its `n`-th call returns."""
    calls = []

    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        calls.append(1)
        if len(calls) == n:
            die()
        return result

    return wrapped


def before_path(fn, prefix):
    """`fn(path, ...)`, but the process dies when `path`'s name starts with `prefix`."""

    def wrapped(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)).startswith(prefix):
            die()
        return fn(path, *args, **kwargs)

    return wrapped


def run(point, directory):
    a, b = trees()
    mgr = cm.CheckpointManager(directory, max_to_keep=1 if point == "prune" else 3,
                               async_write=point == "async")
    mgr.save(1, a, {"tree": "a"})
    mgr.wait_until_finished()
    step = 2
    if point == "arrays_written":  # orbax done, nothing else
        import orbax.checkpoint as ocp

        ocp.PyTreeCheckpointer.save = after_nth(ocp.PyTreeCheckpointer.save, 1)
    elif point == "metadata_written":
        cm._write_json = after_nth(cm._write_json, 1)
    elif point == "hashing":
        cm._sha256_file = after_nth(cm._sha256_file, 2)
    elif point == "before_commit":  # complete, but not yet renamed into place
        cm.os.rename = before_path(os.rename, ".tmp-")
    elif point == "replacing":  # re-saving step 1: killed with the old copy set aside
        step = 1
        cm.os.rename = before_path(os.rename, ".tmp-")
    elif point == "prune":  # after the commit, while deleting the older step
        cm.shutil.rmtree = before_path(cm.shutil.rmtree, ".del-")
    mgr.save(step, b, {"tree": "b"})
    if point == "async":
        die()  # the write is still in flight
    os._exit(3)  # not killed: the kill point was never reached


POINTS = ["arrays_written", "metadata_written", "hashing", "before_commit", "replacing",
          "prune", "async"]

if __name__ == "__main__":
    out = sys.argv[1]
    codes = {}
    for point in POINTS:
        pid = os.fork()
        if pid == 0:
            try:
                run(point, os.path.join(out, point))
            finally:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        codes[point] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print(json.dumps(codes))
