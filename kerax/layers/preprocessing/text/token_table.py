"""A vocabulary as a NumPy hash table over UTF-8 bytes: a whole batch of tokens is looked
up in a few array operations instead of one Python `str` and one dict lookup per token.

Tokens are spans `[start, end)` of one UTF-8 byte buffer (the batch's strings joined by
NUL bytes, see `string_ops.utf8_spans`). A token of 1 to 16 bytes without a NUL byte is
its own key, exactly: its bytes as two little-endian 64-bit words, zero past its end (no
two such tokens share a key, and no key is zero). The table is open addressing with
linear probing over those keys, probed for all tokens at once. Other tokens (empty, or
longer than 16 bytes) are looked up one by one in a dict of the terms' UTF-8 bytes.
"""

import numpy as np

WIDTH = 16  # the longest token (in bytes) that is a key of the NumPy table
PAD = WIDTH + 1  # zero bytes a buffer needs after its last token (see `_words`)
_MUL0 = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xC2B2AE3D27D4EB4F)
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)  # the low k bytes
_ONE = np.uint64(1)
_CHUNK = 1 << 15  # tokens looked up together


def _words(buf, starts, lengths):
    """The first 16 bytes of each token as two words `(w0, w1)`, zero past its end.

    `buf` is a bytes object with at least `PAD` bytes after every start (its words are
    read unaligned, at byte strides, straight out of it)."""
    view = np.ndarray(buffer=buf, dtype="<u8", shape=(len(buf) - 7,), strides=(1,))
    w0 = view[starts] & _LOW[np.minimum(lengths, 8)]
    if not lengths.size or lengths.max() <= 8:
        return w0, np.zeros_like(w0)
    w1 = view[starts + 8] & _LOW[np.clip(lengths - 8, 0, 8)]
    return w0, w1


def _slots(w0, w1, shift):
    return ((w0 * _MUL0) ^ (w1 * _MUL1)) >> shift


class TokenTable:
    """Looks up tokens (spans of a UTF-8 buffer) in a `{term: index}` mapping.

    Example:
    >>> table = TokenTable({"a": 2, "bc": 3})
    >>> buf = b"\\x00a bc zz" + bytes(PAD)
    >>> table.lookup(buf, np.array([1, 3, 6]), np.array([2, 5, 8])).tolist()
    [2, 3, -1]
    """

    def __init__(self, mapping):
        encoded = {}
        for term, index in mapping.items():
            try:
                encoded[term.encode("utf-8", "surrogateescape")] = index
            except UnicodeEncodeError:  # no input that reaches the table can equal it
                continue
        self._bytes = encoded  # the terms no key holds are looked up here
        keyed = [t for t in encoded if 0 < len(t) <= WIDTH and b"\x00" not in t]
        bits = max(4, (3 * len(keyed)).bit_length())  # under a third full
        self._shift = np.uint64(64 - bits)
        self._mask = np.uint64((1 << bits) - 1)
        self._w0 = np.zeros(1 << bits, np.uint64)  # 0: an empty slot
        self._w1 = np.zeros(1 << bits, np.uint64)
        self._ids = np.full(1 << bits, -1, np.int64)
        if keyed:
            self._insert(keyed, np.fromiter((encoded[t] for t in keyed), np.int64,
                                            count=len(keyed)))

    def _insert(self, terms, ids):
        lengths = np.fromiter(map(len, terms), np.int64, count=len(terms))
        starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        w0, w1 = _words(b"\x00".join(terms) + bytes(PAD), starts, lengths)
        slot = _slots(w0, w1, self._shift)
        pending = np.arange(len(terms))
        while pending.size:  # each round, the first term aiming at each empty slot lands
            free = self._w0[slot[pending]] == 0
            _, first = np.unique(slot[pending[free]], return_index=True)
            placed = pending[free][first]
            self._w0[slot[placed]], self._w1[slot[placed]] = w0[placed], w1[placed]
            self._ids[slot[placed]] = ids[placed]
            pending = np.setdiff1d(pending, placed, assume_unique=True)
            slot[pending] = (slot[pending] + _ONE) & self._mask

    def lookup(self, buf, starts, ends):
        """The index of each token `buf[start:end]` (NumPy int64), -1 where it has none.

        `buf` is a bytes object with `PAD` zero bytes after the last token; tokens of 1
        to 16 bytes hold no NUL byte (a NUL separates them)."""
        ids = np.empty(len(starts), np.int64)
        for i in range(0, len(starts), _CHUNK):  # (temporaries that stay in the cache)
            ids[i:i + _CHUNK] = self._lookup(buf, starts[i:i + _CHUNK], ends[i:i + _CHUNK])
        return ids

    def _lookup(self, buf, starts, ends):
        lengths = ends - starts
        keyed = (lengths > 0) & (lengths <= WIDTH)
        every = keyed.all()
        w0, w1 = _words(buf, starts, lengths if every else np.where(keyed, lengths, 0))
        slot = _slots(w0, w1, self._shift)
        k0 = self._w0[slot]
        found = (k0 == w0) & (self._w1[slot] == w1)
        if not every:
            found &= keyed
        ids = np.where(found, self._ids[slot], -1)
        probe = ~found & (k0 != 0)  # collided: look further
        probe = np.flatnonzero(probe if every else probe & keyed)
        slot = slot[probe]
        while probe.size:
            slot = (slot + _ONE) & self._mask
            k0 = self._w0[slot]
            hit = (k0 == w0[probe]) & (self._w1[slot] == w1[probe])
            ids[probe[hit]] = self._ids[slot[hit]]
            go_on = ~hit & (k0 != 0)
            probe, slot = probe[go_on], slot[go_on]
        if not every:
            rest = np.flatnonzero(~keyed)
            table = self._bytes
            ids[rest] = [table.get(buf[s:e], -1)
                         for s, e in zip(starts[rest].tolist(), ends[rest].tolist())]
        return ids
