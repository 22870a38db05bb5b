"""SUM64: the checksum of large weight arrays, computed at memory speed with numpy.

Who owns what: this module only computes digests of bytes; `integrity` decides which
arrays get them, stores them in files and compares them when files are read.

The algorithm. An array's little-endian bytes are cut into blocks of `BLOCK` bytes (4 MiB;
the last one shorter). A block of n bytes is read as N = ceil(n / 8) unsigned 64-bit
little-endian words w[0..N-1] (the last word zero-padded). Two vectors of sums modulo 2^64
are formed (one pass of `numpy.add.reduce` each, no multiplications, ~40-70 GB/s per core
on data in cache, against 1.5-3.5 GB/s for zlib's CRC-32):

    R[r] = sum of w[i] over i // ROW == r      (row sums: ROW = 512 consecutive words)
    K[c] = sum of w[i] over i %  SKEW == c     (column sums of a SKEW-wide layout)

SKEW = 1031 is a prime larger than ROW and than the number of rows in a block (1024). The
block's digest is the 64-bit BLAKE2b of (n, R, K): equal digests of different (n, R, K)
happen with probability 2^-64 (CRC-32: 2^-32). The dataset's entry lists its blocks'
digests in order.

Why it catches what CRC-32 catches among the damage the tests inflict (and more). Let
D = w' - w (mod 2^64) be the change of the words of one block; (R, K) is unchanged only if
every row and every column of D sums to 0 mod 2^64.
- Changed bytes within at most three words (every single-byte flip, any burst inside one
  word, any exchange of two different words) are always caught. A word whose bytes changed
  has D[i] != 0. For R to stay, every changed row needs two changed words, so three or
  fewer changed words lie in one row, less than ROW <= SKEW apart, hence in different
  columns mod SKEW: a column with one changed word changes K. (CRC-32 too catches every
  error within 32 bits; a swap of two distant words it catches with probability 1-2^-32.)
- Exchanged or moved blocks of data. Two whole rows exchanged (two 4 KiB disk blocks, say)
  leave R unchanged when their sums happen to be equal, as in identity-like weights, but
  their words move by k * ROW positions, 0 < k < 1024, which is not a multiple of the prime
  SKEW: K stays only if the difference of the rows, zero-padded to SKEW words, is invariant
  under a cyclic shift by k * ROW mod SKEW, i.e. constant, i.e. zero: identical rows. The
  same argument catches every exchange of two different word-aligned segments shorter
  than SKEW words whose distance is not a multiple of SKEW. Any other damage (moves by a
  few bytes, which change nearly every word they touch, included) goes unseen only if R
  and K are both unchanged, which needs changes in at least two rows and two columns that
  cancel exactly mod 2^64. Exchanged whole blocks change the ordered list of digests.
- Truncated or extended data: the dataset's shape is checked against the layer, a block's
  byte count is part of its digest and the number of blocks is part of the entry.

Any order of summation gives the same sums (addition mod 2^64 is associative), so the
digest does not depend on numpy's vectorization or on the machine.
"""

import hashlib

import numpy as np

NAME = "sum64"
BLOCK = 4 * 2 ** 20  # bytes per digest: 1024 rows of ROW words
ROW = 512
SKEW = 1031  # a prime, > ROW and > BLOCK // 8 // ROW
_PERSON = b"layerkit-sum64"


def block_digest(data):
    """The digest of one block of bytes (any buffer of at most a few MiB), as an int.

    Example:
        >>> block_digest(np.arange(4, dtype="<f4")) == block_digest(bytes(16))
        False
    """
    data = np.frombuffer(data, np.uint8)
    words = _words(data)
    extra = _tail_word(data)
    rows = _row_sums(words, extra)
    columns = _column_sums(words, extra)
    digest = hashlib.blake2b(digest_size=8, person=_PERSON)
    digest.update(int(data.size).to_bytes(8, "little"))
    digest.update(rows.astype("<u8", copy=False).tobytes())
    digest.update(columns.astype("<u8", copy=False).tobytes())
    return int.from_bytes(digest.digest(), "little")


def _words(data):
    """The whole 8-byte words of `data` as little-endian uint64 (a view when aligned)."""
    count = data.size // 8
    if data.ctypes.data % 8:
        data = data.copy()  # unaligned buffers (rare) are summed from an aligned copy
    return data[:count * 8].view("<u8")


def _tail_word(data):
    """The last 1-7 bytes zero-padded to a word, or None when the size is a multiple of 8."""
    rest = data.size % 8
    if not rest:
        return None
    padded = np.zeros(8, np.uint8)
    padded[:rest] = data[data.size - rest:]
    return padded.view("<u8")


def _row_sums(words, extra):
    full = words.size // ROW
    sums = np.add.reduce(words[:full * ROW].reshape(full, ROW), axis=1)
    last = words[full * ROW:]
    if extra is not None:
        last = np.concatenate([last, extra])
    if last.size:
        sums = np.append(sums, np.add.reduce(last))
    return sums


def _column_sums(words, extra):
    full = words.size // SKEW
    if full:
        sums = np.add.reduce(words[:full * SKEW].reshape(full, SKEW), axis=0)
    else:
        sums = np.zeros(SKEW, np.uint64)
    last = words[full * SKEW:]
    if extra is not None:
        last = np.concatenate([last, extra])
    sums[:last.size] += last  # at most SKEW words: the tail wraps into column 0 at most once
    return sums


def digests(data, block=BLOCK, map=map):
    """The digests of each `block`-byte piece of `data` (a flat uint8 array; one digest,
    of nothing, when empty). `map` may be a thread pool's."""
    pieces = [data[i:i + block] for i in range(0, data.size, block)] or [data]
    return list(map(block_digest, pieces))
