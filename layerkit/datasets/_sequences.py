"""Steps shared by the IMDB and Reuters loaders (and the seeded shuffle Boston uses too).

The steps and their quirks follow Keras exactly: indices are shifted by `index_from` after
an optional `start_char`; `maxlen` *drops* sequences with `len >= maxlen` (the start
character counts); `num_words` and `skip_top` apply to the shifted indices, and when
`num_words` is None the single largest index also becomes `oov_char` (`w < num_words`).
"""

import json

import numpy as np

from layerkit.datasets import _cache


def read_word_index(path, origin, file_hash, cache_dir):
    """Finds (or downloads) and parses a `{word: rank}` JSON word index."""
    path = _cache.fetch(path, origin, file_hash, cache_dir=cache_dir)
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (ValueError, OSError) as err:
        raise _cache.corrupt_file_error(path, origin, f"{type(err).__name__}: {err}") from err
    if not isinstance(index, dict):
        raise _cache.corrupt_file_error(path, origin, "it holds no {word: index} object")
    return index


def shuffled(x, y, rng):
    """Applies one `rng.shuffle` permutation of `arange(len(x))` to both x and y."""
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], y[indices]


def shift(xs, start_char, index_from):
    """Prepends `start_char` (unless None) and adds `index_from` to every index."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def remove_long_seq(maxlen, seq, label):
    """Keeps the sequences (and their labels) with `len(x) < maxlen`; returns two lists."""
    new_seq, new_label = [], []
    for x, y in zip(seq, label, strict=True):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def limit_vocabulary(xs, num_words, skip_top, oov_char):
    """Maps indices outside `[skip_top, num_words)` to `oov_char` (or drops them if None)."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def as_object_array(seqs):
    """`np.array(seqs, dtype=object)`, exactly as Keras builds the returned x arrays."""
    return np.array(seqs, dtype="object")


def split(xs, labels, idx):
    """`(x_train, y_train), (x_test, y_test)`: the first `idx` samples, then the rest.

    Args:
        xs: list of index lists.
        labels: list or array of labels, one per sequence.
        idx: the number of training samples.

    Returns:
        Two `(x, y)` pairs: x object arrays of lists (see `as_object_array`), y arrays.
    """
    return (
        (as_object_array(xs[:idx]), np.array(labels[:idx])),
        (as_object_array(xs[idx:]), np.array(labels[idx:])),
    )
