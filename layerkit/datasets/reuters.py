"""Reuters newswire topic dataset (11,228 newswires, 46 topics)."""

import numpy as np

from layerkit.datasets import _cache, _safe_pickle, _sequences

ORIGIN = _cache.BASE_URL + "reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = _cache.BASE_URL + "reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5, as Keras lists it

_LABEL_NAMES = (
    "cocoa",
    "grain",
    "veg-oil",
    "earn",
    "acq",
    "wheat",
    "copper",
    "housing",
    "money-supply",
    "coffee",
    "sugar",
    "trade",
    "reserves",
    "ship",
    "cotton",
    "carcass",
    "crude",
    "nat-gas",
    "cpi",
    "money-fx",
    "interest",
    "gnp",
    "meal-feed",
    "alum",
    "oilseed",
    "gold",
    "tin",
    "strategic-metal",
    "livestock",
    "retail",
    "ipi",
    "iron-steel",
    "rubber",
    "heat",
    "jobs",
    "lei",
    "bop",
    "zinc",
    "orange",
    "pet-chem",
    "dlr",
    "gas",
    "silver",
    "wpi",
    "hog",
    "lead",
)


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    *,
    cache_dir=None,
):
    """Loads the Reuters newswires as lists of word indices, exactly as Keras does.

    All newswires are shuffled once with `np.random.RandomState(seed)`, transformed like
    IMDB (see `imdb.load_data`), then split at `int(n * (1 - test_split))` after the
    `maxlen` filter (8,982 train / 2,246 test with the defaults).

    Args:
        path: file name looked up in the data folders, or an absolute path used as is.
        num_words: keep indices below this (None: all but the single largest index).
        skip_top: indices below this (counted after shifting) become `oov_char`.
        maxlen: drop (not truncate) sequences with `len >= maxlen`, start char included.
        test_split: fraction of the data used as test set (not validated, as in Keras).
        seed: shuffling seed.
        start_char: index marking the start of a sequence, or None.
        oov_char: index for removed words, or None to delete them.
        index_from: offset added to every word rank.
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x are object arrays of Python lists of
        ints; y are integer topic ids 0..45.

    Raises:
        ValueError: unreadable file.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.
    """
    path = _cache.fetch(path, ORIGIN, FILE_HASH, cache_dir=cache_dir)
    xs, labels = _safe_pickle.read_npz(path, ORIGIN, ("x", "y"))
    xs, labels = _sequences.shuffled(xs, labels, np.random.RandomState(seed))

    xs = _sequences.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _sequences.remove_long_seq(maxlen, xs, labels)
    xs = _sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    return _sequences.split(xs, labels, int(len(xs) * (1 - test_split)))


def get_word_index(path="reuters_word_index.json", *, cache_dir=None):
    """Returns the `{word: rank}` dict of the Reuters dataset (ranks start at 1, unshifted).

    Args:
        path: file name looked up in the data folders, or an absolute path.
        cache_dir: optional folder searched first.

    Returns:
        dict mapping words to frequency ranks.
    """
    return _sequences.read_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH, cache_dir)


def get_label_names():
    """Returns the 46 topic names, indexed by label id (`"cocoa"` is 0, `"earn"` is 3)."""
    return _LABEL_NAMES
