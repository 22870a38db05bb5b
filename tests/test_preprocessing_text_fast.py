"""The byte-level Tokenizer path (`layerkit.preprocessing._text_fast`) vs keras_preprocessing."""

import numpy as np
import pytest
from keras_preprocessing import text as kp_text

from layerkit.preprocessing import _text_fast, text

EDGE_TEXTS = [
    "Ünïcödé wörds: CAFÉ, café; naïve façade.",
    "ΟΔΟΣ οδός ΣΊΣΥΦΟΣ Σίσυφος",  # lower() turns a final capital sigma into 'ς'
    "İstanbul ıi İİ straße STRASSE",  # 'İ'.lower() is two code points
    "日本語 テキスト 日本語, emoji 🙂🙂 🙂",
    # 8, 9, 16, 17 and 28-byte words sharing prefixes (the hash chunks are 8 bytes)
    "abcdefgh abcdefghi abcdefghijklmnop abcdefghijklmnopq abcdefghijklmnopqrstuvwxyzab",
    "abcdefghi abcdefghijklmnopq abcdefghijklmnopqrstuvwxyzac éééééééé ééééééééé",
    "",
    "!!! ... ,,, \t\n --",
    "     ",
    "a",
    "a b a c",
]
NEW_TEXTS = ["café CAFÉ unseen 🙂 abcdefghijklmnopq abcdefghijklmnopqrstuvwxyzaX", "", "a a"]

SETTINGS = {
    "default": {},
    "num_words": {"num_words": 6},
    "oov_num_words": {"num_words": 7, "oov_token": "<unk>"},
    "no_lower": {"lower": False},
    "non_ascii_filters": {"filters": text.DEFAULT_FILTERS + "«»…ς"},
    "filter_list_tab_split": {"filters": list("!,."), "split": "\t"},
    "comma_split": {"split": ",", "filters": "!."},
}


def _assert_same_state(ours, theirs):
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert list(ours.word_docs.items()) == list(theirs.word_docs.items())
    assert list(ours.index_docs.items()) == list(theirs.index_docs.items())
    assert ours.word_index == theirs.word_index
    assert ours.index_word == theirs.index_word
    assert ours.document_count == theirs.document_count
    assert ours.to_json() == theirs.to_json()


def _assert_same_conversions(ours, theirs, texts):
    sequences = ours.texts_to_sequences(texts)
    assert sequences == theirs.texts_to_sequences(texts)
    np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode="count"),
                                  theirs.sequences_to_matrix(sequences, mode="count"))


@pytest.fixture(autouse=True)
def byte_path_for_small_calls(monkeypatch):
    """Takes the byte-level path however small the call (see the last test for the cutoff)."""
    monkeypatch.setattr(_text_fast, "_CHARS_PER_KNOWN_WORD", 0)


@pytest.fixture
def tokenize_calls(monkeypatch):
    """Counts the texts that went through the byte-level tokenizer."""
    calls = []
    original = _text_fast._tokenize

    def counting(texts, settings):
        calls.append(len(texts))
        return original(texts, settings)

    monkeypatch.setattr(_text_fast, "_tokenize", counting)
    return calls


def _corpus(n_texts, seed=0):
    """Texts of accented, CJK and emoji words of 1-21 characters, capitals, punctuation."""
    rng = np.random.RandomState(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz") + list("éüßΣς日本🙂'")
    vocab = ["".join(rng.choice(letters, size=k)) for k in rng.randint(1, 22, 400)]
    p = 1.0 / np.arange(1, len(vocab) + 1)
    marks = ["", "", "", ",", ".", "!", "\n", " --", "  ", "«"]
    texts = []
    for length in rng.poisson(12, n_texts):
        ids = rng.choice(len(vocab), size=length, p=p / p.sum())
        words = [vocab[i].upper() if rng.rand() < 0.1 else vocab[i] for i in ids]
        texts.append(" ".join(w + marks[rng.randint(len(marks))] for w in words))
    return texts


@pytest.mark.parametrize("settings", list(SETTINGS.values()), ids=list(SETTINGS))
def test_edge_texts_match_keras(settings, tokenize_calls):
    ours, theirs = text.Tokenizer(**settings), kp_text.Tokenizer(**settings)
    ours.fit_on_texts(EDGE_TEXTS)
    theirs.fit_on_texts(EDGE_TEXTS)
    assert tokenize_calls  # the byte-level path ran
    _assert_same_state(ours, theirs)
    _assert_same_conversions(ours, theirs, EDGE_TEXTS + NEW_TEXTS)


@pytest.mark.parametrize("settings", [{}, {"num_words": 40, "oov_token": "?"}],
                         ids=["default", "oov"])
def test_repeated_fits_and_generators_match_keras(settings, tokenize_calls, monkeypatch):
    monkeypatch.setattr(text, "_FIT_CHUNK", 7)  # many chunks, table growth between them
    texts = _corpus(120)
    ours, theirs = text.Tokenizer(**settings), kp_text.Tokenizer(**settings)
    for part, as_given in ((texts[:50], list), (texts[50:51], iter), ([], list),
                           (texts[51:], lambda part: (t for t in part))):
        ours.fit_on_texts(as_given(part))
        theirs.fit_on_texts(part)
        _assert_same_state(ours, theirs)
    assert sum(tokenize_calls) == len(texts)
    generated = list(ours.texts_to_sequences_generator(iter(texts + NEW_TEXTS)))
    assert generated == theirs.texts_to_sequences(texts + NEW_TEXTS)
    _assert_same_conversions(ours, theirs, texts)


def test_fitting_falls_back_at_a_chunk_of_token_lists(tokenize_calls, monkeypatch):
    monkeypatch.setattr(text, "_FIT_CHUNK", 2)
    texts = EDGE_TEXTS[:4] + [["Tokens", "stay", "as", "they", "are", "café"]] + EDGE_TEXTS[4:]
    ours, theirs = text.Tokenizer(), kp_text.Tokenizer()
    ours.fit_on_texts(texts)
    theirs.fit_on_texts(texts)
    assert sum(tokenize_calls) == 4  # two byte-level chunks, then Keras's token handling
    _assert_same_state(ours, theirs)
    _assert_same_conversions(ours, theirs, texts + NEW_TEXTS)


def test_nul_bytes_and_lone_surrogates_match_keras(tokenize_calls):
    with_nul = ["a\x00 a \x00a b\x00\x00 abcdefgh\x00 abcdefgh", "plain words a"]
    surrogates = ["x\ud800y x", "a"]  # not UTF-8 encodable: Keras's token handling
    for split in (" ", "\x00"):
        ours, theirs = text.Tokenizer(split=split), kp_text.Tokenizer(split=split)
        for texts in (with_nul, surrogates, with_nul):
            ours.fit_on_texts(texts)
            theirs.fit_on_texts(texts)
            _assert_same_state(ours, theirs)
        _assert_same_conversions(ours, theirs, with_nul + surrogates + ["a\x00 \x00a"])
    assert tokenize_calls.count(len(with_nul)) >= 2


def test_hash_collisions_keep_results_exact(monkeypatch):
    """Words over 8 bytes forced onto 3 hashes: fitting falls back, lookups check bytes."""
    original = _text_fast._Words.hashes

    def colliding(words):
        hashes = original(words)
        long = words.lengths > 8
        # Preimages with a zero low byte, as `hashes` keeps for long words.
        hashes[long] = ((words.lengths[long] % 3).astype(np.uint64) << np.uint64(8)) \
            * _text_fast._MUL
        return hashes

    monkeypatch.setattr(_text_fast._Words, "hashes", colliding)
    texts = _corpus(60, seed=1)
    for settings in ({}, {"oov_token": "?"}):
        ours, theirs = text.Tokenizer(**settings), kp_text.Tokenizer(**settings)
        ours.fit_on_texts(texts[:30])
        theirs.fit_on_texts(texts[:30])
        _assert_same_state(ours, theirs)
        _assert_same_conversions(ours, theirs, texts)


def test_byte_settings_decline_what_bytes_cannot_split():
    assert _text_fast.byte_settings("!", True, " ") is not None
    assert _text_fast.byte_settings("!", True, "→") is None  # non-ASCII separator
    assert _text_fast.byte_settings("!", True, "--") is None  # several characters
    assert _text_fast.byte_settings(["!", "ab"], True, " ") is None  # str.maketrans raises
    lower, table, str_table, sep = _text_fast.byte_settings("!é", False, ",")
    assert (lower, sep, b"a!b".translate(table), "xéy".translate(str_table)) == (
        False, b",", b"a,b", "x,y")


def test_small_calls_against_a_large_vocabulary_take_the_per_word_path(tokenize_calls,
                                                                       monkeypatch):
    monkeypatch.setattr(_text_fast, "_CHARS_PER_KNOWN_WORD", 32)
    texts = _corpus(100, seed=2)
    ours, theirs = text.Tokenizer(oov_token="?"), kp_text.Tokenizer(oov_token="?")
    ours.fit_on_texts(texts)
    theirs.fit_on_texts(texts)
    assert tokenize_calls == [len(texts)]  # an empty vocabulary costs nothing to build
    for one in texts[:3]:
        ours.fit_on_texts([one])
        theirs.fit_on_texts([one])
        assert ours.texts_to_sequences([one]) == theirs.texts_to_sequences([one])
    assert tokenize_calls == [len(texts)]
    _assert_same_state(ours, theirs)
