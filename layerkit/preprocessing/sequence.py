"""Sequence preprocessing from `keras.preprocessing.sequence` (Keras 2 / `keras_preprocessing`).

`pad_sequences` matches `keras.utils.pad_sequences` (Keras 3) and `keras_preprocessing`;
`skipgrams` draws from Python's global `random` module in exactly the order Keras does, so
the same `random` state and `seed` give the same pairs; `make_sampling_table` is the same
float64 formula. `TimeseriesGenerator` lives in `timeseries_generator.py` and is
re-exported here.

Where Keras fails obscurely layerkit raises a clear `ValueError` instead: a bad `padding` /
`truncating` value (checked before any work, even when every sequence is empty), a negative
`maxlen`, `vocabulary_size < 2` with negative samples. Also `pad_sequences([])` returns a
`(0, 0)` array (Keras raises), `maxlen=0` gives a `(n, 0)` array (Keras fails to
broadcast), and a string `value` is accepted with `dtype='object'` spelled as a string.
"""

import random

import numpy as np

from .timeseries_generator import TimeseriesGenerator, timeseries_generator_from_json

__all__ = [
    "TimeseriesGenerator",
    "make_sampling_table",
    "pad_sequences",
    "skipgrams",
    "timeseries_generator_from_json",
]

_SIDES = ("pre", "post")


def _check_side(name, side):
    if side not in _SIDES:
        raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', received {side!r}.")


def _sample_shape(sequences):
    """Lengths of all sequences and the shape of one element of the first non-empty one."""
    lengths, sample_shape = [], None
    for seq in sequences:
        try:
            lengths.append(len(seq))
        except TypeError as error:
            raise ValueError(f"pad_sequences: sequences must be a list of sequences (lists "
                             f"or arrays), found the non-sequence {seq!r}.") from error
        if sample_shape is None and len(seq):
            sample_shape = np.asarray(seq).shape[1:]
    return lengths, sample_shape or ()


def _check_value_dtype(value, dtype):
    if isinstance(value, str) and np.dtype(dtype).kind not in "OUS":
        raise ValueError(f"pad_sequences: dtype {dtype!r} is not compatible with the string "
                         f"value {value!r}; use dtype=object for variable-length strings "
                         "or a numeric value.")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (and truncates) sequences to a common length.

    Args:
        sequences: a list of sequences; each element may itself be an array (all with the
            same shape `sample_shape`).
        maxlen: output length; None → the longest sequence.
        dtype: output dtype (numpy name or dtype; `object` or `str` for strings).
        padding: 'pre' (pad on the left) or 'post'.
        truncating: 'pre' (drop the first items, keep the last `maxlen`) or 'post'.
        value: the padding value (a string needs a string or object dtype).

    Returns:
        A numpy array of shape `(len(sequences), maxlen) + sample_shape`.

    Raises:
        ValueError: for a bad padding/truncating/maxlen, a non-sequence element, a string
            value with a numeric dtype, or elements of inconsistent shapes.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
        array([[0, 1],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    _check_side("padding", padding)
    _check_side("truncating", truncating)
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: sequences must be a list (or array) of sequences, "
                         f"received a {type(sequences).__name__} without a length; wrap it "
                         "in list().")
    lengths, sample_shape = _sample_shape(sequences)
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be None or >= 0, received {maxlen}.")
    _check_value_dtype(value, dtype)

    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for idx, seq in enumerate(sequences):
        if not len(seq) or not maxlen:
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: sequence {idx} has elements of shape "
                             f"{kept.shape[1:]}, expected {sample_shape} like the first "
                             "non-empty sequence.")
        if padding == "post":
            x[idx, :len(kept)] = kept
        else:
            x[idx, -len(kept):] = kept
    return x


def make_sampling_table(size, sampling_factor=1e-5):
    """Word2vec sampling probabilities for words ranked by frequency (Zipf approximation).

    `table[i] = min(1, sqrt(sampling_factor * inv_fq(i)))` with
    `inv_fq(r) = r (ln r + 0.577) + 1/2 - 1/(12 r)` and rank 0 treated as rank 1.

    Args:
        size: number of words (the table length, at least 1).
        sampling_factor: the word2vec sampling factor.

    Returns:
        A float64 array of shape `(size,)`: the probability of keeping the word of rank i.
    """
    if size < 1:
        raise ValueError(f"make_sampling_table: size must be >= 1, received {size}.")
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))  # f / sqrt(f), not sqrt(f): Keras's rounding


def _positive_pairs(sequence, window_size, categorical, sampling_table):
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        start, end = max(0, i - window_size), min(len(sequence), i + window_size + 1)
        for j in range(start, end):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    return couples, labels


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Generates skip-gram pairs: (word, context word) → 1, (word, random word) → 0.

    Uses Python's global `random` module in Keras's order (sampling-table draws, the
    shuffle of negative first words, the negative words, then the seeded shuffle), so it
    reproduces `keras.preprocessing.sequence.skipgrams` for the same `random` state.

    Args:
        sequence: a list of word indices; index 0 is a non-word and is skipped.
        vocabulary_size: largest word index + 1; negatives are drawn from `1..size-1`.
        window_size: half-width of the context window.
        negative_samples: number of negatives as a fraction of positives (0: none).
        shuffle: whether to shuffle the pairs (couples and labels in the same order).
        categorical: labels as `[0, 1]` / `[1, 0]` instead of 1 / 0.
        sampling_table: optional array; word `w` is kept with probability `table[w]`.
        seed: seed of the final shuffle (None: drawn from `random`).

    Returns:
        `(couples, labels)`: a list of `[word, context]` pairs and a list of labels.

    Example:
        >>> skipgrams([1, 2], vocabulary_size=3, negative_samples=0, shuffle=False)
        ([[1, 2], [2, 1]], [1, 1])
    """
    couples, labels = _positive_pairs(sequence, window_size, categorical, sampling_table)
    if negative_samples > 0:
        num_negative = int(len(labels) * negative_samples)
        if num_negative and vocabulary_size < 2:
            raise ValueError(f"skipgrams: vocabulary_size must be >= 2 to draw negative "
                             f"samples, received {vocabulary_size}.")
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)]
                    for i in range(num_negative)]
        labels += [[1, 0] if categorical else 0 for _ in range(num_negative)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10_000_000)  # Keras's randint(0, 10e6), as an int
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
