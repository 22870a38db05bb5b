"""The seeds' MLP workflows trained in layerkit and in Keras 3 from identical weights.

Same initial weights, same data, same batch order (shuffle=False) ⇒ the same loss curves,
metrics and final weights (float32 tolerance).
"""

import keras
import numpy as np
import pytest

from layerkit import layers, models, optimizers

RTOL = 1e-4


def _data(n, width, task, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, width).astype("float32")
    signal = x[:, : min(5, width)].sum(axis=1)
    if task == "binary":
        y = (signal > np.median(signal)).astype("float32")
    elif task == "categorical":
        y = np.eye(4, dtype="float32")[np.digitize(signal, np.percentile(signal, [25, 50, 75]))]
    elif task == "sparse":
        y = np.digitize(signal, np.percentile(signal, [25, 50, 75])).astype("int64")
    else:
        y = (signal * 3.0 + rng.randn(n) * 0.1).astype("float32")
    return x, y


def _twin(spec, input_dim):
    """The same MLP in layerkit and Keras, with Keras's initial weights copied over.

    Keras draws them from a fixed seed: RMSprop's first steps are ~lr·sign(gradient), so
    a gradient that rounds to either side of zero can move a curve by 1e-4 in 50 steps;
    seeding makes the compared case the same whatever tests ran before."""
    keras.utils.set_random_seed(1234)
    ours = models.Sequential(
        [layers.Dense(u, activation=a, input_shape=(input_dim,)) if i == 0
         else layers.Dense(u, activation=a) for i, (u, a) in enumerate(spec)]
    )
    theirs = keras.Sequential(
        [keras.Input((input_dim,))] + [keras.layers.Dense(u, activation=a) for u, a in spec]
    )
    ours.set_weights(theirs.get_weights())
    return ours, theirs


CASES = {
    # IMDB (seeds 000/003/004): Dense 16-16-1, rmsprop, binary crossentropy, acc
    "imdb_mlp": dict(spec=[(16, "relu"), (16, "relu"), (1, "sigmoid")], width=60,
                     task="binary", loss="binary_crossentropy", metrics=["acc"],
                     opt=("rmsprop", {}), batch=32, n=320),
    # Reuters (003): Dense 64-64-46 softmax, categorical crossentropy (4 classes here)
    "reuters_mlp": dict(spec=[(64, "relu"), (64, "relu"), (4, "softmax")], width=50,
                        task="categorical", loss="categorical_crossentropy",
                        metrics=["accuracy"], opt=("rmsprop", {}), batch=64, n=640),
    # Boston (000/003): Dense 64-64-1, mse, mae, batch_size=1
    "boston_mlp": dict(spec=[(64, "relu"), (64, "relu"), (1, None)], width=13,
                       task="regression", loss="mse", metrics=["mae"],
                       opt=("rmsprop", {}), batch=1, n=50),
    # Fashion-MNIST (002): 300-100-10, SGD(lr=0.01, momentum=0.9, nesterov=True)
    "fashion_mlp": dict(spec=[(30, "relu"), (20, "relu"), (4, "softmax")], width=40,
                        task="sparse", loss="sparse_categorical_crossentropy",
                        metrics=["accuracy"],
                        opt=("SGD", dict(learning_rate=0.01, momentum=0.9, nesterov=True)),
                        batch=32, n=320),
}


def _optimizer(module, name, kwargs):
    if not kwargs:
        return name
    return getattr(module, name)(**kwargs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fifty_steps_match_keras(case):
    c = CASES[case]
    x, y = _data(c["n"], c["width"], c["task"])
    ours, theirs = _twin(c["spec"], c["width"])
    ours.compile(optimizer=_optimizer(optimizers, *c["opt"]), loss=c["loss"],
                 metrics=c["metrics"])
    theirs.compile(optimizer=_optimizer(keras.optimizers, *c["opt"]), loss=c["loss"],
                   metrics=c["metrics"])
    steps_per_epoch = -(-c["n"] // c["batch"])
    epochs = max(1, 50 // steps_per_epoch)
    kw = dict(batch_size=c["batch"], epochs=epochs, shuffle=False, verbose=0,
              validation_split=0.2)
    h_ours = ours.fit(x, y, **kw).history
    h_theirs = theirs.fit(x, y, **kw).history
    assert sorted(h_ours) == sorted(h_theirs)
    for key in h_ours:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=RTOL, atol=1e-6,
                                   err_msg=key)
    for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                               theirs.evaluate(x, y, verbose=0), rtol=1e-4, atol=1e-6)


def test_history_key_order_follows_tf_keras():
    x, y = _data(64, 8, "binary")
    model, _ = _twin([(4, "relu"), (1, "sigmoid")], 8)
    model.compile("rmsprop", "binary_crossentropy", metrics=["acc", "mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "acc", "mae", "val_loss", "val_acc", "val_mae"]
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 2}
    assert history.model is model and model.history is history


def test_regularized_loss_includes_penalty_exactly():
    from layerkit import regularizers

    x, y = _data(40, 5, "regression")
    model = models.Sequential([
        layers.Dense(3, kernel_regularizer=regularizers.l2(0.5), input_shape=(5,)),
        layers.Dense(1),
    ])
    model.compile("sgd", "mse")
    kernel = model.layers[0].get_weights()[0]
    pred = model.predict(x)
    expected = np.mean((pred[:, 0] - y) ** 2) + 0.5 * np.sum(kernel ** 2)  # no 1/2 factor
    assert model.evaluate(x, y, batch_size=40, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_sigmoid_crossentropy_uses_logits_like_tf_keras():
    """tf.keras computes BCE on a sigmoid output from the logits: a saturated wrong
    prediction costs its logit (40), not -log(1e-7) = 16.1 as clipping would give."""
    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(1,))])
    model.set_weights([np.array([[1.0]], "float32"), np.array([0.0], "float32")])
    model.compile("sgd", "binary_crossentropy")
    loss = model.evaluate(np.array([[40.0]]), np.array([0.0]), verbose=0)
    assert loss == pytest.approx(40.0, rel=1e-6)
