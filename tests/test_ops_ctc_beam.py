"""`kerax.ops.ctc_decode(strategy="beam_search")` against Keras 3 on small random inputs."""

import itertools

import jax
import numpy as np
import pytest

import kerax.ops

# (batch, time, classes, beam_width, top_paths, mask_index, seed)
CASES = [
    (3, 8, 5, 10, 2, 0, 1),
    (2, 7, 4, 4, 2, 3, 2),
    (3, 6, 5, 5, 1, None, 3),
]


def _inputs(batch, time, classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, time, classes)).astype("float32")
    log_probs = np.asarray(jax.nn.log_softmax(logits, axis=-1))
    lengths = rng.integers(1, time + 1, size=batch).astype("int32")
    lengths[0] = time
    return log_probs, lengths


@pytest.mark.parametrize("batch, time, classes, beam_width, top_paths, mask_index, seed", CASES)
def test_beam_search_matches_keras(keras, batch, time, classes, beam_width, top_paths,
                                   mask_index, seed):
    x, lengths = _inputs(batch, time, classes, seed)
    kwargs = dict(strategy="beam_search", beam_width=beam_width, top_paths=top_paths,
                  mask_index=mask_index)
    want_paths, want_scores = keras.ops.ctc_decode(x, lengths, **kwargs)
    got_paths, got_scores = kerax.ops.ctc_decode(x, lengths, **kwargs)
    assert got_paths.shape == (top_paths, batch, time)
    assert got_scores.shape == (batch, top_paths)
    np.testing.assert_array_equal(np.asarray(got_paths), np.asarray(want_paths))
    # atol covers log-probabilities near 0, where Keras' sum-of-exps loses digits.
    np.testing.assert_allclose(np.asarray(got_scores), np.asarray(want_scores), rtol=1e-5,
                               atol=1e-6)


def test_beam_search_under_jit_equals_exhaustive_search():
    # With a beam wide enough to keep every prefix, beam search is exact: compare with the
    # sum over all alignments of each collapsed label sequence.
    probs = np.array([[[0.1, 0.6, 0.3], [0.4, 0.5, 0.1], [0.6, 0.3, 0.1]]], "float32")
    decode = jax.jit(lambda x, n: kerax.ops.ctc_decode(x, n, strategy="beam_search",
                                                       beam_width=16, top_paths=2))
    paths, scores = decode(np.log(probs), np.array([3], "int32"))
    totals = {}
    for alignment in itertools.product(range(3), repeat=3):
        labels = tuple(c for i, c in enumerate(alignment)
                       if c != 0 and (i == 0 or alignment[i - 1] != c))
        totals[labels] = totals.get(labels, 0.0) + np.prod(probs[0, [0, 1, 2], alignment])
    best = sorted(totals, key=totals.get, reverse=True)[:2]
    assert paths[:, 0].tolist() == [list(b) + [-1] * (3 - len(b)) for b in best]
    np.testing.assert_allclose(np.asarray(scores[0]), np.log([totals[b] for b in best]),
                               rtol=1e-5)


def test_beam_search_rejects_more_paths_than_beams():
    with pytest.raises(ValueError, match=r"1 <= top_paths <= beam_width.*top_paths=3 and "
                                         r"beam_width=2"):
        kerax.ops.ctc_decode(np.zeros((1, 4, 3), "float32"), np.array([4]),
                             strategy="beam_search", beam_width=2, top_paths=3)
