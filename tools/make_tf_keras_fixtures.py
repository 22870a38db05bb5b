"""Writes the tf-keras 2.x `.h5` fixtures of tests/test_saving_tf_keras.py (run by hand only).

TensorFlow is too heavy for the test environment, so the files are made once and committed
with the inputs and the predictions they must give:

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python tools/make_tf_keras_fixtures.py

Each model is a tiny version of a seed-script model, compiled as the seed compiles it,
trained one epoch on fixed random data (so optimizer state and BatchNormalization moving
statistics are not at their initial values), saved with `model.save('<name>.h5')`
(tf.keras 2.x HDF5), then evaluated and predicted on 8 fixed samples and, for models
without Dropout, trained one more step on them (`train_on_batch`) and predicted again.
`expected.npz` (np.savez, numeric and unicode arrays only: no pickle) holds per model
`<name>_x` (or `<name>_x0`, `<name>_x1`), the targets `<name>_t`, the predictions
`<name>_y`, `evaluate`'s values `<name>_eval` named by `<name>_eval_names`, and the
predictions after the extra step `<name>_after`. `bn_weights.h5` is a `save_weights` file
(weights only) of the BatchNormalization model.
"""

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

RNG = np.random.default_rng(1234)


def _floats(*shape):
    return RNG.normal(size=shape).astype("float32")


def imdb_mlp():
    """IMDB multi-hot MLP 16-16-1, rmsprop + binary_crossentropy + ['acc']."""
    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(30,)),
                              layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    x = (RNG.random((24, 30)) < 0.3).astype("float32")
    y = RNG.integers(0, 2, size=(24, 1)).astype("float32")
    return model, x, y


def boston_mse():
    """Boston housing regression: loss 'mse', metrics ['mae', 'mse'] (Keras 3 chokes)."""
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(13,)),
                              layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae", "mse"])
    return model, _floats(24, 13), _floats(24, 1)


def boston_legacy_adam():
    """The Boston model compiled as in TensorFlow <= 2.10 (the optimizer's legacy layout)."""
    model, x, y = boston_mse()
    model.compile(optimizer=keras.optimizers.legacy.Adam(learning_rate=0.01), loss="mse",
                  metrics=["mae"])
    return model, x, y


def mnist_convnet():
    """MNIST convnet: Conv2D + MaxPooling2D + Flatten + Dense softmax, SGD with momentum."""
    model = keras.Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D((2, 2)), layers.Flatten(),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    y = keras.utils.to_categorical(RNG.integers(0, 10, size=24), 10).astype("float32")
    return model, _floats(24, 8, 8, 1), y


def embedding_lstm_gru():
    """Embedding + LSTM(return_sequences) + GRU (reset_after default) + Dense sigmoid."""
    model = keras.Sequential([layers.Embedding(20, 4, input_length=6),
                              layers.LSTM(5, return_sequences=True), layers.GRU(3),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    x = RNG.integers(0, 20, size=(24, 6)).astype("float32")
    return model, x, RNG.integers(0, 2, size=(24, 1)).astype("float32")


def two_input_functional():
    """Functional model with two inputs, Concatenate and Dropout."""
    left = keras.Input(shape=(4,), name="left")
    right = keras.Input(shape=(3,), name="right")
    merged = layers.Concatenate()([layers.Dense(5, activation="relu")(left),
                                   layers.Dense(5, activation="tanh")(right)])
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.5)(merged))
    model = keras.Model([left, right], outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    y = RNG.integers(0, 3, size=(24,)).astype("float32")
    return model, [_floats(24, 4), _floats(24, 3)], y


def batchnorm():
    """Dense + BatchNormalization + Activation, SGD + mse."""
    model = keras.Sequential([layers.Dense(6, input_shape=(5,)),
                              layers.BatchNormalization(), layers.Activation("relu"),
                              layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, _floats(24, 5) * 3 + 1, _floats(24, 1)


BUILDERS = {"imdb_mlp": imdb_mlp, "boston_mse": boston_mse,
            "boston_legacy_adam": boston_legacy_adam, "mnist_convnet": mnist_convnet,
            "embedding_lstm_gru": embedding_lstm_gru,
            "two_input_functional": two_input_functional, "batchnorm": batchnorm}


def _first(x, n):
    return [part[:n] for part in x] if isinstance(x, list) else x[:n]


def make(out):
    """Trains, saves, evaluates, predicts and steps every fixture model; writes expected.npz."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(0)
    expected = {}
    for name, builder in BUILDERS.items():
        model, x, y = builder()
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        model.save(os.path.join(out, f"{name}.h5"))
        if name == "batchnorm":
            model.save_weights(os.path.join(out, "bn_weights.h5"))
        x8, y8 = _first(x, 8), y[:8]
        for i, part in enumerate(x8 if isinstance(x8, list) else [x8]):
            expected[f"{name}_x{i}" if isinstance(x8, list) else f"{name}_x"] = part
        expected[f"{name}_t"] = y8
        expected[f"{name}_y"] = model.predict(x8, verbose=0)
        expected[f"{name}_eval"] = np.array(model.evaluate(x8, y8, batch_size=8, verbose=0),
                                            dtype="float64", ndmin=1)
        expected[f"{name}_eval_names"] = np.array(model.metrics_names, dtype="U")
        if not any(isinstance(layer, layers.Dropout) for layer in model.layers):
            model.train_on_batch(x8, y8)  # one more step: proves the optimizer state
            expected[f"{name}_after"] = model.predict(x8, verbose=0)
    np.savez(os.path.join(out, "expected.npz"), **expected)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {len(os.listdir(out))} files, {total} bytes, to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "tests", "data", "tf_keras"))
    make(parser.parse_args().out)
