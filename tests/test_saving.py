"""Saving and loading within layerkit: both formats, weights, JSON, continued training."""

import json

import numpy as np
import pytest
import torch

from layerkit import layers, models, optimizers
from layerkit.layers.merging import Concatenate
from layerkit.saving import (load_model, load_weights, model_from_json, save_model,
                             save_weights)

FORMATS = ["keras", "h5", "hdf5"]


def _data(n=24, features=4, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.normal(size=(n, outputs)).astype("float32")
    return x, y


def _sequential(optimizer="adam"):
    torch.manual_seed(0)
    model = models.Sequential([
        layers.Dense(5, activation="relu", input_shape=(4,)),
        layers.Dropout(0.0),
        layers.Dense(2),
    ])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def _functional():
    torch.manual_seed(0)
    a = layers.Input(shape=(4,), name="a")
    b = layers.Input(shape=(3,), name="b")
    h = layers.Dense(5, activation="tanh", name="h")(a)
    x = Concatenate()([h, b])
    out = layers.Dense(2, name="out")(x)
    model = models.Model([a, b], out)
    model.compile(optimizer=optimizers.RMSprop(momentum=0.5, centered=True), loss="mse",
                  metrics=["mae"])
    return model


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


@pytest.mark.parametrize("ext", FORMATS)
def test_sequential_round_trip_predicts_identically(tmp_path, ext):
    x, y = _data()
    model = _sequential()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / f"m.{ext}"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is models.Sequential
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert _weights_equal(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    assert type(loaded.optimizer) is optimizers.Adam


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("optimizer", [
    "adam", "sgd", optimizers.SGD(momentum=0.9, nesterov=True), optimizers.Nadam(),
    optimizers.RMSprop(momentum=0.5, centered=True), optimizers.Adagrad(),
    optimizers.Adam(amsgrad=True), optimizers.Adamax(), optimizers.Adadelta(1.0)],
    ids=lambda o: o if isinstance(o, str) else type(o).__name__)
def test_training_continues_exactly_after_reload(tmp_path, ext, optimizer):
    x, y = _data(seed=1)
    config = optimizer if isinstance(optimizer, str) else optimizers.serialize(optimizer)
    reference = _sequential(optimizers.get(config))
    reference.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)

    model = _sequential(optimizers.get(config))
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / f"m.{ext}")
    resumed = load_model(tmp_path / f"m.{ext}")
    history = resumed.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert _weights_equal(reference, resumed)


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_functional_round_trip_and_continued_training(tmp_path, ext):
    rng = np.random.default_rng(2)
    xa, xb = rng.normal(size=(16, 4)), rng.normal(size=(16, 3))
    y = rng.normal(size=(16, 2))
    reference = _functional()
    reference.fit([xa, xb], y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    model = _functional()
    model.fit([xa, xb], y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / f"f.{ext}")
    loaded = load_model(tmp_path / f"f.{ext}")
    assert loaded.input_names == ["a", "b"] and loaded.output_names == ["out"]
    np.testing.assert_array_equal(loaded.predict([xa, xb]), model.predict([xa, xb]))
    loaded.fit([xa, xb], y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert _weights_equal(reference, loaded)


def test_compile_settings_are_restored(tmp_path):
    x, y = _data()
    model = _sequential(optimizers.SGD(learning_rate=0.0123, momentum=0.3))
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0123, momentum=0.3),
                  loss="mean_absolute_error", metrics=["mse", "mae"])
    model.fit(x, y, epochs=1, verbose=0)
    for ext in ("keras", "h5"):
        loaded = load_model(_saved(model, tmp_path, ext))
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
        assert loaded.metrics_names == ["loss", "mse", "mae"]


def _saved(model, tmp_path, ext):
    path = tmp_path / f"model.{ext}"
    model.save(path)
    return path


def test_load_without_compile_and_uncompiled_models(tmp_path):
    model = _sequential()
    loaded = load_model(_saved(model, tmp_path, "keras"), compile=False)
    assert loaded.compiled is None and loaded.optimizer is None
    plain = models.Sequential([layers.Dense(2, input_shape=(3,))])
    for ext in ("keras", "h5"):
        again = load_model(_saved(plain, tmp_path, ext))
        assert again.compiled is None and _weights_equal(plain, again)


def test_save_rejects_unknown_extensions(tmp_path):
    model = _sequential()
    with pytest.raises(ValueError, match=r"\.keras, \.h5, \.hdf5"):
        model.save(tmp_path / "model.pt")
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "model.weights.h5")
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(tmp_path / "w.keras")
    save_model(model, tmp_path / "plain", save_format="h5")
    assert load_model(tmp_path / "plain").count_params() == model.count_params()
    with pytest.raises(ValueError, match="overwrite"):
        save_model(model, tmp_path / "plain", save_format="h5", overwrite=False)


@pytest.mark.parametrize("name", ["w.h5", "w.hdf5", "w.weights.h5"])
def test_save_and_load_weights(tmp_path, name):
    x, _ = _data()
    model = _sequential()
    model.save_weights(tmp_path / name)
    other = _sequential()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    other.load_weights(tmp_path / name)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_load_weights_by_name_and_skip_mismatch(tmp_path):
    source = models.Sequential([layers.Dense(3, input_shape=(4,), name="shared"),
                                layers.Dense(2, name="head")])
    source.save_weights(tmp_path / "w.h5")
    target = models.Sequential([layers.Dense(3, input_shape=(4,), name="shared"),
                                layers.Dense(7, name="head")])
    with pytest.raises(ValueError, match="head"):
        target.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="skipping layer 'head'"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("shared").get_weights()[0],
                                  source.get_layer("shared").get_weights()[0])
    with pytest.raises(ValueError, match="by_name"):
        target.load_weights(_weights_file(source, tmp_path), by_name=True)


def _weights_file(model, tmp_path):
    path = tmp_path / "k3.weights.h5"
    model.save_weights(path)
    return path


def test_load_weights_from_a_keras_file(tmp_path):
    x, _ = _data()
    model = _sequential()
    other = _sequential()
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(2.0)
    other.load_weights(_saved(model, tmp_path, "keras"))
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_json_round_trip_and_get_config(tmp_path):
    model = _functional()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Functional"
    clone = model_from_json(text)
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    seq = _sequential()
    again = models.Sequential.from_config(seq.get_config())
    assert again.get_config() == seq.get_config()


def test_conv_recurrent_and_normalization_models_round_trip(tmp_path):
    torch.manual_seed(3)
    from layerkit.layers.convolutional import Conv2D
    from layerkit.layers.normalization import BatchNormalization
    from layerkit.layers.pooling import MaxPooling2D
    from layerkit.layers.rnn import LSTM, Bidirectional

    conv = models.Sequential([Conv2D(3, 3, activation="relu", input_shape=(8, 8, 2)),
                              BatchNormalization(), MaxPooling2D(),
                              layers.Flatten(), layers.Dense(2)])
    rnn = models.Sequential([Bidirectional(LSTM(3, return_sequences=True),
                                           input_shape=(5, 2)), LSTM(2)])
    rng = np.random.default_rng(3)
    for model, x in ((conv, rng.normal(size=(4, 8, 8, 2))), (rnn, rng.normal(size=(4, 5, 2)))):
        model.compile("adam", "mse")
        model.fit(x, rng.normal(size=(4, 2)), verbose=0)
        for ext in ("keras", "h5"):
            loaded = load_model(_saved(model, tmp_path, ext))
            np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_lambda_with_named_function_round_trips_through_custom_objects(tmp_path):
    def double(t):
        return t * 2

    model = models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Lambda(double)])
    path = _saved(model, tmp_path, "keras")
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(path)
    loaded = load_model(path, custom_objects={"double": double})
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_lambda_bytecode_loads_only_with_safe_mode_off(tmp_path):
    model = models.Sequential([layers.Dense(2, input_shape=(3,)),
                               layers.Lambda(lambda t: t + 1.5)])
    for ext in ("keras", "h5"):
        path = _saved(model, tmp_path, ext)
        with pytest.raises(ValueError, match="safe_mode=False"):
            load_model(path)
        loaded = load_model(path, safe_mode=False)
        x = np.ones((2, 3), dtype="float32")
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
