"""Real tf-keras 2.x `.h5` files (tests/data/tf_keras, made by tools/make_tf_keras_fixtures.py).

Each file must load with `load_model`, predict what tf-keras predicted, evaluate to the
same loss and metrics under the same names (its compile settings restored), and, where
the model has no Dropout, continue training from the restored optimizer state to the
weights tf-keras reached after one more step.
"""

import os
import warnings

import h5py
import numpy as np
import pytest

from layerkit import layers, models

DATA = os.path.join(os.path.dirname(__file__), "data", "tf_keras")
EXPECTED = np.load(os.path.join(DATA, "expected.npz"), allow_pickle=False)
NAMES = ["imdb_mlp", "boston_mse", "boston_legacy_adam", "mnist_convnet", "embedding_lstm_gru",
         "two_input_functional", "batchnorm"]


def _inputs(name):
    if f"{name}_x0" in EXPECTED:
        return [EXPECTED[f"{name}_x0"], EXPECTED[f"{name}_x1"]]
    return EXPECTED[f"{name}_x"]


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "the optimizer starts fresh" must not happen
        return models.load_model(os.path.join(DATA, f"{name}.h5"))


@pytest.mark.parametrize("name", NAMES)
def test_tf_keras_file_predicts_the_same(name):
    model = _load(name)
    np.testing.assert_allclose(model.predict(_inputs(name), verbose=0),
                               EXPECTED[f"{name}_y"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_tf_keras_compile_settings_are_restored(name):
    model = _load(name)
    logs = model.evaluate(_inputs(name), EXPECTED[f"{name}_t"], batch_size=8, verbose=0,
                          return_dict=True)
    assert list(logs) == EXPECTED[f"{name}_eval_names"].tolist()
    np.testing.assert_allclose(list(logs.values()), EXPECTED[f"{name}_eval"], rtol=0,
                               atol=1e-5)


@pytest.mark.parametrize("name", [n for n in NAMES if f"{n}_after" in EXPECTED])
def test_training_continues_from_the_tf_keras_optimizer_state(name):
    model = _load(name)
    assert model.optimizer.iterations == 3  # 24 samples, batch 8, one epoch
    model.fit(_inputs(name), EXPECTED[f"{name}_t"], batch_size=8, epochs=1, shuffle=False,
              verbose=0)
    np.testing.assert_allclose(model.predict(_inputs(name), verbose=0),
                               EXPECTED[f"{name}_after"], rtol=0, atol=1e-5)


def test_compile_details_of_the_seed_models():
    boston = _load("boston_mse")
    assert type(boston.optimizer).__name__ == "Adam"
    assert boston.compiled.loss_fns[0].name == "mean_squared_error"
    imdb = _load("imdb_mlp")
    assert type(imdb.optimizer).__name__ == "RMSprop"
    assert np.float32(imdb.optimizer.learning_rate) == np.float32(0.001)
    convnet = _load("mnist_convnet")
    assert convnet.optimizer.momentum == pytest.approx(0.9)
    assert np.float32(convnet.optimizer.learning_rate) == np.float32(0.05)


def test_tf_keras_weights_only_file_loads_into_a_layerkit_model():
    model = models.Sequential([layers.Dense(6, input_shape=(5,)), layers.BatchNormalization(),
                               layers.Activation("relu"), layers.Dense(1)])
    model.load_weights(os.path.join(DATA, "bn_weights.h5"))
    np.testing.assert_allclose(model.predict(EXPECTED["batchnorm_x"], verbose=0),
                               EXPECTED["batchnorm_y"], rtol=0, atol=1e-5)


def test_fixture_configs_hold_what_keras3_chokes_on():
    """The fixtures really exercise the tf.keras-only config keys the loaders translate."""
    def attrs(name):
        with h5py.File(os.path.join(DATA, f"{name}.h5"), "r") as handle:
            return handle.attrs["model_config"] + handle.attrs["training_config"]

    rnn = attrs("embedding_lstm_gru")
    assert '"time_major": false' in rnn and '"reset_after": true' in rnn
    assert '"batch_input_shape": [null, 6]' in rnn and '"ragged": false' in rnn
    assert '"class_name": "Custom>RMSprop"' in rnn
    assert '"fn": "mean_squared_error"' in attrs("boston_mse")
    assert '"axis": [1]' in attrs("batchnorm")
    assert '"decay": 0.0' in attrs("boston_legacy_adam")  # tf.keras <= 2.10 optimizer


@pytest.mark.parametrize("edit, reason", [
    (lambda names: names[:1] + ["RMSprop/velocity/nowhere/kernel:0"] + names[2:],
     "names no weight of the model"),
    (lambda names: names[1:] + names[:1], "expected the iteration count"),
])
def test_unmatched_tf_keras_optimizer_state_warns_and_starts_fresh(tmp_path, edit, reason):
    import shutil

    path = str(tmp_path / "imdb.h5")
    shutil.copy(os.path.join(DATA, "imdb_mlp.h5"), path)
    with h5py.File(path, "r+") as handle:
        group = handle["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        new = edit(names)
        for old, name in zip(names, new):
            if name not in group:
                group.move(old, name)
        group.attrs["weight_names"] = np.array([n.encode() for n in new])
    with pytest.warns(UserWarning, match=f"{reason}.*optimizer starts fresh"):
        model = models.load_model(path)
    assert model.optimizer.iterations == 0
    np.testing.assert_allclose(model.predict(EXPECTED["imdb_mlp_x"], verbose=0),
                               EXPECTED["imdb_mlp_y"], rtol=0, atol=1e-5)
