"""Text preprocessing from `keras.preprocessing.text` (Keras 2, `keras_preprocessing` 1.1.2).

Every function and `Tokenizer` method returns what `keras_preprocessing.text` returns for
the same input (the tests check it). Layerkit additions, all opt-in:

- `Tokenizer.sequences_to_matrix(..., sparse=True)` and `texts_to_matrix(..., sparse=True)`
  return a `scipy.sparse.csr_matrix` with the same values as the dense matrix (a multi-hot
  IMDB matrix is about 1 GB dense).
- `analyzer` (a callable `text -> list of tokens`), as in tf.keras 2.x and Keras 3's copy.
- Clear `ValueError`s where Keras fails obscurely: `n < 2` in `hashing_trick`, an unknown
  matrix `mode` (checked before any work) and negative word indices in `sequences_to_matrix`
  (Keras silently writes those into the last columns).
- `tokenizer_from_json` restores `word_docs`/`index_docs` as counters and `word_counts` as an
  `OrderedDict`, so fitting more texts after loading works (it raises `KeyError` in Keras).

Speed: with the default word splitting (string texts, a one-character ASCII `split`, no
`analyzer`, not `char_level`), `fit_on_texts` and `texts_to_sequences` work on the texts'
UTF-8 bytes with numpy and never make a Python string per word (`_text_fast`); other
settings run the per-word work in C (`str.translate`, `filter`, `set`, `map(dict.get, ...)`).
Matrices are filled with numpy fancy indexing. The results, dict orders included, are those
of Keras's per-word Python loops (benchmarks/bench_data.py).
"""

import json
import warnings
from array import array
from collections import OrderedDict, defaultdict
from functools import lru_cache
from hashlib import md5
from itertools import islice, repeat
from operator import itemgetter

import numpy as np

from layerkit.preprocessing import _text_fast
from layerkit.preprocessing._text_fast import (StringVocabulary, add_counts, csr_matrix,
                                                document_frequencies, flatten_sequences,
                                                fresh, padded_sum)

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ("binary", "count", "tfidf", "freq")
_FIT_CHUNK = 1024  # texts tokenized at a time (bounds memory for generators)


@lru_cache(maxsize=64)
def _cached_table(filters, split):
    return str.maketrans({c: split for c in filters})


def _translation_table(filters, split):
    """The `str.translate` table mapping every filter character to `split`."""
    if isinstance(filters, str):
        return _cached_table(filters, split)
    return str.maketrans({c: split for c in filters})  # a list of characters


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Splits a text into a list of words.

    Every character of `filters` is replaced by `split`, the text is split on `split` and
    empty strings are dropped. The apostrophe is not filtered: "don't" stays one word.

    Args:
        text: the input string.
        filters: characters to remove (default: punctuation, tab and newline).
        lower: whether to lower-case the text first.
        split: the word separator.

    Returns:
        A list of words (strings).

    Example:
        >>> text_to_word_sequence("The cat, the HAT!")
        ['the', 'cat', 'the', 'hat']
    """
    if lower:
        text = text.lower()
    # filter(None, ...) drops the empty strings in C: same list as `[w for w in ... if w]`.
    return list(filter(None, text.translate(_translation_table(filters, split)).split(split)))


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None):
    """Hashes each word of a text to an integer in `[1, n)` with Python's `hash`.

    Despite the name this is not a one-hot encoding: it is `hashing_trick` with Python's
    `hash`, which is salted per process for strings (`PYTHONHASHSEED`), so the indices are
    not reproducible across runs. Use `hashing_trick(..., hash_function='md5')` for that.

    Args:
        text: the input string.
        n: size of the hashing space; indices fall in `1..n-1`.
        filters, lower, split: as in `text_to_word_sequence`.
        analyzer: optional callable `text -> list of words` used instead of the splitting.

    Returns:
        A list of ints.
    """
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split, analyzer=analyzer)


def _md5_hash(word):
    return int(md5(word.encode()).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True,
                  split=" ", analyzer=None):
    """Converts a text to word indices `hash(word) % (n - 1) + 1` (0 is never produced).

    Args:
        text: the input string.
        n: size of the hashing space (at least 2); indices fall in `1..n-1`.
        hash_function: None (Python `hash`, salted per process), `'md5'` (stable across
            runs) or a callable `str -> int`.
        filters, lower, split: as in `text_to_word_sequence`.
        analyzer: optional callable `text -> list of words` used instead of the splitting.

    Returns:
        A list of ints; different words may collide on the same index.

    Raises:
        ValueError: if `n < 2`.

    Example:
        >>> codes = hashing_trick("the cat the", 10, hash_function="md5")
        >>> codes[0] == codes[2] and all(1 <= c <= 9 for c in codes)
        True
    """
    if n < 2:
        raise ValueError(f"hashing_trick: n must be an integer >= 2 (indices are 1..n-1), "
                         f"received n={n!r}.")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5_hash
    if analyzer is None:
        words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    else:
        words = analyzer(text)
    return [hash_function(w) % (n - 1) + 1 for w in words]


class Tokenizer:
    """Builds a word index from texts and turns texts into index sequences or matrices.

    `word_index` holds every word seen, ranked by count (ties in first-seen order) from 1;
    0 is reserved, and `oov_token`, if given, takes index 1. `num_words` only acts when
    converting: a word is kept iff its index is `< num_words` (so `num_words - 1` words).

    Args:
        num_words: keep only words with index `< num_words` when converting (None: all).
        filters: characters removed from texts (default: punctuation, tab, newline; not `'`).
        lower: whether to lower-case texts.
        split: the word separator.
        char_level: if True every character is a token.
        oov_token: if given, added to `word_index` and used for out-of-vocabulary words.
        analyzer: optional callable `text -> list of tokens` replacing the word splitting.
        document_count: starting value of `document_count` (used by `tokenizer_from_json`).
        nb_words: legacy (Keras 1) name of `num_words`, accepted with a warning.

    Example:
        >>> tok = Tokenizer(num_words=3)
        >>> tok.fit_on_texts(["the the dog sat"])
        >>> tok.texts_to_sequences(["the dog sat on"])
        [[1, 2]]
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, analyzer=None, document_count=0,
                 **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("Tokenizer: the `nb_words` argument has been renamed `num_words`.",
                          stacklevel=2)
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Tokenizer: unrecognized keyword arguments {sorted(kwargs)}; "
                            "expected num_words, filters, lower, split, char_level, "
                            "oov_token, analyzer or document_count.")
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        """Splits one text (or lower-cases one list of tokens) into tokens."""
        if self.char_level or isinstance(text, list):
            if self.lower:
                if isinstance(text, list):
                    return [token.lower() for token in text]
                return text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def _tokenizer(self, keep_empty=False):
        """Returns `_tokens` with the settings resolved once, for loops over many texts.

        Args:
            keep_empty: if True, split strings keep their empty pieces (for callers that
                drop words missing from a vocabulary without `''` anyway).
        """
        if self.char_level or self.analyzer is not None:
            return self._tokens
        table, split, lower, tokens_of = (_translation_table(self.filters, self.split),
                                          self.split, self.lower, self._tokens)

        def tokens(text):
            if isinstance(text, list):
                return tokens_of(text)
            pieces = (text.lower() if lower else text).translate(table).split(split)
            return pieces if keep_empty else list(filter(None, pieces))

        return tokens

    def _byte_settings(self):
        """The settings of `_text_fast`'s byte-level splitting, or None if it cannot apply."""
        if self.char_level or self.analyzer is not None:
            return None
        return _text_fast.byte_settings(self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Updates the vocabulary from texts; required before converting texts.

        Args:
            texts: an iterable of strings, or of lists of tokens (used as they are).
        """
        if self.word_docs.keys() != self.word_counts.keys():  # hand-edited state
            self._fit_loop(texts)
        else:
            settings = self._byte_settings()
            if settings is not None and all(type(w) is str for w in self.word_counts):
                texts = _text_fast.fit_on_texts(self, texts, settings, _FIT_CHUNK)
            if texts is not None:
                self._fit_chunks(texts)
        # sorted() is stable: ties keep their first-seen order, as in Keras.
        ranked = sorted(self.word_counts.items(), key=itemgetter(1), reverse=True)
        vocabulary = [] if self.oov_token is None else [self.oov_token]
        vocabulary.extend(map(itemgetter(0), ranked))
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = dict(zip(self.word_index.values(), self.word_index))
        # Keras's `for w, c in word_docs.items(): index_docs[word_index[w]] = c`, in C.
        self.index_docs.update(zip(map(self.word_index.__getitem__, list(self.word_docs)),
                                   list(self.word_docs.values())))

    def _fit_chunks(self, texts):
        """Counts texts by chunks with a vocabulary of Python strings (any tokens)."""
        vocab = StringVocabulary(self.word_counts)
        counts, docs = np.zeros(len(vocab), np.int64), np.zeros(len(vocab), np.int64)
        docs_order = []
        texts = iter(texts)
        while chunk := list(islice(texts, _FIT_CHUNK)):  # bounds memory for generators
            self.document_count += len(chunk)
            ids, lengths = self._chunk_ids(chunk, vocab, docs_order)
            counts = padded_sum(counts, np.bincount(ids, minlength=len(vocab)))
            if len(vocab) > 2 * vocab.compacted_size:
                vocab.compact(counts)
            bounds = np.r_[0, np.cumsum(lengths)]
            docs = padded_sum(docs, document_frequencies(ids, bounds, len(vocab)))
        add_counts(self.word_counts, vocab.words, counts.tolist())
        seen = len(vocab.words) - len(docs_order)
        docs_words = vocab.words[:seen] + docs_order
        add_counts(self.word_docs, docs_words, docs[list(map(vocab.get, docs_words))])

    def _chunk_ids(self, chunk, vocab, docs_order):
        """Word ids of a chunk of texts (flat) and the number of tokens of each text.

        Appends the chunk's new words to `docs_order` in the order Keras inserts them into
        `word_docs`: text by text, as `for w in set(tokens)` meets them.
        """
        ids, lengths, words, lookup = array("q"), [], vocab.words, vocab.__getitem__
        tokenize = self._tokenizer()
        for text in chunk:
            tokens = tokenize(text)
            if not isinstance(tokens, (list, str)):  # an analyzer's generator
                tokens = list(tokens)
            before, start = len(words), len(ids)
            ids.extend(map(lookup, tokens))
            lengths.append(len(ids) - start)
            if len(words) - before > 1:
                new = set(words[before:])
                docs_order.extend(filter(new.__contains__, set(tokens)))
            elif len(words) > before:
                docs_order.append(words[before])
        return np.frombuffer(ids, dtype=np.int64), np.array(lengths, dtype=np.int64)

    def _fit_loop(self, texts):
        """Keras's per-word loop, for `word_docs` and `word_counts` with different words."""
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] = self.word_docs.get(w, 0) + 1

    def fit_on_sequences(self, sequences):
        """Updates `document_count` and `index_docs` from index sequences.

        Needed before `sequences_to_matrix(mode='tfidf')` when no texts were fitted.

        Args:
            sequences: a list of lists of word indices.
        """
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Turns each text into a list of word indices.

        Args:
            texts: an iterable of strings (or of lists of tokens).

        Returns:
            A list of lists of ints; unknown words and words with index `>= num_words` are
            dropped, or replaced by the `oov_token` index when one is set.
        """
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Yields, for each text, its list of word indices (see `texts_to_sequences`).

        Texts are read and converted `_FIT_CHUNK` (1024) at a time.

        Args:
            texts: an iterable of strings (or of lists of tokens).

        Returns:
            A generator of lists of ints.
        """
        lookup = self._kept_indices()
        if lookup is None:
            yield from self._texts_to_sequences_loop(texts)
            return
        oov_index = None if self.oov_token is None else self.word_index[self.oov_token]
        if oov_index is None:
            # Empty split pieces map to None and are dropped with the unknown words.
            tokenize = self._tokenizer(keep_empty="" not in lookup)

            def convert(text):
                return list(filter(None, map(lookup.get, tokenize(text))))
        else:
            tokenize, oov = self._tokenizer(), repeat(oov_index)

            def convert(text):
                return list(map(lookup.get, tokenize(text), oov))
        settings = self._byte_settings()
        if settings is None:
            yield from map(convert, texts)
        else:
            yield from _text_fast.texts_to_sequences(texts, settings, lookup, oov_index,
                                                     convert, _FIT_CHUNK)

    def _kept_indices(self):
        """Maps each word kept by `num_words` to its index, or None if the fast path differs.

        A token then converts to `lookup.get(token)` (dropped if None) without `oov_token`,
        and to `lookup.get(token, oov_index)` with it. Returns None for the cases where that
        is not Keras's answer: a falsy index (dropped by `filter(None, ...)`, kept by
        Keras), or an `oov_token` missing from `word_index`.
        """
        num_words = self.num_words
        if self.oov_token is not None and self.oov_token not in self.word_index:
            return None
        if num_words:
            lookup = {fresh(w): i for w, i in self.word_index.items() if not i >= num_words}
        else:  # fresh copies, in index (= frequency) order: see StringVocabulary.compact
            lookup = {fresh(w): i for w, i in self.word_index.items()}
        return lookup if all(lookup.values()) else None

    def _texts_to_sequences_loop(self, texts):
        """Keras's per-word loop, for the settings `_kept_indices` does not cover."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            vector = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vector.append(oov_index)
                    else:
                        vector.append(i)
                elif self.oov_token is not None:
                    vector.append(oov_index)
            yield vector

    def sequences_to_texts(self, sequences):
        """Turns each list of word indices back into a space-joined string.

        Args:
            sequences: an iterable of lists of ints.

        Returns:
            A list of strings; unknown indices and indices `>= num_words` are dropped, or
            written as the `oov_token` when one is set.
        """
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """Yields, for each index sequence, its text (see `sequences_to_texts`).

        Args:
            sequences: an iterable of lists of ints.

        Returns:
            A generator of strings.
        """
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None:
                    if num_words and num >= num_words:
                        if oov_index is not None:
                            words.append(self.index_word[oov_index])
                    else:
                        words.append(word)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary", sparse=False):
        """Turns texts into a `(len(texts), width)` matrix (see `sequences_to_matrix`).

        Args:
            texts: a list of strings (or of lists of tokens).
            mode: one of 'binary', 'count', 'tfidf', 'freq'.
            sparse: layerkit addition: return a `scipy.sparse.csr_matrix` instead.

        Returns:
            A float64 numpy array, or a CSR matrix with the same values if `sparse`.
        """
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode,
                                        sparse=sparse)

    def _matrix_width(self):
        if self.num_words:
            return self.num_words
        if self.word_index:
            return len(self.word_index) + 1
        raise ValueError("Tokenizer.sequences_to_matrix: the matrix width is unknown; pass "
                         "num_words to Tokenizer or call fit_on_texts first.")

    def sequences_to_matrix(self, sequences, mode="binary", sparse=False):
        """Turns index sequences into a `(len(sequences), width)` matrix.

        The width is `num_words`, else `len(word_index) + 1`; indices `>= width` are
        skipped and column 0 stays 0. Per cell, with `c` the count of index `j` in the
        sequence: binary 1; count `c`; freq `c / len(seq)` (the length counts skipped
        indices too); tfidf `(1 + ln c) * ln(1 + document_count / (1 + index_docs[j]))`.

        Args:
            sequences: a list of lists of non-negative ints.
            mode: one of 'binary', 'count', 'tfidf', 'freq'.
            sparse: layerkit addition: return a `scipy.sparse.csr_matrix` (needs scipy).

        Returns:
            A float64 numpy array, or a CSR matrix with the same values if `sparse`.

        Raises:
            ValueError: for an unknown mode, an unknown width, tfidf before any fit, or a
                negative index.
        """
        if mode not in MATRIX_MODES:
            raise ValueError(f"Tokenizer.sequences_to_matrix: mode must be one of "
                             f"{MATRIX_MODES}, received {mode!r}.")
        width = self._matrix_width()
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer.sequences_to_matrix: mode='tfidf' needs document "
                             "frequencies; call fit_on_texts or fit_on_sequences first.")
        rows, cols, lengths = flatten_sequences(sequences, width)
        shape = (len(lengths), width)
        if mode == "binary" and not sparse:
            matrix = np.zeros(shape)
            matrix[rows, cols] = 1.0  # repeated cells are simply written twice
            return matrix
        keys, counts = np.unique(rows * width + cols, return_counts=True)
        rows, cols = keys // width, keys % width
        values = self._cell_values(mode, cols, counts, lengths[rows])
        if sparse:
            return csr_matrix(values, rows, cols, shape)
        matrix = np.zeros(shape)
        matrix[rows, cols] = values
        return matrix

    def _cell_values(self, mode, cols, counts, seq_lengths):
        """Matrix values for the non-zero cells, computed exactly as Keras does per cell."""
        if mode == "binary":
            return np.ones(len(counts))
        if mode == "count":
            return counts.astype(np.float64)
        if mode == "freq":
            return counts / seq_lengths
        # Keras applies np.log to one Python number at a time; evaluating the same scalar
        # expressions once per distinct count / column keeps the results bit-identical.
        unique_counts, count_pos = np.unique(counts, return_inverse=True)
        tf = np.array([1 + np.log(int(c)) for c in unique_counts])[count_pos]
        unique_cols, col_pos = np.unique(cols, return_inverse=True)
        idf = np.array([np.log(1 + self.document_count / (1 + self.index_docs.get(int(j), 0)))
                        for j in unique_cols])[col_pos]
        return tf * idf

    def get_config(self):
        """Returns the tokenizer state as a dict; the vocabularies are JSON strings.

        Returns:
            A dict with num_words, filters, lower, split, char_level, oov_token,
            document_count and JSON-encoded word_counts, word_docs, index_docs, index_word,
            word_index (the `analyzer` callable is not serialized, as in Keras).
        """
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """Returns the tokenizer as a JSON string readable by `tokenizer_from_json`.

        Args:
            **kwargs: passed to `json.dumps` (e.g. `indent=2`).

        Returns:
            A JSON string `{"class_name": "Tokenizer", "config": get_config()}`.
        """
        payload = {"class_name": self.__class__.__name__, "config": self.get_config()}
        return json.dumps(payload, **kwargs)


def tokenizer_from_json(json_string):
    """Rebuilds a `Tokenizer` from `Tokenizer.to_json()` output (layerkit's or Keras's).

    Args:
        json_string: the JSON string.

    Returns:
        A `Tokenizer` with the saved settings and vocabularies.

    Example:
        >>> tok = Tokenizer(); tok.fit_on_texts(["a b b"])
        >>> tokenizer_from_json(tok.to_json()).word_index
        {'b': 1, 'a': 2}
    """
    config = dict(json.loads(json_string).get("config"))
    word_counts = json.loads(config.pop("word_counts"), object_pairs_hook=OrderedDict)
    word_docs = json.loads(config.pop("word_docs"))
    # JSON object keys are strings; the integer-keyed maps get their ints back.
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))

    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = word_counts
    tokenizer.word_docs = defaultdict(int, word_docs)
    tokenizer.index_docs = defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer
