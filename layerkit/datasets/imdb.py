"""IMDB movie-review sentiment dataset (25,000 train / 25,000 test reviews, labels 0/1)."""

import warnings

import numpy as np

from layerkit.datasets import _cache, _safe_pickle, _sequences

ORIGIN = _cache.BASE_URL + "imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = _cache.BASE_URL + "imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5, as Keras lists it


def _legacy_kwargs(num_words, kwargs):
    """tf.keras's `nb_words` alias; Keras 3 ignores other kwargs, layerkit warns."""
    if "nb_words" in kwargs:
        warnings.warn("imdb.load_data: `nb_words` has been renamed `num_words`.", stacklevel=3)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        warnings.warn(f"imdb.load_data: ignoring unknown arguments {sorted(kwargs)}.", stacklevel=3)
    return num_words


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    *,
    cache_dir=None,
    **kwargs,
):
    """Loads the IMDB dataset as lists of word indices, exactly as Keras does.

    Word of frequency rank r appears as `r + index_from`; 0 is padding, `start_char` (1)
    opens every review and `oov_char` (2) replaces words outside `[skip_top, num_words)`.
    Train and test are each shuffled with `np.random.RandomState(seed)` (one stream).

    Args:
        path: file name looked up in the data folders, or an absolute path used as is.
        num_words: keep indices below this (None: all but the single largest index).
        skip_top: indices below this (counted after shifting) become `oov_char`.
        maxlen: drop (not truncate) sequences with `len >= maxlen`, start char included.
        seed: shuffling seed.
        start_char: index marking the start of a sequence, or None.
        oov_char: index for removed words, or None to delete them.
        index_from: offset added to every word rank.
        cache_dir: optional folder searched first (and downloaded into).
        **kwargs: `nb_words` (old name of `num_words`); others are ignored with a warning.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x are object arrays of Python lists of
        ints, shape (25000,); y are the integer labels as stored.

    Raises:
        ValueError: `maxlen` filtered out every sequence of a split; unreadable file.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.

    Example:
        >>> (x_train, y_train), _ = imdb.load_data(num_words=10000)  # doctest: +SKIP
    """
    num_words = _legacy_kwargs(num_words, kwargs)
    path = _cache.fetch(path, ORIGIN, FILE_HASH, cache_dir=cache_dir)
    x_train, labels_train, x_test, labels_test = _safe_pickle.read_npz(
        path, ORIGIN, ("x_train", "y_train", "x_test", "y_test")
    )
    rng = np.random.RandomState(seed)
    x_train, labels_train = _sequences.shuffled(x_train, labels_train, rng)
    x_test, labels_test = _sequences.shuffled(x_test, labels_test, rng)

    x_train = _sequences.shift(x_train, start_char, index_from)
    x_test = _sequences.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _sequences.remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _sequences.remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"imdb.load_data: after filtering for sequences shorter than maxlen={maxlen}, "
                "no sequence was kept in one of the splits. Increase maxlen."
            )
    xs = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    return _sequences.split(xs, labels, len(x_train))


def get_word_index(path="imdb_word_index.json", *, cache_dir=None):
    """Returns the `{word: rank}` dict of the IMDB dataset (ranks start at 1, unshifted).

    Args:
        path: file name looked up in the data folders, or an absolute path.
        cache_dir: optional folder searched first.

    Returns:
        dict mapping words to frequency ranks; word `w` appears in `load_data` sequences
        as `index[w] + index_from`.
    """
    return _sequences.read_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH, cache_dir)
