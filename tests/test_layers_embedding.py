"""Embedding and Masking against the Keras 3 oracle, plus tf.keras 2.x's input_length.
Weight counts, a training step and save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.layers.core.embedding import Embedding
from layerkit.layers.core.masking import Masking
from layerkit.layers.rnn.simple_rnn import SimpleRNN

from helpers import to_numpy

ATOL = 1e-6


def _ids(shape, high=10, seed=0):
    return np.random.RandomState(seed).randint(0, high, size=shape)


# ------------------------------------------------------------------ Embedding vs Keras
@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("mask_zero", [False, True], ids=["no_mask", "mask_zero"])
def test_embedding_matches_keras(shape, mask_zero):
    ids = _ids(shape)
    ours = Embedding(10, 3, mask_zero=mask_zero)
    theirs = keras.layers.Embedding(10, 3, mask_zero=mask_zero)
    theirs.build(shape)
    ours.build((None,) + shape[1:])
    ours.set_weights(theirs.get_weights())
    out = ours(torch.from_numpy(ids))
    np.testing.assert_allclose(to_numpy(out), to_numpy(theirs(ids)), atol=ATOL)
    assert out.dtype == torch.float32
    assert ours.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:] + (3,)
    if mask_zero:
        np.testing.assert_array_equal(to_numpy(out._keras_mask),
                                      to_numpy(theirs.compute_mask(ids)))
        np.testing.assert_array_equal(to_numpy(out._keras_mask), ids != 0)
    else:
        assert getattr(out, "_keras_mask", None) is None


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_embedding_casts_indices(dtype):
    ids = _ids((3, 4)).astype(dtype)
    layer = Embedding(10, 2)
    out = layer(torch.from_numpy(ids))
    np.testing.assert_allclose(to_numpy(out), layer.get_weights()[0][ids.astype("int64")])


def test_embedding_default_initializer_is_uniform_005():
    layer = Embedding(1000, 50)
    layer.build((None, 3))
    w = layer.get_weights()[0]
    assert w.shape == (1000, 50)
    assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.049
    assert abs(w.mean()) < 0.002


@pytest.mark.parametrize("bad", [10, 12, -1], ids=["input_dim", "beyond", "negative"])
def test_embedding_out_of_range_index_names_layer_and_max(bad):
    layer = Embedding(10, 2, name="words")
    ids = torch.tensor([[1, 2, bad]])
    with pytest.raises(ValueError, match=r"'words'.*\[0, 9\].*input_dim=10.*" + str(bad)):
        layer(ids)


@pytest.mark.parametrize("kwargs,match", [
    (dict(input_dim=0, output_dim=2), r"Embedding\(input_dim=0\): input_dim must be a positive"),
    (dict(input_dim=5, output_dim=2.5), r"output_dim must be a positive integer"),
    (dict(input_dim=5, output_dim=2, input_length=0), r"input_length must be None or a"),
])
def test_embedding_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Embedding(**kwargs)


def test_embedding_config_round_trip():
    layer = Embedding(20, 4, mask_zero=True, input_length=6, embeddings_regularizer="l2",
                      embeddings_constraint="non_neg", name="emb")
    config = layer.get_config()
    assert config["input_dim"] == 20 and config["input_length"] == 6
    assert config["batch_input_shape"] == (None, 6)
    clone = Embedding.from_config(config)
    assert clone.get_config() == config


# ------------------------------------------------------------------ tf.keras 2.x surface
def test_input_length_builds_sequential_and_counts_params():
    """The word-embedding seed: Embedding(10000, 8, input_length=20) + Flatten + Dense."""
    model = models.Sequential([Embedding(10000, 8, input_length=20), layers.Flatten(),
                               layers.Dense(1, activation="sigmoid")])
    assert model.built
    assert model.count_params() == 80000 + 161
    assert model.layer_output_shape(model.layers[0]) == (None, 20, 8)
    assert model.layer_output_shape(model.layers[1]) == (None, 160)
    lines = []
    model.summary(print_fn=lines.append)
    assert "80,161" in "\n".join(lines) or "80161" in "\n".join(lines)


def test_embedding_without_input_length_is_built_with_unknown_length():
    """tf.keras 2.x: `Sequential([Embedding(10000, 32), SimpleRNN(32)])` has a summary."""
    model = models.Sequential([Embedding(10000, 32), SimpleRNN(32),
                               layers.Dense(1, activation="sigmoid")])
    assert model.built
    assert model.layer_output_shape(model.layers[0]) == (None, None, 32)
    assert model.layer_output_shape(model.layers[1]) == (None, 32)
    assert model.count_params() == 320000 + 2080 + 33
    out = model(torch.from_numpy(_ids((2, 7), high=10000)))
    assert tuple(out.shape) == (2, 1)


def test_cbow_embedding_shapes():
    """word2vec CBOW seed: Embedding(2066, 100, input_length=4), then a mean over the window."""
    layer = Embedding(2066, 100, input_length=4)
    out = layer(torch.from_numpy(_ids((5, 4), high=2066)))
    assert tuple(out.shape) == (5, 4, 100)
    assert layer.count_params() == 206600


def test_embedding_training_step_changes_only_used_rows():
    model = models.Sequential([Embedding(6, 2, input_length=3), layers.Flatten(),
                               layers.Dense(1)])
    model.compile("sgd", "mse")
    before = model.layers[0].get_weights()[0]
    model.train_on_batch(np.array([[1, 2, 3]]), np.array([[1.0]]))
    after = model.layers[0].get_weights()[0]
    changed = np.abs(after - before).sum(axis=1) > 0
    np.testing.assert_array_equal(changed, [False, True, True, True, False, False])


# ------------------------------------------------------------------ Masking
def test_masking_matches_keras():
    x = np.random.RandomState(0).randn(3, 5, 2).astype("float32")
    x[0, 1] = 0.0
    x[2, 3:] = 0.0
    x[1, 2, 0] = 0.0  # one zero feature only: kept
    ours, theirs = Masking(), keras.layers.Masking()
    out = ours(torch.from_numpy(x))
    np.testing.assert_allclose(to_numpy(out), to_numpy(theirs(x)), atol=ATOL)
    np.testing.assert_array_equal(to_numpy(out._keras_mask), to_numpy(theirs.compute_mask(x)))
    assert ours.compute_output_shape((None, 5, 2)) == (None, 5, 2)


def test_masking_custom_value_zeroes_and_masks():
    x = np.array([[[-1.0, -1.0], [2.0, -1.0], [-1.0, -1.0]]], dtype="float32")
    out = Masking(mask_value=-1.0)(torch.from_numpy(x))
    np.testing.assert_array_equal(to_numpy(out), [[[0, 0], [2, -1], [0, 0]]])
    np.testing.assert_array_equal(to_numpy(out._keras_mask), [[False, True, False]])


def test_masking_config_round_trip():
    config = Masking(mask_value=-1.0, name="m").get_config()
    assert config["mask_value"] == -1.0
    assert Masking.from_config(config).get_config() == config
