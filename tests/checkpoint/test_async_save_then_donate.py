"""An asynchronous save copies the arrays on their devices before `save` returns, so the
next training execution may donate (delete) the saved buffers at once: what is written
is the value at `save` time."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from kerax.checkpoint.checkpoint_manager import CheckpointManager


@functools.partial(jax.jit, donate_argnums=0)
def _step(tree):
    return jax.tree_util.tree_map(lambda a: a * 2.0 + 1.0, tree)


def test_async_save_survives_donation_of_the_saved_buffers(tmp_path):
    tree = {"w": jnp.arange(4096, dtype=jnp.float32), "b": jnp.ones((3,), jnp.float32)}
    manager = CheckpointManager(str(tmp_path), max_to_keep=1, async_write=True)
    expected = jax.tree_util.tree_map(np.array, tree)
    manager.save(1, tree)
    for _ in range(5):  # donates the saved buffers while the write may be in flight
        tree = _step(tree)
    assert tree["w"].is_deleted() is False
    manager.wait_until_finished()
    restored, _ = manager.restore(1, like=expected)
    for name in expected:
        np.testing.assert_array_equal(np.asarray(restored[name]), expected[name])
