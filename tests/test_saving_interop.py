"""Files move both ways between layerkit and Keras 3 (torch backend) and predict the same.

Keras 3 builds and saves each architecture (`.keras` and legacy `.h5`); layerkit loads it and
must predict what Keras predicts; layerkit saves it again and Keras 3 must load that file and
predict the same numbers. A hand-written tf.keras 2.x `.h5` covers the configs Keras 3 no
longer reads (`time_major`, `batch_input_shape` on layers, a compiled 'mse' metric).
"""

import json
import warnings

import h5py
import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.saving import load_model

K = keras.layers
RNG = np.random.default_rng(0)


def _seq_core():
    model = keras.Sequential([keras.Input((6,)), K.Dense(5, activation="relu"), K.Dropout(0.3),
                              K.Reshape((5, 1)), K.Flatten(), K.Activation("tanh"),
                              K.Dense(3, activation="softmax")])
    return model, RNG.normal(size=(4, 6))


def _functional_merge():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = K.Dense(4, activation="tanh")
    x = K.Concatenate()([shared(a), shared(b), K.Add()([a, b])])
    y = K.Multiply()([K.Dense(3)(x), K.Dense(3)(x)])
    model = keras.Model([a, b], [K.Dense(1, name="out")(y), K.Dense(2, name="aux")(x)])
    return model, [RNG.normal(size=(4, 4)), RNG.normal(size=(4, 4))]


def _conv():
    model = keras.Sequential([keras.Input((9, 9, 2)), K.Conv2D(4, 3, padding="same"),
                              K.BatchNormalization(), K.Activation("relu"),
                              K.MaxPooling2D(), K.Conv2D(3, 2, strides=2),
                              K.GlobalAveragePooling2D(), K.Dense(2)])
    return model, RNG.normal(size=(3, 9, 9, 2))


def _recurrent():
    inputs = keras.Input((5,), dtype="int32")
    x = K.Embedding(12, 4)(inputs)
    x = K.LSTM(3, return_sequences=True)(x)
    x = K.Bidirectional(K.GRU(2, return_sequences=True))(x)
    x = K.TimeDistributed(K.Dense(2))(x)
    x = K.SimpleRNN(3)(x)
    return keras.Model(inputs, K.Dense(1)(x)), RNG.integers(0, 12, size=(4, 5))


ARCHITECTURES = {"sequential_core": _seq_core, "functional_merge": _functional_merge,
                 "conv_bn": _conv, "recurrent_embedding": _recurrent}


def _keras_predict(model, x):
    return np.asarray(model.predict(x, verbose=0)) if not isinstance(model.outputs, list) or \
        len(model.outputs) == 1 else [np.asarray(p) for p in model.predict(x, verbose=0)]


def _close(ours, theirs):
    ours = ours if isinstance(ours, list) else [ours]
    theirs = theirs if isinstance(theirs, list) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _keras_model(name):
    keras.utils.set_random_seed(1)
    model, x = ARCHITECTURES[name]()
    model.compile(optimizer="adam", loss="mse")
    # perturb batch-norm statistics and biases so that restoring them matters
    for weight in model.weights:
        weight.assign(weight.numpy() + RNG.normal(scale=0.1, size=weight.shape))
    return model, x


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_keras3_files_load_in_layerkit_and_back(tmp_path, name, ext):
    model, x = _keras_model(name)
    expected = _keras_predict(model, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / f"k.{ext}")
    ours = load_model(tmp_path / f"k.{ext}")
    _close(ours.predict(x), expected)
    assert [l.name for l in ours.layers if l.get_weights()] == \
        [l.name for l in model.layers if l.get_weights()]

    ours.save(tmp_path / f"ours.{ext}")
    theirs = keras.saving.load_model(tmp_path / f"ours.{ext}")
    _close(_keras_predict(theirs, x), expected)


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_layerkit_models_load_in_keras3(tmp_path, ext):
    torch.manual_seed(0)
    seq = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                             layers.Dense(2, activation="sigmoid")])
    inputs = layers.Input(shape=(3,))
    func = models.Model(inputs, layers.Dense(2)(layers.Dense(4, activation="elu")(inputs)))
    x = RNG.normal(size=(5, 3)).astype("float32")
    for model in (seq, func):
        model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
        model.save(tmp_path / f"m.{ext}")
        theirs = keras.saving.load_model(tmp_path / f"m.{ext}")
        _close(_keras_predict(theirs, x), model.predict(x))


def test_keras3_optimizer_state_and_compile_config_are_read(tmp_path):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((3,)), K.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mae", metrics=["mse"])
    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert ours.optimizer.iterations == 4
    assert ours.optimizer.learning_rate == pytest.approx(0.01)
    slots = ours.optimizer._slots["momentum"]
    theirs = [v for v in model.optimizer.variables if "momentum" in v.path]
    for mine, keras_slot in zip(slots, theirs):
        np.testing.assert_array_equal(mine.numpy(), keras_slot.numpy())
    result = ours.evaluate(x, y, verbose=0, return_dict=True)
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert result["mse"] == pytest.approx(expected["mse"], rel=1e-5)


# ------------------------------------------------------------------------ tf.keras 2.x
def _tf_keras_file(path, kernel, recurrent, bias, dense_kernel, dense_bias):
    """Writes an .h5 exactly as tf.keras 2.x lays it out (written here: no TensorFlow)."""
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "lstm_input"}},
        {"class_name": "LSTM", "config": {
            "name": "lstm", "trainable": True, "batch_input_shape": [None, 4, 3],
            "dtype": "float32", "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": False, "unroll": False, "time_major": False,
            "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid",
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "recurrent_initializer": {"class_name": "Orthogonal",
                                      "config": {"gain": 1.0, "seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 2}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 1,
            "activation": "linear", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}}]}, "keras_version": "2.6.0", "backend": "tensorflow"}
    training = {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "mse", "dtype": "float32", "fn": "mean_squared_error"}}]],
        "weighted_metrics": None, "loss_weights": None, "optimizer_config": {
            "class_name": "Adam", "config": {
                "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9,
                "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.6.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(training).encode()
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = [b"lstm", b"dense"]
        weights.attrs["backend"] = b"tensorflow"
        weights.attrs["keras_version"] = b"2.6.0"
        names = {"lstm": [("lstm/lstm_cell/kernel:0", kernel),
                          ("lstm/lstm_cell/recurrent_kernel:0", recurrent),
                          ("lstm/lstm_cell/bias:0", bias)],
                 "dense": [("dense/kernel:0", dense_kernel), ("dense/bias:0", dense_bias)]}
        for layer, entries in names.items():
            group = weights.create_group(layer)
            group.attrs["weight_names"] = [n.encode() for n, _ in entries]
            for name, value in entries:
                group.create_dataset(name, data=value)
        opt = f.create_group("optimizer_weights")
        opt.attrs["weight_names"] = [b"Adam/iter:0"]
        opt.create_dataset("Adam/iter:0", data=np.int64(7))


def test_tf_keras_2_h5_with_time_major_and_mse_metric(tmp_path):
    keras.utils.set_random_seed(3)
    reference = keras.Sequential([keras.Input((4, 3)), K.LSTM(2), K.Dense(1)])
    values = [w.numpy() + RNG.normal(scale=0.1, size=w.shape) for w in reference.weights]
    reference.set_weights(values)
    _tf_keras_file(tmp_path / "tf.h5", *values)
    with pytest.warns(UserWarning, match="tf.keras 2.x"):
        ours = load_model(tmp_path / "tf.h5")
    x = RNG.normal(size=(5, 4, 3)).astype("float32")
    _close(ours.predict(x), _keras_predict(reference, x))
    assert ours.metrics_names == ["loss"]  # metrics are named once seen, as in tf.keras
    result = ours.evaluate(x, np.zeros((5, 1)), verbose=0, return_dict=True)
    assert sorted(result) == ["loss", "mse"] and result["loss"] == pytest.approx(result["mse"])
    ours.load_weights(tmp_path / "tf.h5")  # a full-model file also feeds load_weights


def test_loss_and_metric_objects_survive_both_ways(tmp_path):
    from layerkit import losses, metrics

    torch.manual_seed(1)
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("adam", losses.BinaryCrossentropy(from_logits=True),
                  metrics=[metrics.AUC(), "acc"])
    model.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    x, y = RNG.normal(size=(6, 3)), RNG.integers(0, 2, size=(6, 2)).astype("float32")
    ours = load_model(tmp_path / "m.keras")
    assert ours.compiled.loss_fns[0].get_config()["from_logits"] is True
    result = ours.evaluate(x, y, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert result["auc"] == pytest.approx(expected["auc"], rel=1e-4)
