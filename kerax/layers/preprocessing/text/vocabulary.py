"""What `adapt` learns: token counts, document counts, the ordered vocabulary and IDF.

Keras orders an adapted vocabulary by count, high to low, with ties broken by the token,
high to low (`np.lexsort((tokens, counts))[::-1]` over TensorFlow's byte strings; a
Python `str` orders by code point, which is the same order as UTF-8 bytes).
"""

import collections
import itertools

import numpy as np


class TokenCounts:
    """Running token and document counts over the batches `update_state` sees.

    Example:
    >>> c = TokenCounts(documents=True)
    >>> c.update([["b", "a", "a"], ["c", "a"]])
    >>> c.ordered(), c.num_documents
    (['a', 'c', 'b'], 2)
    """

    def __init__(self, documents=False):
        self.counts = collections.Counter()
        self.document_counts = collections.Counter() if documents else None
        self.num_documents = 0

    def update(self, rows):
        """Counts the tokens of `rows` (a list of token lists: one document each)."""
        self.counts.update(itertools.chain.from_iterable(rows))
        if self.document_counts is not None:
            for row in rows:
                self.document_counts.update(set(row))
            self.num_documents += len(rows)

    def __len__(self):
        return len(self.counts)

    def ordered(self, exclude=(), limit=None):
        """Tokens by count (high to low), ties by token (high to low), at most `limit`."""
        items = [(t, c) for t, c in self.counts.items() if t not in exclude]
        items.sort(key=lambda tc: (tc[1], tc[0]), reverse=True)
        tokens = [t for t, _ in items]
        return tokens if limit is None else tokens[:max(limit, 0)]

    def idf(self, tokens):
        """Keras' `log(1 + num_documents / (1 + document_count))`, as float32."""
        df = np.asarray([self.document_counts[t] for t in tokens], np.float64)
        return np.log(1.0 + self.num_documents / (1.0 + df)).astype(np.float32)


def pad_idf(idf, token_start, total=None):
    """Keras' IDF layout: the special slots first (the mean IDF), zeros up to `total`."""
    idf = np.asarray(idf, np.float32)
    mean = np.float32(idf.mean()) if idf.size else np.float32(np.nan)
    out = np.concatenate([np.full(token_start, mean, np.float32), idf])
    if total is not None and total > out.size:
        out = np.concatenate([out, np.zeros(total - out.size, np.float32)])
    return out
