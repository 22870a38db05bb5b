"""layerkit.preprocessing.text against keras_preprocessing.text 1.1.2 (and Keras 3's copy)."""

import json
from collections import OrderedDict

import numpy as np
import pytest
from keras_preprocessing import text as kp_text

from layerkit.preprocessing import text

CORPUS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "Don't let the cat out; the dog is outside.",
    "A mat, a hat, a cat... THE END",
    "",
]
NEW_TEXTS = ["the cat ate the unknown zebra", "dog dog dog", "", "hat end end"]

TOKENIZER_SETTINGS = {
    "default": {},
    "num_words": {"num_words": 5},
    "oov": {"oov_token": "<OOV>"},
    "oov_num_words": {"oov_token": "<OOV>", "num_words": 4},
    "char_level": {"char_level": True},
    "no_lower": {"lower": False},
    "custom_split": {"split": ",", "filters": "!."},
}


def _fitted_pair(settings, texts=CORPUS):
    ours, theirs = text.Tokenizer(**settings), kp_text.Tokenizer(**settings)
    ours.fit_on_texts(texts)
    theirs.fit_on_texts(texts)
    return ours, theirs


@pytest.mark.parametrize("kwargs", [{}, {"lower": False}, {"filters": "t", "split": "a"},
                                    {"split": "--"}], ids=["default", "no_lower", "split_char",
                                                           "multichar_split"])
def test_text_to_word_sequence_matches_keras(kwargs):
    for sentence in CORPUS + ["Tab\tnew\nline  double--dash", "--a--b--"]:
        assert (text.text_to_word_sequence(sentence, **kwargs)
                == kp_text.text_to_word_sequence(sentence, **kwargs))


def test_text_to_word_sequence_keeps_apostrophe():
    assert text.text_to_word_sequence("Don't STOP, me!") == ["don't", "stop", "me"]


@pytest.mark.parametrize("hash_function", [None, "md5", len], ids=["hash", "md5", "callable"])
def test_hashing_trick_matches_keras(hash_function):
    for sentence in CORPUS:
        assert (text.hashing_trick(sentence, 17, hash_function=hash_function)
                == kp_text.hashing_trick(sentence, 17, hash_function=hash_function))


def test_hashing_trick_md5_values_and_range():
    got = text.hashing_trick("the cat the", 10, hash_function="md5")
    expected = [int(__import__("hashlib").md5(w.encode()).hexdigest(), 16) % 9 + 1
                for w in ["the", "cat", "the"]]
    assert got == expected
    assert all(1 <= i <= 9 for i in text.hashing_trick(" ".join(CORPUS), 10))


def test_hashing_trick_rejects_n_below_2():
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        text.hashing_trick("a b", 1)


def test_one_hot_matches_keras():
    for sentence in CORPUS:
        assert text.one_hot(sentence, 11) == kp_text.one_hot(sentence, 11)


def test_analyzer_matches_keras3_copy():
    from keras.src.legacy.preprocessing import text as k3_text

    ours = text.Tokenizer(analyzer=str.split)
    theirs = k3_text.Tokenizer(analyzer=str.split)
    ours.fit_on_texts(CORPUS)
    theirs.fit_on_texts(CORPUS)
    assert ours.word_index == theirs.word_index
    assert ours.texts_to_sequences(NEW_TEXTS) == theirs.texts_to_sequences(NEW_TEXTS)
    assert text.hashing_trick("a B", 7, "md5", analyzer=str.split) == \
        k3_text.hashing_trick("a B", 7, "md5", analyzer=str.split)


@pytest.mark.parametrize("settings", TOKENIZER_SETTINGS.values(), ids=TOKENIZER_SETTINGS)
def test_tokenizer_state_matches_keras(settings):
    ours, theirs = _fitted_pair(settings)
    assert isinstance(ours.word_counts, OrderedDict)
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert dict(ours.word_docs) == dict(theirs.word_docs)
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    assert ours.word_index == theirs.word_index
    assert ours.index_word == theirs.index_word
    assert ours.document_count == theirs.document_count == len(CORPUS)


@pytest.mark.parametrize("settings", TOKENIZER_SETTINGS.values(), ids=TOKENIZER_SETTINGS)
def test_tokenizer_conversions_match_keras(settings):
    ours, theirs = _fitted_pair(settings)
    assert ours.texts_to_sequences(NEW_TEXTS) == theirs.texts_to_sequences(NEW_TEXTS)
    assert (list(ours.texts_to_sequences_generator(NEW_TEXTS))
            == list(theirs.texts_to_sequences_generator(NEW_TEXTS)))
    sequences = [[1, 2, 3], [4, 5, 99, 0], [], list(range(12))]
    assert ours.sequences_to_texts(sequences) == theirs.sequences_to_texts(sequences)
    assert (list(ours.sequences_to_texts_generator(sequences))
            == list(theirs.sequences_to_texts_generator(sequences)))


@pytest.mark.parametrize("settings", TOKENIZER_SETTINGS.values(), ids=TOKENIZER_SETTINGS)
@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
def test_texts_to_matrix_matches_keras(settings, mode):
    ours, theirs = _fitted_pair(settings)
    expected = theirs.texts_to_matrix(NEW_TEXTS + CORPUS, mode=mode)
    dense = ours.texts_to_matrix(NEW_TEXTS + CORPUS, mode=mode)
    assert dense.dtype == np.float64 and dense.shape == expected.shape
    np.testing.assert_array_equal(dense, expected)
    sparse = ours.texts_to_matrix(NEW_TEXTS + CORPUS, mode=mode, sparse=True)
    assert sparse.format == "csr"
    np.testing.assert_array_equal(sparse.toarray(), expected)


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
def test_sequences_to_matrix_skips_wide_indices_and_fit_on_sequences(mode):
    sequences = [[1, 1, 2, 7, 9], [3, 3, 3], [], [0, 2, 2, 5]]
    ours, theirs = text.Tokenizer(num_words=6), kp_text.Tokenizer(num_words=6)
    ours.fit_on_sequences(sequences)
    theirs.fit_on_sequences(sequences)
    assert ours.document_count == theirs.document_count == 4
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    expected = theirs.sequences_to_matrix(sequences, mode=mode)
    np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode=mode), expected)
    np.testing.assert_array_equal(
        ours.sequences_to_matrix(sequences, mode=mode, sparse=True).toarray(), expected)


def test_matrix_modes_hand_computed():
    tok = text.Tokenizer(num_words=3)
    tok.fit_on_texts(["the the dog sat"])
    seq = [[1, 1, 2, 3]]  # the the dog sat; 'sat' (index 3) is skipped, but counted in len
    np.testing.assert_allclose(tok.sequences_to_matrix(seq, "count"), [[0, 2, 1]])
    np.testing.assert_allclose(tok.sequences_to_matrix(seq, "freq"), [[0, 0.5, 0.25]])
    idf = np.log(1 + 1 / 2)
    np.testing.assert_allclose(tok.sequences_to_matrix(seq, "tfidf"),
                               [[0, (1 + np.log(2)) * idf, idf]], rtol=1e-15)
    np.testing.assert_allclose(tok.texts_to_matrix(["the the dog sat"], "freq"),
                               [[0, 2 / 3, 1 / 3]])


def test_sequences_to_matrix_errors():
    with pytest.raises(ValueError, match="matrix width is unknown"):
        text.Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="mode='tfidf' needs document"):
        text.Tokenizer(num_words=4).sequences_to_matrix([[1]], mode="tfidf")
    tok = text.Tokenizer(num_words=4)
    with pytest.raises(ValueError, match="mode must be one of"):
        tok.sequences_to_matrix([[]], mode="onehot")
    with pytest.raises(ValueError, match="indices must be >= 0"):
        tok.sequences_to_matrix([[1, -1]])


def test_token_lists_are_used_as_tokens():
    texts = [["Hello", "World", "hello"], ["world", "New-York"]]
    ours, theirs = _fitted_pair({}, texts)
    assert ours.word_index == theirs.word_index
    assert ours.texts_to_sequences(texts) == theirs.texts_to_sequences(texts)


def test_word_index_order_hand_computed():
    tok = text.Tokenizer(oov_token="<unk>", num_words=3)
    tok.fit_on_texts(["b a", "c a c", "b"])
    # counts: b 2, a 2, c 2 → all tied, first-seen order b, a, c after the OOV token
    assert tok.word_index == {"<unk>": 1, "b": 2, "a": 3, "c": 4}
    assert tok.texts_to_sequences(["a b z"]) == [[1, 2, 1]]
    assert tok.sequences_to_texts([[2, 3, 0]]) == ["b <unk> <unk>"]


def test_nb_words_legacy_alias_and_unknown_kwargs():
    with pytest.warns(UserWarning, match="nb_words"):
        tok = text.Tokenizer(nb_words=7)
    assert tok.num_words == 7
    with pytest.raises(TypeError, match="unrecognized keyword arguments"):
        text.Tokenizer(num_word=7)


@pytest.mark.parametrize("settings", TOKENIZER_SETTINGS.values(), ids=TOKENIZER_SETTINGS)
def test_json_matches_keras_and_round_trips(settings):
    ours, theirs = _fitted_pair(settings)
    assert ours.get_config() == theirs.get_config()
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())
    restored = text.tokenizer_from_json(ours.to_json(indent=1))
    from_keras = text.tokenizer_from_json(theirs.to_json())
    keras_restored = kp_text.tokenizer_from_json(ours.to_json())
    for tok in (restored, from_keras, keras_restored):
        assert tok.get_config() == theirs.get_config()
        assert tok.texts_to_sequences(NEW_TEXTS) == theirs.texts_to_sequences(NEW_TEXTS)
        np.testing.assert_array_equal(tok.texts_to_matrix(NEW_TEXTS, mode="tfidf"),
                                      theirs.texts_to_matrix(NEW_TEXTS, mode="tfidf"))


def test_fitting_after_json_round_trip():
    tok = text.Tokenizer()
    tok.fit_on_texts(CORPUS[:2])
    restored = text.tokenizer_from_json(tok.to_json())
    tok.fit_on_texts(CORPUS[2:])
    restored.fit_on_texts(CORPUS[2:])
    assert restored.get_config() == tok.get_config()
    assert list(restored.word_counts) == list(tok.word_counts)


def test_incremental_fit_matches_keras():
    ours, theirs = _fitted_pair({"oov_token": "cat"}, CORPUS[:2])  # OOV token also a word
    ours.fit_on_texts(CORPUS[2:])
    theirs.fit_on_texts(CORPUS[2:])
    assert ours.get_config() == theirs.get_config()
    assert ours.texts_to_sequences(NEW_TEXTS) == theirs.texts_to_sequences(NEW_TEXTS)


def _generated_reviews(n_reviews=2000, mean_words=60, vocab_size=5000, seed=0):
    """Review-like texts: Zipf word ranks, capitals, punctuation, newlines, a few accents."""
    rng = np.random.RandomState(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéü'"))
    vocab = ["".join(rng.choice(letters, size=k, p=np.r_[np.full(26, 0.036), 0.02, 0.02, 0.024]))
             for k in rng.randint(1, 12, vocab_size)]
    p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
    lengths = rng.poisson(mean_words, n_reviews)
    ids = rng.choice(vocab_size, size=int(lengths.sum()), p=p / p.sum()).tolist()
    marks = rng.choice(["", "", "", "", ",", ".", "!", "\n", " --", "  "], size=len(ids))
    caps = (rng.rand(len(ids)) < 0.05).tolist()
    words = [(vocab[i].upper() if c else vocab[i]) + m for i, c, m in zip(ids, caps, marks)]
    bounds = np.r_[0, np.cumsum(lengths)].tolist()
    return [" ".join(words[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


@pytest.mark.parametrize("settings", [{"num_words": 1000}, {"num_words": 500, "oov_token": "?"}],
                         ids=["num_words", "oov"])
def test_fast_paths_match_keras_on_generated_corpus(settings, monkeypatch):
    """Chunked counting, vocabulary compaction and C-level lookups vs Keras's loops."""
    monkeypatch.setattr(text, "_FIT_CHUNK", 300)  # several chunks and compactions
    reviews = _generated_reviews()
    ours, theirs = _fitted_pair(settings, reviews[:1500])
    ours.fit_on_texts(iter(reviews[1500:]))  # a second fit, from a generator
    theirs.fit_on_texts(reviews[1500:])
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert ours.word_index == theirs.word_index
    assert ours.to_json() == theirs.to_json()  # word_docs and index_docs orders too
    sequences = ours.texts_to_sequences(reviews)
    assert sequences == theirs.texts_to_sequences(reviews)
    np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode="binary"),
                                  theirs.sequences_to_matrix(sequences, mode="binary"))
