"""Activation layers (LeakyReLU, PReLU, ELU, ReLU, Softmax, ThresholdedReLU): numbers against
hand (ThresholdedReLU, gone from Keras 3, against tf.keras 2.x's formula), masks, tf.keras
2.x default arguments and errors. Numbers against Keras 3, shapes, configs, a training step
and save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers
from layerkit.layers import advanced_activations

from helpers import randn, to_numpy

def test_thresholded_relu_is_tf_keras_formula():
    # tf.keras 2.x keras/layers/advanced_activations.py: inputs * cast(inputs > theta)
    x = np.array([[-1.0, 0.0, 0.5, 0.50001, 2.0]], "float32")
    out = layers.ThresholdedReLU(theta=0.5)(torch.from_numpy(x))
    np.testing.assert_array_equal(to_numpy(out),
                                  np.array([[0.0, 0.0, 0.0, 0.50001, 2.0]], "float32"))
    assert layers.ThresholdedReLU().theta == 1.0


def test_tf_keras_default_arguments():
    # tf.keras 2.x: LeakyReLU(alpha=0.3), ELU(alpha=1.0), ReLU(max_value=None,
    # negative_slope=0, threshold=0), PReLU(alpha_initializer='zeros'), Softmax(axis=-1)
    assert layers.LeakyReLU().alpha == 0.3
    assert layers.LeakyReLU(negative_slope=0.05).alpha == 0.05  # Keras 3's name
    assert layers.ELU().alpha == 1.0
    relu = layers.ReLU()
    assert (relu.max_value, relu.negative_slope, relu.threshold) == (None, 0.0, 0.0)
    prelu = layers.PReLU()
    prelu.build((None, 2))
    assert prelu.get_weights()[0].tolist() == [0.0, 0.0]
    assert layers.Softmax().axis == -1


def test_softmax_mask_matches_keras3():
    x = randn(2, 4)
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    ours = layers.Softmax()(torch.from_numpy(x), mask=torch.from_numpy(mask))
    theirs = keras.layers.Softmax()(x, mask=mask)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=1e-6)
    assert to_numpy(ours)[0, 2] == 0.0


def test_advanced_activations_path_is_the_same_classes():
    for name in ("LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"):
        assert getattr(advanced_activations, name) is getattr(layers, name)


@pytest.mark.parametrize("error", [
    (lambda: layers.LeakyReLU(alpha=-1), "LeakyReLU(alpha=-1)"),
    (lambda: layers.ReLU(max_value=-1), "ReLU(max_value=-1)"),
    (lambda: layers.ReLU(threshold=-0.5), "ReLU(threshold=-0.5)"),
    (lambda: layers.ThresholdedReLU(theta=-1), "ThresholdedReLU(theta=-1)"),
    (lambda: layers.PReLU(shared_axes=[3]).build((None, 2, 2)), "shared_axes"),
], ids=["leaky", "relu_max", "relu_threshold", "thresholded", "prelu_axes"])
def test_errors_name_the_layer_and_argument(error):
    make, text = error
    with pytest.raises(ValueError, match=text.replace("(", r"\(").replace(")", r"\)")):
        make()
