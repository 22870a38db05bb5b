"""fit / evaluate / predict on every kind of array input, and the engine's data semantics
(validation split, weights, batching, steps, epochs, shuffling, seeds), against hand
computations and tf.keras rules."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch

import layerkit
from layerkit import callbacks, layers, models, optimizers
from layerkit.utils.naming import reset_names

N, WIDTH = 20, 4


def _data(n=N, width=WIDTH, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, width)  # float64 on purpose: the float32 copy is what the engine sees
    x[x < 0.4] = 0.0  # sparse-friendly
    y = (x[:, :2].sum(axis=1) > 0.6).astype("float32")
    return x, y


INIT = [np.random.RandomState(1).randn(WIDTH, 3).astype("float32") * 0.5,
        np.random.RandomState(2).randn(3).astype("float32") * 0.1,
        np.random.RandomState(3).randn(3, 1).astype("float32") * 0.5,
        np.array([0.05], "float32")]


def _classifier(metrics=("acc",), dropout=False):
    stack = [layers.Dense(3, activation="tanh", input_shape=(WIDTH,))]
    stack += [layers.Dropout(0.5)] if dropout else []
    model = models.Sequential(stack + [layers.Dense(1, activation="sigmoid")])
    model.set_weights(INIT)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy",
                  metrics=list(metrics))
    return model


def _linear(width=WIDTH, lr=0.1, metrics=None):
    model = models.Sequential([layers.Dense(1, input_shape=(width,))])
    model.set_weights([np.arange(1, width + 1, dtype="float32")[:, None] * 0.1,
                       np.array([0.2], "float32")])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse", metrics=metrics)
    return model


def _run(x, y, **fit_kwargs):
    """predict, evaluate and a 2-epoch unshuffled fit from the same initial weights."""
    model = _classifier()
    pred = model.predict(x, batch_size=8)
    evaluation = model.evaluate(x, y, batch_size=8, verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, **fit_kwargs)
    return pred, evaluation, history.history, model.get_weights()


def _assert_same_run(a, b, atol=1e-6):
    np.testing.assert_allclose(a[0], b[0], atol=atol)
    np.testing.assert_allclose(a[1], b[1], atol=atol)
    assert list(a[2]) == list(b[2])
    for key in a[2]:
        np.testing.assert_allclose(a[2][key], b[2][key], atol=atol)
    for wa, wb in zip(a[3], b[3]):
        np.testing.assert_allclose(wa, wb, atol=atol)


X64, Y = _data()
X32 = X64.astype("float32")
INPUT_KINDS = {
    "float64": lambda: (X64, Y.astype("float64")),
    "lists": lambda: (X64.tolist(), Y.tolist()),
    "pandas": lambda: (pd.DataFrame(X64, columns=list("abcd")), pd.Series(Y)),
    "torch": lambda: (torch.from_numpy(X32), torch.from_numpy(Y)),
    "torch_float64": lambda: (torch.from_numpy(X64), torch.from_numpy(Y).double()),
    "int_labels": lambda: (X32, Y.astype("int64")),
}


@pytest.mark.parametrize("kind", sorted(INPUT_KINDS))
def test_input_kinds_give_the_float32_numpy_results(kind):
    baseline = _run(X32, Y)
    assert baseline[0].dtype == np.float32 and baseline[0].shape == (N, 1)
    x, y = INPUT_KINDS[kind]()
    _assert_same_run(_run(x, y), baseline, atol=0)


def test_scipy_sparse_x_matches_dense():
    dense = _run(X32, Y)
    sparse = _run(scipy.sparse.csr_matrix(X64), Y)
    _assert_same_run(sparse, dense, atol=1e-5)
    # shuffled: both draw the same torch.randperm
    runs = []
    for x in (X32, scipy.sparse.csr_matrix(X32)):
        model = _classifier()
        torch.manual_seed(4)
        runs.append(model.fit(x, Y, batch_size=8, epochs=2, verbose=0).history["loss"])
    np.testing.assert_allclose(runs[0], runs[1], atol=1e-5)


# ------------------------------------------------------------------------ validation
def test_validation_split_takes_the_last_fraction_before_shuffling():
    model = _classifier()
    torch.manual_seed(5)
    history = model.fit(X32, Y, batch_size=4, epochs=1, validation_split=0.25, verbose=0)
    split_at = 15  # floor(20 * 0.75)
    twin = _classifier()
    torch.manual_seed(5)
    twin_history = twin.fit(X32[:split_at], Y[:split_at], batch_size=4, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"], twin_history.history["loss"], atol=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    val_loss, val_acc = model.evaluate(X32[split_at:], Y[split_at:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"], [val_loss], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_acc"], [val_acc], rtol=1e-6)
    assert history.params["steps"] == 4  # ceil(15 / 4)


def test_validation_data_with_sample_weights():
    xv, yv = _data(10, seed=7)
    wv = np.linspace(0.0, 2.0, 10)
    model = _classifier()
    history = model.fit(X32, Y, batch_size=8, epochs=1, verbose=0,
                        validation_data=(xv, yv, wv))
    weighted = model.evaluate(xv, yv, sample_weight=wv, verbose=0)
    unweighted = model.evaluate(xv, yv, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"], [weighted[0]], rtol=1e-6)
    assert abs(weighted[0] - unweighted[0]) > 1e-3
    # 'acc' is a plain metric: not sample-weighted (tf.keras compile(metrics=...))
    np.testing.assert_allclose(history.history["val_acc"], [unweighted[1]], rtol=1e-6)


def test_class_weight_equals_the_matching_sample_weight():
    class_weight = {0: 1.0, 1: 3.0}
    a = _classifier()
    ha = a.fit(X32, Y, batch_size=8, epochs=2, shuffle=False, verbose=0,
               class_weight=class_weight)
    b = _classifier()
    hb = b.fit(X32, Y, batch_size=8, epochs=2, shuffle=False, verbose=0,
               sample_weight=np.where(Y == 1, 3.0, 1.0))
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], atol=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c = _classifier()
    hc = c.fit(X32, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert abs(hc.history["loss"][0] - ha.history["loss"][0]) > 1e-3


def test_class_weight_does_not_weight_the_validation_split():
    model = _classifier()
    history = model.fit(X32, Y, batch_size=8, epochs=1, verbose=0, validation_split=0.25,
                        class_weight={0: 1.0, 1: 5.0})
    val_loss = model.evaluate(X32[15:], Y[15:], verbose=0)[0]
    np.testing.assert_allclose(history.history["val_loss"], [val_loss], rtol=1e-6)


def _per_sample_mse(model, x, y):
    return ((model.predict(x) - y.reshape(-1, 1)) ** 2).mean(axis=1)


@pytest.mark.parametrize("batch_size", [20, 8])
def test_zero_sample_weights_use_sum_over_batch_size(batch_size):
    x, y = X32, X32.sum(axis=1) - 1.0
    model = _linear()
    per_sample = _per_sample_mse(model, x, y)
    weights = np.tile([1.0, 0.0], N // 2)
    weighted = model.evaluate(x, y, sample_weight=weights, batch_size=batch_size, verbose=0)
    # Keras: sum(l * w) / number of samples, not / sum(w)
    np.testing.assert_allclose(weighted, (per_sample * weights).sum() / N, rtol=1e-5)
    np.testing.assert_allclose(weighted, 0.5 * per_sample[::2].mean(), rtol=1e-5)
    scaled = model.evaluate(x, y, sample_weight=np.full(N, 2.5), batch_size=batch_size,
                            verbose=0)
    np.testing.assert_allclose(scaled, 2.5 * per_sample.mean(), rtol=1e-5)


# ------------------------------------------------------------------------ return values
def test_evaluate_return_forms():
    x, y = X32, X32.sum(axis=1)
    plain = _linear()
    loss = plain.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, _per_sample_mse(plain, x, y).mean(), rtol=1e-6)
    with_metrics = _linear(metrics=["mae"])
    result = with_metrics.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    mae = np.abs(with_metrics.predict(x)[:, 0] - y).mean()
    np.testing.assert_allclose(result, [loss, mae], rtol=1e-6)
    as_dict = with_metrics.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["loss", "mae"]
    np.testing.assert_allclose([as_dict["loss"], as_dict["mae"]], result, rtol=1e-7)
    assert with_metrics.metrics_names == ["loss", "mae"]


def test_predict_batching_equals_one_shot():
    model = _classifier()
    one_shot = model.predict(X32, batch_size=N)
    np.testing.assert_allclose(model.predict(X32, batch_size=7), one_shot, atol=1e-7)
    np.testing.assert_allclose(model.predict(X32), one_shot, atol=1e-7)
    np.testing.assert_allclose(model.predict(X32, batch_size=7, steps=2), one_shot[:14],
                               atol=1e-7)
    np.testing.assert_allclose(model.predict_on_batch(X32), one_shot, atol=1e-7)
    w1, b1, w2, b2 = INIT
    hand = 1 / (1 + np.exp(-(np.tanh(X32 @ w1 + b1) @ w2 + b2)))
    np.testing.assert_allclose(one_shot, hand, atol=1e-6)


def test_on_batch_methods_against_hand_computation():
    x, y = X32[:6], X32[:6].sum(axis=1) + 0.5
    model = _linear(lr=0.1, metrics=["mae"])
    kernel, bias = model.get_weights()
    residual = x @ kernel + bias - y[:, None]  # (6, 1)
    mse, mae = float((residual ** 2).mean()), float(np.abs(residual).mean())
    np.testing.assert_allclose(model.predict_on_batch(x), x @ kernel + bias, rtol=1e-6)
    np.testing.assert_allclose(model.test_on_batch(x, y), [mse, mae], rtol=1e-6)
    # the loss of the step is computed before the update
    logs = model.train_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose([logs["loss"], logs["mae"]], [mse, mae], rtol=1e-6)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - 0.1 * 2 / 6 * x.T @ residual, rtol=1e-5)
    np.testing.assert_allclose(new_bias, bias - 0.1 * 2 / 6 * residual.sum(0), rtol=1e-5)
    # reset_metrics=False accumulates a sample-weighted running mean
    first = model.test_on_batch(x[:2], y[:2])[0]
    second = model.test_on_batch(x[2:], y[2:])[0]
    model.test_on_batch(x[:2], y[:2])
    running = model.test_on_batch(x[2:], y[2:], reset_metrics=False)[0]
    np.testing.assert_allclose(running, (2 * first + 4 * second) / 6, rtol=1e-6)


# ------------------------------------------------------------------------ loop controls
class _CountBatches(callbacks.Callback):
    def __init__(self, stop_at=None):
        super().__init__()
        self.batches, self.stop_at = [], stop_at

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)
        if self.stop_at is not None and len(self.batches) == self.stop_at:
            self.model.stop_training = True


def test_steps_per_epoch_continues_through_the_data():
    counter = _CountBatches()
    a = _classifier()
    history = a.fit(X32, Y, batch_size=5, epochs=2, steps_per_epoch=2, shuffle=False,
                    verbose=0, callbacks=[counter])
    assert counter.batches == [0, 1, 0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 2}
    b = _classifier()  # the same 4 consecutive batches in one epoch
    b.fit(X32, Y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-7)


def test_initial_epoch():
    history = _classifier().fit(X32, Y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2
    assert _classifier().fit(X32, Y, epochs=2, initial_epoch=2, verbose=0).epoch == []


@pytest.mark.parametrize("freq,validated", [(2, [1, 3]), ([1, 4], [0, 3]), (1, [0, 1, 2, 3])],
                         ids=["every_2", "list", "every"])
def test_validation_freq_records_val_values_only_when_validated(freq, validated):
    xv, yv = _data(10, seed=8)
    seen = []
    model = _classifier()
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, "val_loss" in logs)))
    history = model.fit(X32, Y, epochs=4, batch_size=8, verbose=0, validation_data=(xv, yv),
                        validation_freq=freq, callbacks=[record])
    assert seen == [(e, e in validated) for e in range(4)]
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == len(validated)
    assert len(history.history["val_acc"]) == len(validated)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(xv, yv, verbose=0)[0], rtol=1e-6)


def test_shuffle_uses_torch_randperm():
    torch.manual_seed(11)
    perm = torch.randperm(N).numpy()
    shuffled = _classifier()
    torch.manual_seed(11)
    h1 = shuffled.fit(X32, Y, batch_size=8, epochs=1, verbose=0, shuffle=True)
    ordered = _classifier()
    h2 = ordered.fit(X32[perm], Y[perm], batch_size=8, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], atol=0)
    for wa, wb in zip(shuffled.get_weights(), ordered.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    unshuffled = _classifier()
    unshuffled.fit(X32, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert np.abs(unshuffled.get_weights()[0] - shuffled.get_weights()[0]).max() > 1e-6


def test_stop_training_from_a_batch_callback_stops_after_that_batch():
    counter = _CountBatches(stop_at=2)
    model = _classifier()
    history = model.fit(X32, Y, batch_size=5, epochs=3, shuffle=False, verbose=0,
                        callbacks=[counter])
    assert counter.batches == [0, 1]
    assert history.epoch == [0]
    twin = _classifier()
    twin.fit(X32[:10], Y[:10], batch_size=5, epochs=1, shuffle=False, verbose=0)
    for wa, wb in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_allclose(history.history["loss"],
                               twin.history.history["loss"], atol=0)


def test_set_random_seed_makes_runs_bitwise_identical():
    def run(seed):
        layerkit.set_random_seed(seed)
        reset_names()
        model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(WIDTH,)),
                                   layers.Dropout(0.3), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
        history = model.fit(X32, Y, batch_size=4, epochs=2, verbose=0, shuffle=True)
        return history.history, model.get_weights()

    (h1, w1), (h2, w2) = run(123), run(123)
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    h3, w3 = run(124)
    assert h3["loss"] != h1["loss"]
    assert not np.array_equal(w3[0], w1[0])


def _flushed_during_fit(model):
    """Whether a denormal result is flushed to zero while `model` trains."""
    seen = []
    probe = callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: seen.append(
            float(torch.tensor([1e-38]) / 100.0) == 0.0))
    model.fit(np.zeros((4, 3, 2), "float32"), np.zeros(4, "float32"), epochs=1, verbose=0,
              callbacks=[probe])
    return seen[0]


@pytest.mark.parametrize("policy, recurrent, expected", [
    ("auto", True, True), ("auto", False, False), (True, False, True), (False, True, False),
])
def test_flush_to_zero_policy(policy, recurrent, expected):
    from layerkit import config

    first = layers.SimpleRNN(2, input_shape=(3, 2)) if recurrent else \
        layers.Flatten(input_shape=(3, 2))
    model = models.Sequential([first, layers.Dense(1)])
    model.compile("sgd", "mse")
    config.set_flush_denormal(policy)
    try:
        assert _flushed_during_fit(model) is expected
    finally:
        config.set_flush_denormal("auto")
    assert float(torch.tensor([1e-38]) / 100.0) != 0.0  # restored after fit
    with pytest.raises(ValueError, match="expected True, False or 'auto'"):
        config.set_flush_denormal("sometimes")
