"""BatchNormalization(synchronized=True) in one process: exactly plain BatchNormalization
(the 2-rank equivalence runs in test_distribute.py's shared launch); config and files that
Keras 3 loads."""

import contextlib

import keras
import numpy as np
import torch

from layerkit import distribute, layers, models


def _fit(synchronized, strategy=None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 5))
    y = (x[:, :1] > 0).astype("float64")
    torch.manual_seed(1)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.Sequential([
            layers.Dense(4, input_shape=(5,), dtype="float64"),
            layers.BatchNormalization(synchronized=synchronized, momentum=0.5,
                                      dtype="float64"),
            layers.Dense(1, activation="sigmoid", dtype="float64")])
        model.compile("adam", "binary_crossentropy")
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    return model, model.get_weights(), history.history["loss"]


def test_synchronized_in_one_process_is_plain_batchnorm_bitwise():
    _, plain, plain_loss = _fit(False)
    strategy = distribute.MirroredStrategy()  # nothing launched: world size 1
    assert strategy.num_replicas_in_sync == 1
    for run in (_fit(True), _fit(True, strategy)):
        _, weights, loss = run
        assert loss == plain_loss
        for a, b in zip(weights, plain):
            np.testing.assert_array_equal(a, b)
    assert np.abs(plain[2]).min() > 0  # the moving mean moved


def test_synchronized_config_and_file(tmp_path):
    """The config keeps Keras 3's `synchronized`; the file loads back with it. Keras 3 itself
    builds such a layer only on its TensorFlow backend: on torch (and JAX) it refuses the
    argument, in its own words, while the same config with False loads there."""
    import pytest

    model, weights, _ = _fit(True)
    config = model.layers[1].get_config()
    assert config["synchronized"] is True
    assert layers.BatchNormalization.from_config(config).synchronized is True
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    assert loaded.layers[1].synchronized is True
    for a, b in zip(loaded.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="synchronized=True is only supported with the "
                                        "TensorFlow backend"):
        keras.saving.load_model(tmp_path / "m.keras")
    theirs = keras.layers.BatchNormalization.from_config(dict(config, synchronized=False))
    assert theirs.get_config()["momentum"] == config["momentum"] == 0.5
