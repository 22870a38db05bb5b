"""Activation layers (LeakyReLU, PReLU, ELU, ReLU, Softmax, ThresholdedReLU): numbers against
the Keras 3 oracle (ThresholdedReLU, gone from Keras 3, against tf.keras 2.x's formula),
tf.keras 2.x default arguments, shapes, configs, a training step and save/load."""

import keras
import numpy as np
import pytest
import torch

from layerkit import Input, layers, models, optimizers
from layerkit.layers import advanced_activations

from helpers import randn, to_numpy

X = randn(4, 3, 5, scale=3.0)

# id -> (layerkit factory, Keras 3 factory or None, input shape without batch, weights)
CASES = {
    "leaky_default": (lambda: layers.LeakyReLU(),
                      lambda: keras.layers.LeakyReLU(negative_slope=0.3), (3, 5), 0),
    "leaky_alpha": (lambda: layers.LeakyReLU(alpha=0.1),
                    lambda: keras.layers.LeakyReLU(negative_slope=0.1), (3, 5), 0),
    "relu6": (lambda: layers.ReLU(6.), lambda: keras.layers.ReLU(6.), (3, 5), 0),
    "relu_full": (lambda: layers.ReLU(max_value=2.5, negative_slope=0.2, threshold=0.5),
                  lambda: keras.layers.ReLU(max_value=2.5, negative_slope=0.2, threshold=0.5),
                  (3, 5), 0),
    "elu": (lambda: layers.ELU(alpha=0.7), lambda: keras.layers.ELU(alpha=0.7), (3, 5), 0),
    "prelu": (lambda: layers.PReLU(), lambda: keras.layers.PReLU(), (3, 5), 15),
    "prelu_shared": (lambda: layers.PReLU(shared_axes=[1]),
                     lambda: keras.layers.PReLU(shared_axes=[1]), (3, 5), 5),
    "softmax": (lambda: layers.Softmax(), lambda: keras.layers.Softmax(), (3, 5), 0),
    "softmax_axis1": (lambda: layers.Softmax(axis=1), lambda: keras.layers.Softmax(axis=1),
                      (3, 5), 0),
    "softmax_axes": (lambda: layers.Softmax(axis=[1, 2]),
                     lambda: keras.layers.Softmax(axis=[1, 2]), (3, 5), 0),
    "thresholded": (lambda: layers.ThresholdedReLU(theta=0.5), None, (3, 5), 0),
}


def _twin_weights(ours, theirs, shape):
    ours.build((None,) + shape)
    theirs.build((None,) + shape)
    weights = [randn(*w.shape, seed=7) for w in theirs.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][1] is not None])
def test_matches_keras3(case):
    make, make_theirs, shape, _ = CASES[case]
    ours, theirs = make(), make_theirs()
    _twin_weights(ours, theirs, shape)
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(X))), to_numpy(theirs(X)),
                               atol=1e-6, rtol=1e-6)


def test_thresholded_relu_is_tf_keras_formula():
    # tf.keras 2.x keras/layers/advanced_activations.py: inputs * cast(inputs > theta)
    x = np.array([[-1.0, 0.0, 0.5, 0.50001, 2.0]], "float32")
    out = layers.ThresholdedReLU(theta=0.5)(torch.from_numpy(x))
    np.testing.assert_array_equal(to_numpy(out), np.array([[0.0, 0.0, 0.0, 0.50001, 2.0]], "float32"))
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


@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_eager_symbolic_and_weight_counts(case):
    make, _, shape, count = CASES[case]
    layer = make()
    symbolic = layer(Input(shape=shape))
    assert tuple(symbolic.shape) == (None,) + shape
    assert tuple(layer(torch.from_numpy(X)).shape) == X.shape
    assert layer.count_params() == count


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    layer = CASES[case][0]()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


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


def test_prelu_training_step_changes_alpha_and_save_load(tmp_path):
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.LeakyReLU(),
                               layers.ReLU(6.), layers.ELU(), layers.ThresholdedReLU(0.1),
                               layers.Dense(4), layers.PReLU(), layers.Dense(2),
                               layers.Softmax()])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
    x, y = randn(8, 3, seed=1, scale=3.0), randn(8, 2, seed=2)
    before = model.layers[6].get_weights()[0].copy()
    model.train_on_batch(x, y)
    assert np.abs(model.layers[6].get_weights()[0] - before).max() > 0
    for ext in ("h5", "keras"):
        model.save(tmp_path / f"m.{ext}")
        loaded = models.load_model(tmp_path / f"m.{ext}")
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                   atol=1e-6)
