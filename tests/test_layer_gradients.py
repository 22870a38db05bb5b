"""Gradients of a small loss w.r.t. inputs and weights equal Keras 3's (torch backend)."""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers

CASES = {
    "dense": (lambda L: L.Dense(3, activation="tanh"), (4, 5)),
    "conv2d_same_stride2": (lambda L: L.Conv2D(3, (3, 3), strides=2, padding="same"),
                            (2, 6, 7, 2)),
    "conv1d_causal": (lambda L: L.Conv1D(2, 3, padding="causal"), (2, 6, 3)),
    "separable_conv2d": (lambda L: L.SeparableConv2D(2, (3, 3), padding="same"), (2, 5, 5, 2)),
    "conv2d_transpose": (lambda L: L.Conv2DTranspose(2, (3, 3), strides=2), (2, 4, 4, 3)),
    "max_pool_same": (lambda L: L.MaxPooling2D((2, 2), padding="same"), (2, 5, 5, 2)),
    "simple_rnn": (lambda L: L.SimpleRNN(3, return_sequences=True), (2, 5, 4)),
    "lstm": (lambda L: L.LSTM(3), (2, 5, 4)),
    "gru": (lambda L: L.GRU(3, return_sequences=True), (2, 5, 4)),
    "gru_reset_before": (lambda L: L.GRU(3, reset_after=False), (2, 5, 4)),
    "bidirectional_lstm": (lambda L: L.Bidirectional(L.LSTM(2)), (2, 4, 3)),
    "batch_norm_training": (lambda L: L.BatchNormalization(), (6, 4)),
    "layer_norm": (lambda L: L.LayerNormalization(), (3, 5)),
}


def _grads(layer, x, training):
    out = layer(x, training=training) if training else layer(x)
    loss = (out ** 2).sum() + out.sum()
    params = [w.value if hasattr(w, "value") else w for w in layer.trainable_weights]
    return torch.autograd.grad(loss, [x] + params)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_keras(case):
    make, shape = CASES[case]
    training = case == "batch_norm_training"
    theirs, ours = make(keras.layers), make(layers)
    theirs.build(shape)
    ours.build((None,) + shape[1:])
    rng = np.random.RandomState(0)
    ours.set_weights([w + 0.1 * rng.randn(*w.shape).astype("float32")
                      for w in theirs.get_weights()])
    theirs.set_weights(ours.get_weights())
    x = rng.randn(*shape).astype("float32")
    mine = _grads(ours, torch.tensor(x, requires_grad=True), training)
    ref = _grads(theirs, torch.tensor(x, requires_grad=True), training)
    assert len(mine) == len(ref)
    for i, (a, b) in enumerate(zip(mine, ref)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=f"{case}: gradient {i}")
