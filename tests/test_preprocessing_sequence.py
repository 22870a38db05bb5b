"""layerkit.preprocessing.sequence against keras_preprocessing.sequence and keras.utils."""

import json
import random

import keras
import numpy as np
import pytest
from keras_preprocessing import sequence as kp_sequence

from layerkit.preprocessing import sequence

RAGGED = [[1], [2, 3], [], [4, 5, 6, 7, 8], [9, 10, 11]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 3, 7])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    got = sequence.pad_sequences(RAGGED, **kwargs)
    for oracle in (keras.utils.pad_sequences, kp_sequence.pad_sequences):
        expected = oracle(RAGGED, **kwargs)
        assert got.dtype == expected.dtype == np.int32
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype,value", [("float32", -1.5), ("int64", 7), ("float64", np.nan),
                                         ("uint8", 255)])
def test_pad_sequences_dtypes_and_values(dtype, value):
    data = [[0.5, 1.25], [3.0], [2.0, 4.0, 8.0]]
    got = sequence.pad_sequences(data, maxlen=2, dtype=dtype, value=value, padding="post")
    expected = keras.utils.pad_sequences(data, maxlen=2, dtype=dtype, value=value,
                                         padding="post")
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_hand_computed():
    np.testing.assert_array_equal(sequence.pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2),
                                  [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(
        sequence.pad_sequences([[1], [4, 5, 6]], maxlen=2, truncating="post", padding="post",
                               value=-1), [[1, -1], [4, 5]])


def test_pad_sequences_strings():
    words = [["a", "bb"], ["ccc"], ["dd", "e", "ffff"]]
    for dtype in (object, "<U4"):
        got = sequence.pad_sequences(words, maxlen=2, dtype=dtype, value="<pad>")
        expected = keras.utils.pad_sequences(words, maxlen=2, dtype=dtype, value="<pad>")
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    # layerkit accepts 'object' spelled as a string (Keras raises there).
    got = sequence.pad_sequences(words, maxlen=2, dtype="object", value="<pad>")
    assert got.tolist() == [["a", "bb"], ["<pad>", "ccc"], ["e", "ffff"]]


def test_pad_sequences_vector_samples():
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(n, 3, 2)).astype("float32") for n in (2, 0, 5, 1)]
    for padding, truncating in [("pre", "pre"), ("post", "post"), ("pre", "post")]:
        kwargs = dict(maxlen=4, dtype="float32", padding=padding, truncating=truncating,
                      value=9.0)
        got = sequence.pad_sequences(data, **kwargs)
        assert got.shape == (4, 4, 3, 2)
        np.testing.assert_array_equal(got, kp_sequence.pad_sequences(data, **kwargs))


def test_pad_sequences_numpy_input_and_edge_lengths():
    arr = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(sequence.pad_sequences(arr, maxlen=6),
                                  keras.utils.pad_sequences(arr, maxlen=6))
    assert sequence.pad_sequences([], maxlen=None).shape == (0, 0)
    assert sequence.pad_sequences([], maxlen=3).shape == (0, 3)
    assert sequence.pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)
    np.testing.assert_array_equal(sequence.pad_sequences([[], []], value=4), np.zeros((2, 0)))


@pytest.mark.parametrize("kwargs,match", [
    ({"padding": "middle"}, "padding must be 'pre' or 'post'"),
    ({"truncating": "both"}, "truncating must be 'pre' or 'post'"),
    ({"value": "x"}, "not compatible with the string value"),
    ({"value": "x", "dtype": "float32"}, "not compatible with the string value"),
    ({"maxlen": -1}, "maxlen must be None or >= 0"),
])
def test_pad_sequences_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sequence.pad_sequences([[1, 2], [3]], **kwargs)
    if "maxlen" not in kwargs:  # Keras raises ValueError in the same cases
        with pytest.raises(ValueError):
            keras.utils.pad_sequences([[1, 2], [3]], **kwargs)


def test_pad_sequences_input_errors():
    with pytest.raises(ValueError, match="without a length"):
        sequence.pad_sequences(iter([[1]]))
    with pytest.raises(ValueError, match="non-sequence 5"):
        sequence.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="expected \\(2,\\)"):
        sequence.pad_sequences([[[1, 2]], [[1, 2, 3]]])


@pytest.mark.parametrize("size,factor", [(1, 1e-5), (10, 1e-5), (1000, 1e-3), (50, 0.5)])
def test_make_sampling_table_matches_keras(size, factor):
    got = sequence.make_sampling_table(size, sampling_factor=factor)
    np.testing.assert_array_equal(got, kp_sequence.make_sampling_table(size, factor))


def test_make_sampling_table_hand_computed():
    table = sequence.make_sampling_table(3, sampling_factor=0.1)
    inv_fq = np.array([1 * (0 + 0.577) + 0.5 - 1 / 12, 1 * (0 + 0.577) + 0.5 - 1 / 12,
                       2 * (np.log(2) + 0.577) + 0.5 - 1 / 24])
    np.testing.assert_allclose(table, np.minimum(1, np.sqrt(0.1 * inv_fq)), rtol=1e-12)
    with pytest.raises(ValueError, match="size must be >= 1"):
        sequence.make_sampling_table(0)


SKIPGRAM_CASES = {
    "default_seeded": dict(seed=42),
    "unseeded": dict(),
    "categorical": dict(categorical=True, seed=3),
    "no_shuffle": dict(shuffle=False),
    "no_negatives": dict(negative_samples=0.0, seed=1),
    "more_negatives": dict(negative_samples=2.5, window_size=2, seed=5),
    "sampling_table": dict(sampling_table="table", seed=9),
}


@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange")  # Keras's randint
@pytest.mark.parametrize("case", SKIPGRAM_CASES.values(), ids=SKIPGRAM_CASES)
def test_skipgrams_matches_keras(case):
    seq = [3, 0, 5, 1, 7, 2, 2, 0, 9, 4, 6, 1, 8]
    kwargs = dict(case)
    if kwargs.get("sampling_table") == "table":
        kwargs["sampling_table"] = kp_sequence.make_sampling_table(10, sampling_factor=0.05)
    random.seed(1234)
    got = sequence.skipgrams(seq, 10, **kwargs)
    state_after = random.getstate()
    random.seed(1234)
    expected = kp_sequence.skipgrams(seq, 10, **kwargs)
    assert got == expected
    assert state_after == random.getstate()  # same number of random draws


def test_skipgrams_hand_computed():
    couples, labels = sequence.skipgrams([1, 2, 0, 3], 4, window_size=1, negative_samples=0,
                                         shuffle=False)
    assert couples == [[1, 2], [2, 1]]
    assert labels == [1, 1]
    couples, labels = sequence.skipgrams([1, 2, 3], 5, window_size=1, negative_samples=1.0,
                                         categorical=True, seed=0)
    assert len(couples) == 8 and sum(lab == [1, 0] for lab in labels) == 4
    positives = sorted(c for c, lab in zip(couples, labels) if lab == [0, 1])
    assert positives == [[1, 2], [2, 1], [2, 3], [3, 2]]
    negatives = [c for c, lab in zip(couples, labels) if lab == [1, 0]]
    assert all(1 <= c[1] <= 4 for c in negatives)


def test_skipgrams_needs_vocabulary_for_negatives():
    with pytest.raises(ValueError, match="vocabulary_size must be >= 2"):
        sequence.skipgrams([1, 1], 1)


def _series(n=40):
    data = np.arange(n * 2, dtype="float32").reshape(n, 2)
    return data, np.arange(n) * 10


TSG_CASES = {
    "default": dict(length=5),
    "keras_doc": dict(length=10, sampling_rate=2, batch_size=2),
    "stride": dict(length=4, stride=3, batch_size=4),
    "window": dict(length=3, start_index=5, end_index=30, batch_size=6, sampling_rate=2),
    "reverse": dict(length=6, reverse=True, batch_size=7),
    "shuffle": dict(length=4, shuffle=True, batch_size=5),
}


@pytest.mark.parametrize("case", TSG_CASES.values(), ids=TSG_CASES)
def test_timeseries_generator_matches_keras(case):
    data, targets = _series()
    ours = sequence.TimeseriesGenerator(data, targets, **case)
    theirs = kp_sequence.TimeseriesGenerator(data, targets, **case)
    assert len(ours) == len(theirs) > 0
    for index in range(len(ours)):
        np.random.seed(index)
        x, y = ours[index]
        np.random.seed(index)
        x_expected, y_expected = theirs[index]
        np.testing.assert_array_equal(x, x_expected)
        np.testing.assert_array_equal(y, y_expected)
    assert len(list(iter(ours))) == len(ours)


def test_timeseries_generator_hand_computed():
    data = np.array([[i] for i in range(50)])
    gen = sequence.TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])
    x_last, y_last = gen[19]
    np.testing.assert_array_equal(y_last, [[48], [49]])
    lists = sequence.TimeseriesGenerator(list(range(8)), list(range(8)), length=3,
                                         batch_size=10)
    x, y = lists[0]
    assert x.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]
    assert y.tolist() == [3, 4, 5, 6, 7]


def test_timeseries_generator_errors():
    with pytest.raises(ValueError, match="same length, received 3 and 2"):
        sequence.TimeseriesGenerator([1, 2, 3], [1, 2], length=1)
    with pytest.raises(ValueError, match="no window fits"):
        sequence.TimeseriesGenerator([1, 2, 3], [1, 2, 3], length=3)
    gen = sequence.TimeseriesGenerator([object()] * 4, [1] * 4, length=1)
    with pytest.raises(TypeError, match="data must be JSON serializable"):
        gen.get_config()


def test_timeseries_generator_config_and_json_round_trip():
    data, targets = _series(30)
    kwargs = dict(length=4, sampling_rate=2, stride=2, start_index=3, end_index=25,
                  reverse=True, batch_size=3)
    gen = sequence.TimeseriesGenerator(data, targets, **kwargs)
    config = gen.get_config()
    # layerkit returns the constructor's start_index; Keras returns start_index + length.
    keras_config = kp_sequence.TimeseriesGenerator(data, targets, **kwargs).get_config()
    assert config["start_index"] == 3 and keras_config["start_index"] == 7
    assert {k: v for k, v in config.items() if k != "start_index"} == \
        {k: v for k, v in keras_config.items() if k != "start_index"}
    assert {k: config[k] for k in kwargs} == kwargs
    assert json.loads(config["data"]) == data.tolist()
    payload = json.loads(gen.to_json())
    assert payload["class_name"] == "TimeseriesGenerator"
    restored = sequence.timeseries_generator_from_json(gen.to_json())
    assert len(restored) == len(gen)
    for index in range(len(gen)):
        for got, expected in zip(restored[index], gen[index]):
            np.testing.assert_array_equal(got, expected)
