"""`compile(jit_compile=True)` computes the numbers eager computes.

`fit` runs the captured train step (tests/test_captured_step.py; the masked LSTM cases
fall back to the eager step with a warning: their mask handling branches on data); the
forward of `evaluate` and `predict` runs through `torch.compile`: the logits of a sigmoid/softmax output and the
mask of a masked sequence cross that boundary as returned values
(`layerkit.graph.tensor_info`); were they lost, crossentropy would silently clip and
masked steps would count. (Before, a masked model failed under jit_compile: a Dense after
an LSTM was passed `mask=`.) Each case trains twins from the same weights, one eager and one compiled, and
compares the loss curves, `evaluate` and a hand or Keras 3 value.
"""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.graph import tensor_info

RNG = np.random.RandomState(7)
N, WIDTH = 24, 3


def _x(scale):
    return (RNG.randn(N, WIDTH) * scale).astype("float32")


def _dense_case(units, activation, loss, scale):
    x = _x(scale)
    if loss == "binary_crossentropy":
        y = (RNG.rand(N, 1) > 0.5).astype("float32")
    elif loss == "categorical_crossentropy":
        y = np.eye(units, dtype="float32")[RNG.randint(0, units, N)]
    else:
        y = RNG.randint(0, units, N).astype("int64")
    build = lambda: models.Sequential(  # noqa: E731
        [layers.Dense(units, activation=activation, input_shape=(WIDTH,))])
    return build, x, y


def _twins(build, loss, metrics=()):
    eager, jit = build(), build()
    jit.set_weights(eager.get_weights())
    eager.compile("sgd", loss, metrics=list(metrics))
    jit.compile("sgd", loss, metrics=list(metrics), jit_compile=True)
    return eager, jit


def _exact_loss(model, x, y, loss):
    """The loss from the logits, in float64 (what Keras 3's TensorFlow backend computes)."""
    kernel, bias = model.get_weights()
    z = x.astype("float64") @ kernel + bias
    if loss == "binary_crossentropy":
        return float(np.mean(np.logaddexp(0, z) - y * z))
    log_p = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    if loss == "categorical_crossentropy":
        return float(np.mean(-(y * log_p).sum(1)))
    return float(np.mean(-log_p[np.arange(len(y)), y]))


LOSSES = [(1, "sigmoid", "binary_crossentropy"), (4, "softmax", "categorical_crossentropy"),
          (4, "softmax", "sparse_categorical_crossentropy")]


@pytest.mark.parametrize("units,activation,loss", LOSSES, ids=[c[2] for c in LOSSES])
def test_saturated_outputs_give_the_exact_loss_eager_and_compiled(units, activation, loss):
    # Logits of size ~100: a probability within 1e-7 of 0 or 1, where clipping would cap
    # a wrong prediction's loss at -log(1e-7) = 16.1.
    build, x, y = _dense_case(units, activation, loss, scale=80.0)
    eager, jit = _twins(build, loss, metrics=["crossentropy"])
    expected = _exact_loss(eager, x, y, loss)
    assert expected > 17.0  # the clipped path could not produce it
    got_eager = eager.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    got_jit = jit.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert got_eager["loss"] == pytest.approx(expected, rel=1e-5)
    assert got_jit["loss"] == pytest.approx(expected, rel=1e-5)
    assert got_jit["crossentropy"] == pytest.approx(got_eager["crossentropy"], rel=1e-5)
    history_eager = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    history_jit = jit.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history_jit["loss"], history_eager["loss"], rtol=1e-5)
    for a, b in zip(jit.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("units,activation,loss", LOSSES, ids=[c[2] for c in LOSSES])
def test_compiled_loss_equals_keras3(units, activation, loss):
    # Moderate logits: Keras 3's torch backend (which clips) and the exact path agree.
    build, x, y = _dense_case(units, activation, loss, scale=1.0)
    _, jit = _twins(build, loss)
    theirs = keras.Sequential([keras.Input((WIDTH,)), keras.layers.Dense(units, activation)])
    theirs.set_weights(jit.get_weights())
    theirs.compile("sgd", loss)
    want = theirs.evaluate(x, y, batch_size=8, verbose=0)
    assert jit.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(want, rel=1e-5)


def _masked_sequences():
    ids = RNG.randint(1, 10, size=(N, 5)).astype("int64")
    for row, length in enumerate(RNG.randint(2, 6, size=N)):
        ids[row, length:] = 0  # padding: masked steps
    y = (RNG.rand(N, 5, 1) > 0.5).astype("float32")
    return ids, y


def _masked_stack(lib, name):
    """The same masked sequence model in layerkit (`lib=layers`) or Keras (`keras.layers`)."""
    first = {"embedding_mask_zero_lstm": lambda: lib.Embedding(10, 4, mask_zero=True),
             "masking_lstm": lambda: lib.Masking(mask_value=0.0),
             "masking_time_distributed": lambda: lib.Masking(mask_value=0.0)}[name]()
    if name.endswith("time_distributed"):
        return [first, lib.TimeDistributed(lib.Dense(1, activation="sigmoid"))]
    return [first, lib.LSTM(3, return_sequences=True), lib.Dense(1, activation="sigmoid")]


MASKED = ["embedding_mask_zero_lstm", "masking_lstm", "masking_time_distributed"]


@pytest.mark.parametrize("name", MASKED)
def test_masked_sequence_loss_is_the_same_compiled(name):
    ids, y = _masked_sequences()
    x = ids if name.startswith("embedding") else (ids[..., None] / 10.0).astype("float32")
    eager, jit = _twins(lambda: models.Sequential(_masked_stack(layers, name)),
                        "binary_crossentropy")
    eager(torch.as_tensor(x[:2]))  # build
    jit(torch.as_tensor(x[:2]))
    jit.set_weights(eager.get_weights())
    out = eager(torch.as_tensor(x))
    mask = tensor_info.get_mask(out)
    assert mask is not None and not bool(mask.all())  # the loss sees a mask with holes
    theirs = keras.Sequential([keras.Input(x.shape[1:])] + _masked_stack(keras.layers, name))
    theirs.set_weights(eager.get_weights())
    theirs.compile("sgd", "binary_crossentropy")
    want = theirs.evaluate(x, y, batch_size=8, verbose=0)
    assert eager.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(want, rel=1e-5)
    assert jit.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(want, rel=1e-5)
    history_eager = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    history_jit = jit.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history_jit["loss"], history_eager["loss"], rtol=1e-5)


def test_info_crosses_a_compiled_function_explicitly():
    z = torch.tensor([[40.0], [-3.0]])

    def forward(logits):
        out = torch.sigmoid(logits)
        tensor_info.set_logits(out, logits, "sigmoid")
        tensor_info.set_mask(out, torch.tensor([True, False]))
        return out, tensor_info.info_of(out)

    out, info = torch.compile(forward)(z)
    out = tensor_info.attach(out, info)
    torch.testing.assert_close(tensor_info.get_logits(out, "sigmoid"), z)
    assert tensor_info.get_logits(out, "softmax") is None  # logits only for their activation
    assert tensor_info.get_mask(out).tolist() == [True, False]


def test_a_loss_called_by_hand_agrees_with_evaluate():
    # Keras 3 records `_keras_logits` on model(x) on every backend; its TensorFlow backend
    # (and tf.keras) computes crossentropy from them, its torch backend clips. layerkit
    # follows the former everywhere a model output reaches the loss, so a custom step's
    # `loss_fn(y, model(x))` equals `evaluate`; a `predict` array has no logits and is
    # clipped exactly as Keras 3 clips it.
    from layerkit import losses

    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(1,))])
    model.set_weights([np.array([[1.0]], "float32"), np.array([0.0], "float32")])
    model.compile("sgd", "binary_crossentropy")
    x, y = np.array([[40.0]], "float32"), np.array([[0.0]], "float32")
    by_hand = losses.BinaryCrossentropy()(torch.as_tensor(y), model(torch.as_tensor(x)))
    assert by_hand.item() == pytest.approx(40.0, rel=1e-6)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(by_hand.item(), rel=1e-6)
    probabilities = model.predict(x, verbose=0)
    clipped = losses.binary_crossentropy(y, probabilities)
    want = keras.losses.binary_crossentropy(y, probabilities)
    np.testing.assert_allclose(clipped.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-6)
