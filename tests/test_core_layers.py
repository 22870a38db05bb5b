"""Core layers (Dense, Activation, Dropout, Flatten, Reshape, ActivityRegularization, Input)
against the Keras 3 oracle, by hand, and their errors and naming. Shapes, weight counts,
config round trips, a training step and save/load of every layer: tests/test_layer_contract.py."""

import re

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models, optimizers

from helpers import randn, to_numpy

ATOL = 1e-5


# ------------------------------------------------------------------------ Dense vs Keras
ACTIVATIONS = ["linear", "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "softplus",
               "softsign", "swish", "silu", "gelu", "exponential", "hard_sigmoid", "relu6",
               "leaky_relu", "mish", "log_softmax"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_activation_matches_keras(activation):
    x = randn(6, 5)
    ours = layers.Dense(4, activation=activation)
    theirs = keras.layers.Dense(4, activation=activation)
    theirs.build((None, 5))
    ours.build((None, 5))
    ours.set_weights([w + 0.1 for w in theirs.get_weights()])  # nonzero bias too
    theirs.set_weights(ours.get_weights())
    # float32 tolerance: absolute near 0, relative for large values (exponential reaches ~56)
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(x))), to_numpy(theirs(x)),
                               atol=ATOL, rtol=1e-6)


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5), (2, 3, 4, 5)], ids=["2d", "3d", "4d"])
def test_dense_nd_matches_keras(shape, use_bias):
    x = randn(*shape, seed=1)
    ours = layers.Dense(3, activation="relu", use_bias=use_bias)
    theirs = keras.layers.Dense(3, activation="relu", use_bias=use_bias)
    theirs.build((None,) + shape[1:])
    ours.build((None,) + shape[1:])
    weights = [randn(5, 3, seed=2)] + ([randn(3, seed=3)] if use_bias else [])
    ours.set_weights(weights)
    theirs.set_weights(weights)
    out = ours(torch.from_numpy(x))
    np.testing.assert_allclose(to_numpy(out), to_numpy(theirs(x)), atol=ATOL)
    assert tuple(out.shape) == shape[:-1] + (3,)
    assert ours.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (3,)
    # hand computation
    expected = np.maximum(x @ weights[0] + (weights[1] if use_bias else 0), 0)
    np.testing.assert_allclose(to_numpy(out), expected, atol=ATOL)


def test_dense_default_initialisation_is_glorot_uniform_and_zero_bias():
    layer = layers.Dense(200)
    layer.build((None, 300))
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6.0 / (300 + 200))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.01 * limit
    np.testing.assert_array_equal(bias, np.zeros(200, "float32"))


def test_dense_units_error_message():
    with pytest.raises(ValueError) as info:
        layers.Dense(units=-3)
    assert str(info.value) == "Dense(units=-3): units must be a positive integer, received -3"
    for bad in (0, 2.5, True, "4"):
        with pytest.raises(ValueError, match="units must be a positive integer"):
            layers.Dense(bad)


def test_dense_unknown_keyword_names_the_layer():
    with pytest.raises(TypeError, match=r"Dense: unexpected keyword argument\(s\) \['unit'\]"):
        layers.Dense(3, unit=4)


def _csr(dense):
    idx = np.nonzero(dense)
    crow = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.add.at(crow, idx[0] + 1, 1)
    return torch.sparse_csr_tensor(torch.from_numpy(np.cumsum(crow)),
                                   torch.from_numpy(idx[1].astype(np.int64)),
                                   torch.from_numpy(dense[idx]), size=dense.shape)


def test_dense_sparse_csr_input_same_output_and_gradient():
    x = randn(6, 8, seed=4)
    x[np.abs(x) < 0.8] = 0.0  # about half zeros
    layer = layers.Dense(3, activation="sigmoid")
    layer.build((None, 8))
    layer.set_weights([randn(8, 3, seed=5), randn(3, seed=6)])

    dense_out = layer(torch.from_numpy(x))
    dense_out.square().sum().backward()
    dense_grads = [p.grad.clone() for p in (layer.kernel, layer.bias)]
    layer.kernel.grad = layer.bias.grad = None

    sparse_out = layer(_csr(x))
    sparse_out.square().sum().backward()
    np.testing.assert_allclose(to_numpy(sparse_out), to_numpy(dense_out), atol=ATOL)
    for p, g in zip((layer.kernel, layer.bias), dense_grads):
        np.testing.assert_allclose(to_numpy(p.grad), to_numpy(g), atol=ATOL)


# ------------------------------------------------------------------------ weightless layers
@pytest.mark.parametrize("name", ["relu", "softmax", "sigmoid", "tanh", "elu", "gelu"])
def test_activation_layer_matches_keras(name):
    x = randn(4, 3, 5, seed=7)
    np.testing.assert_allclose(to_numpy(layers.Activation(name)(torch.from_numpy(x))),
                               to_numpy(keras.layers.Activation(name)(x)), atol=ATOL)


def test_activation_unknown_name_suggests_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown activation: 'relux'\. Did you mean "
                                         r"'relu'"):
        layers.Activation("relux")


def test_dropout_inference_is_identity_and_training_scales_kept_units():
    x = torch.ones(200, 50)
    layer = layers.Dropout(0.25)
    assert torch.equal(layer(x), x)  # layers start in inference mode, as in Keras
    assert torch.equal(layer(x, training=False), x)
    out = layer(x, training=True).numpy()
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((out == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(to_numpy(keras.layers.Dropout(0.25)(x.numpy())), x.numpy())


def test_dropout_seed_and_noise_shape():
    x = torch.ones(8, 4, 6)
    a = layers.Dropout(0.5, seed=3)(x, training=True)
    b = layers.Dropout(0.5, seed=3)(x, training=True)
    assert torch.equal(a, b)
    shared = layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=1)(x, training=True)
    # one mask per (sample, feature), shared along the time axis
    assert torch.equal(shared, shared[:, :1, :].expand_as(shared))
    assert set(torch.unique(shared).tolist()) == {0.0, 2.0}


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_rate_error(rate):
    with pytest.raises(ValueError, match=r"Dropout\(rate=.*\): rate must be a float in \[0, 1\)"):
        layers.Dropout(rate)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_keras(data_format):
    x = randn(2, 3, 4, 5, seed=8)
    ours = layers.Flatten(data_format=data_format)(torch.from_numpy(x))
    theirs = keras.layers.Flatten(data_format=data_format)(x)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=0)
    assert tuple(ours.shape) == (2, 60)


def test_flatten_channels_first_order_is_channels_last():
    x = np.arange(2 * 2 * 3, dtype="float32").reshape(1, 2, 2, 3)  # (B, C, H, W)
    out = to_numpy(layers.Flatten(data_format="channels_first")(torch.from_numpy(x)))
    np.testing.assert_array_equal(out[0], x[0].transpose(1, 2, 0).reshape(-1))
    assert out[0, :4].tolist() == [0.0, 6.0, 1.0, 7.0]


def test_flatten_bad_data_format():
    with pytest.raises(ValueError, match="expected 'channels_last' or 'channels_first'"):
        layers.Flatten(data_format="nhwc")


@pytest.mark.parametrize("target", [(6, 2), (-1, 3), (2, -1, 2), (12,)])
def test_reshape_matches_keras(target):
    x = randn(3, 4, 3, seed=9)
    ours = layers.Reshape(target)
    out = ours(torch.from_numpy(x))
    np.testing.assert_allclose(to_numpy(out), to_numpy(keras.layers.Reshape(target)(x)), atol=0)
    assert ours.compute_output_shape((None, 4, 3)) == (None,) + tuple(out.shape[1:])
    assert keras.layers.Reshape(target).compute_output_shape((None, 4, 3)) == \
        ours.compute_output_shape((None, 4, 3))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"Reshape\(target_shape=\(-1, -1\)\): entries must be "
                                         r"positive, with at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"entries must be positive"):
        layers.Reshape((0, 3))
    layer = layers.Reshape((5, 2), name="r")
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'r' (Reshape): cannot reshape input of shape (None, 3, 4) (12 values per "
            "sample) to (5, 2)")):
        layer.compute_output_shape((None, 3, 4))
    with pytest.raises(ValueError, match=r"cannot reshape input of shape \(None, 7\) \(7 values "
                                         r"per sample\) to \(-1, 2\)"):
        layers.Reshape((-1, 2)).compute_output_shape((None, 7))
    with pytest.raises(RuntimeError, match=r"Layer 'r' \(Reshape\) failed on input of shape "
                                           r"\(None, 3, 4\)"):
        layer(torch.zeros(2, 3, 4))


@pytest.mark.parametrize("l1,l2", [(0.01, 0.0), (0.0, 0.02), (0.03, 0.005)])
def test_activity_regularization_loss_hand_computed_and_keras(l1, l2):
    x = randn(4, 6, seed=10)
    layer = layers.ActivityRegularization(l1=l1, l2=l2)
    out = layer(torch.from_numpy(x), training=True)
    np.testing.assert_array_equal(to_numpy(out), x)  # identity
    expected = (l1 * np.abs(x).sum() + l2 * np.square(x).sum()) / 4
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    theirs = keras.layers.ActivityRegularization(l1=l1, l2=l2)
    theirs(x)
    np.testing.assert_allclose(float(to_numpy(theirs.losses[0])), expected, rtol=1e-6)


def test_activity_regularization_adds_to_training_loss():
    x = randn(8, 3, seed=11)
    y = randn(8, 2, seed=12)
    model = models.Sequential([layers.Dense(2, input_shape=(3,)),
                               layers.ActivityRegularization(l1=0.1, l2=0.2)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    pred = model.predict(x)
    mse = np.mean((pred - y) ** 2)
    penalty = (0.1 * np.abs(pred).sum() + 0.2 * np.square(pred).sum()) / 8
    np.testing.assert_allclose(model.train_on_batch(x, y), mse + penalty, rtol=1e-5)


def test_activity_regularization_negative_factor_error():
    with pytest.raises(ValueError, match=r"ActivityRegularization\(l1=-1, l2=0.0\): factors "
                                         r"must be >= 0"):
        layers.ActivityRegularization(l1=-1)


# ------------------------------------------------------------------------ Input / naming
def test_input_names_are_one_based_like_tf_keras():
    a, b = layers.Input(shape=(3,)), layers.Input(shape=(4, 2), dtype="int32")
    assert (a.name, b.name) == ("input_1", "input_2")
    assert a.shape == (None, 3)
    assert b.shape == (None, 4, 2) and b.dtype == "int32"
    assert layers.Input(batch_shape=(5, 7)).shape == (5, 7)
    assert layers.InputLayer(input_shape=(2,)).name == "input_4"


def test_input_layer_is_identity_and_needs_a_shape():
    layer = layers.InputLayer(input_shape=(3,))
    x = torch.randn(2, 3)
    assert torch.equal(layer(x), x)
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    assert layer.count_params() == 0
    with pytest.raises(ValueError, match=r"InputLayer: give the input's shape, e\.g\. "
                                         r"Input\(shape=\(784,\)\)"):
        layers.InputLayer()


def test_layer_auto_names_follow_keras_counters():
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Flatten().name,
             layers.Dense(1).name, layers.ActivityRegularization().name,
             layers.Dropout(0.1).name]
    assert names == ["dense", "dense_1", "flatten", "dense_2", "activity_regularization",
                     "dropout"]
    assert layers.Dense(1, name="head").name == "head"
    with pytest.raises(ValueError, match=r"name must be a non-empty string without '\.', "
                                         r"received 'a\.b'"):
        layers.Dense(1, name="a.b")


# ------------------------------------------------------------------------ build
def test_build_then_call_keeps_the_weights():
    layer = layers.Dense(2)
    layer.build((None, 3))
    assert layer.built
    kernel = layer.kernel
    layer(torch.zeros(1, 3))
    assert layer.kernel is kernel
    assert layer.count_params() == 8
    assert len(layer.get_weights()) == 2


class _PlainLayer(layers.Layer):
    """A user layer whose build() does not call super().build() (common in user code)."""

    def build(self, input_shape):
        self.add_weight("w", (input_shape[-1], 2))

    def call(self, inputs):
        return inputs @ self.w


def test_user_layer_build_called_directly_is_not_rebuilt():
    layer = _PlainLayer()
    layer.build((None, 3))
    layer(torch.zeros(1, 3))
    assert layer.count_params() == 6
    assert len(layer.get_weights()) == 1


def test_config_values_dense():
    config = layers.Dense(3, activation="swish", use_bias=False, name="d").get_config()
    assert config["units"] == 3
    assert config["activation"] == "silu"
    assert config["use_bias"] is False
    assert config["name"] == "d" and config["trainable"] is True
    assert config["dtype"] == "float32"
