"""Convolution layers (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D)
against the Keras 3 oracle in both data formats, TF 'same' padding pinned by hand, and the
seeds' MNIST convnet trained side by side with Keras. Configs, training steps, save/load:
tests/test_layer_contract.py."""

import types
import warnings

import keras
import numpy as np
import pytest
import torch

from layerkit import config, layers, models, optimizers
from layerkit.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from layerkit.layers.pooling import MaxPooling2D

from helpers import randn, shape_for, to_numpy

ATOL = 1e-5
OURS = {c.__name__: c for c in (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D,
                                 SeparableConv2D)}

# id -> (class, kwargs, channels_last input shape without batch)
CASES = {
    "conv1d_valid": ("Conv1D", dict(filters=3, kernel_size=3), (9, 4)),
    "conv1d_same_stride3_k4": ("Conv1D", dict(filters=3, kernel_size=4, strides=3,
                                              padding="same"), (8, 4)),
    "conv1d_causal_dilated": ("Conv1D", dict(filters=2, kernel_size=3, padding="causal",
                                             dilation_rate=2), (9, 3)),
    "conv1d_causal_stride2": ("Conv1D", dict(filters=2, kernel_size=3, strides=2,
                                             padding="causal"), (9, 3)),
    "conv1d_groups_relu": ("Conv1D", dict(filters=4, kernel_size=2, groups=2,
                                          activation="relu"), (6, 4)),
    "conv2d_valid_relu": ("Conv2D", dict(filters=4, kernel_size=(3, 3),
                                         activation="relu"), (7, 6, 3)),
    "conv2d_same_even_kernel_stride2": ("Conv2D", dict(filters=3, kernel_size=(2, 4),
                                                       strides=2, padding="same"), (7, 6, 3)),
    "conv2d_same_dilated_groups": ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2,
                                                  groups=2, padding="same"), (7, 6, 4)),
    "conv2d_no_bias_strided_valid": ("Conv2D", dict(filters=2, kernel_size=(3, 2),
                                                    strides=(2, 3), use_bias=False), (8, 7, 2)),
    "transpose_same_s2_k3": ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2,
                                                     padding="same"), (4, 5, 2)),
    "transpose_valid_s3_k2": ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 4),
                                                      strides=(3, 2)), (4, 3, 2)),
    "transpose_same_output_padding": ("Conv2DTranspose", dict(
        filters=2, kernel_size=3, strides=2, padding="same", output_padding=1), (3, 4, 2)),
    "transpose_valid_output_padding": ("Conv2DTranspose", dict(
        filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 2)), (3, 4, 2)),
    "transpose_dilated_same": ("Conv2DTranspose", dict(filters=2, kernel_size=3,
                                                       dilation_rate=2, padding="same"),
                               (5, 4, 2)),
    "depthwise_valid": ("DepthwiseConv2D", dict(kernel_size=3), (6, 5, 3)),
    "depthwise_same_multiplier2_stride2": ("DepthwiseConv2D", dict(
        kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same"), (7, 6, 3)),
    "separable_valid": ("SeparableConv2D", dict(filters=4, kernel_size=3), (6, 5, 3)),
    "separable_same_multiplier2_stride2": ("SeparableConv2D", dict(
        filters=5, kernel_size=3, depth_multiplier=2, strides=2, padding="same",
        activation="tanh"), (7, 6, 3)),
}
FORMATS = ["channels_last", "channels_first"]


@pytest.fixture
def restore_data_format():
    saved = config.image_data_format()
    yield
    config.set_image_data_format(saved)
    keras.config.set_image_data_format(saved)


def _twins(case, data_format):
    """The layer in layerkit and Keras, built, with the same random (nonzero-bias) weights."""
    name, kwargs, shape = CASES[case]
    shape = shape_for(shape, data_format)
    ours = OURS[name](data_format=data_format, **kwargs)
    theirs = getattr(keras.layers, name)(data_format=data_format, **kwargs)
    ours.build((None,) + shape)
    theirs.build((None,) + shape)
    weights = [randn(*w.shape, seed=i + 1) * 0.5 for i, w in enumerate(theirs.get_weights())]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs, shape


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_output_matches_keras(case, data_format):
    ours, theirs, shape = _twins(case, data_format)
    x = randn(2, *shape, seed=9)
    out = ours(torch.from_numpy(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's torch conv-transpose consistency warning
        expected = to_numpy(theirs(x))
    np.testing.assert_allclose(to_numpy(out), expected, atol=ATOL)
    assert ours.compute_output_shape((None,) + shape) == (None,) + tuple(out.shape[1:])
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]


# ------------------------------------------------------------------ TF 'same' by hand
def _ones_conv1d(kernel_size, **kwargs):
    layer = Conv1D(1, kernel_size, kernel_initializer="ones", use_bias=False, **kwargs)
    x = torch.arange(1.0, 6.0).reshape(1, 5, 1)  # [1, 2, 3, 4, 5]
    return to_numpy(layer(x))[0, :, 0].tolist()


def test_same_padding_puts_the_extra_zero_at_the_end():
    # k=2: total pad 1 goes after: windows [1,2] [2,3] [3,4] [4,5] [5,0]
    assert _ones_conv1d(2, padding="same") == [3, 5, 7, 9, 5]
    # k=2, stride 2: ceil(5/2)=3 outputs, total pad max(0, 2*2+2-5)=1 after
    assert _ones_conv1d(2, strides=2, padding="same") == [3, 7, 5]
    # k=4, stride 1: total 3 -> 1 before, 2 after
    assert _ones_conv1d(4, padding="same") == [6, 10, 14, 12, 9]
    # causal k=3: two zeros before
    assert _ones_conv1d(3, padding="causal") == [1, 3, 6, 9, 12]


def test_conv2d_same_asymmetric_padding_by_hand():
    layer = Conv2D(1, 2, strides=2, padding="same", kernel_initializer="ones", use_bias=False)
    x = torch.arange(9.0).reshape(1, 3, 3, 1)  # rows [0 1 2] [3 4 5] [6 7 8]
    out = to_numpy(layer(x))[0, :, :, 0]
    # windows rows {0,1},{2,pad} x cols {0,1},{2,pad}
    np.testing.assert_array_equal(out, [[0 + 1 + 3 + 4, 2 + 5], [6 + 7, 8]])


TRANSPOSE_GEOMETRIES = [(1, 3, None), (1, 3, 2), (2, 2, None), (2, 2, 1), (3, 2, None),
                        (3, 2, 1), (4, 3, None), (4, 3, 1), (5, 1, None)]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel,stride,output_padding", TRANSPOSE_GEOMETRIES,
                         ids=[f"k{k}s{s}op{p}" for k, s, p in TRANSPOSE_GEOMETRIES])
def test_conv2d_transpose_is_the_gradient_of_conv2d(kernel, stride, output_padding, padding):
    transpose = Conv2DTranspose(2, kernel, strides=stride, padding=padding,
                                output_padding=output_padding, use_bias=False)
    y = torch.from_numpy(randn(1, 3, 4, 3))
    out = transpose(y)
    # the forward conv maps `out`'s shape (2 channels) back to y's shape (3 channels)
    conv = Conv2D(3, kernel, strides=stride, padding=padding, use_bias=False)
    conv.build((None,) + tuple(out.shape[1:]))
    conv.set_weights([transpose.get_weights()[0]])  # (k, k, 2, 3) in both layouts
    x = torch.zeros(out.shape, requires_grad=True)
    z = conv(x)
    assert z.shape == y.shape
    (grad,) = torch.autograd.grad((z * y).sum(), x)
    np.testing.assert_allclose(to_numpy(out), to_numpy(grad), atol=ATOL)


def test_unknown_lengths_stay_unknown():
    assert Conv1D(8, 5, strides=2).compute_output_shape((None, None, 3)) == (None, None, 8)
    layer = Conv2DTranspose(4, 3, strides=2, padding="same")
    assert layer.compute_output_shape((None, None, 5, 2)) == (None, None, 10, 4)


def test_channels_last_output_needs_no_copy():
    """The NHWC input goes to torch as a channels_last view and comes back contiguous."""
    layer = Conv2D(8, 3, padding="same")
    out = layer(torch.randn(2, 9, 9, 4))
    assert out.is_contiguous()


# ------------------------------------------------------------------ errors
def test_wrong_input_rank_names_layer_ndim_and_shape():
    layer = Conv2D(4, 3, name="conv_a")
    with pytest.raises(ValueError, match=r"Layer 'conv_a' \(Conv2D\) expected ndim=4 input "
                                         r"\(batch, rows, cols, channels\), received input "
                                         r"of shape \(None, 28, 28\)"):
        layer(torch.zeros(2, 28, 28))
    layer(torch.zeros(2, 5, 5, 1))
    with pytest.raises(ValueError, match=r"conv_a.*expected ndim=4.*\(2, 5, 5\)"):
        layer(torch.zeros(2, 5, 5))


@pytest.mark.parametrize("kwargs,message", [
    (dict(filters=0, kernel_size=3),
     r"Conv2D\(filters=0\): filters must be a positive integer, received 0"),
    (dict(filters=2, kernel_size=(3, 0)), r"Conv2D\(kernel_size=\(3, 0\)\): kernel_size must"),
    (dict(filters=2, kernel_size=(3, 3, 3)), r"kernel_size must be an int or a tuple of 2"),
    (dict(filters=2, kernel_size=3, padding="full"),
     r"Conv2D\(padding='full'\): padding must be one of 'valid', 'same', received 'full'"),
    (dict(filters=2, kernel_size=3, padding="causal"), r"padding must be one of"),
    (dict(filters=2, kernel_size=3, data_format="NHWC"),
     r"Conv2D\(data_format='NHWC'\): data_format must be 'channels_last' or 'channels_first'"),
    (dict(filters=3, kernel_size=3, groups=2), r"filters must be divisible by groups"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2),
     r"strides > 1 cannot be combined with dilation_rate > 1"),
], ids=["filters0", "kernel0", "kernel_rank", "padding", "causal_2d", "data_format",
        "groups", "stride_and_dilation"])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(**kwargs)


def test_bad_layer_specific_arguments():
    with pytest.raises(ValueError, match=r"output_padding entry must be smaller than the "
                                         r"stride"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"DepthwiseConv2D\(depth_multiplier=0\)"):
        DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"groups=2.*input shape \(None, 5, 5, 3\)"):
        Conv2D(4, 3, groups=2).build((None, 5, 5, 3))
    with pytest.raises(ValueError, match=r"too small for kernel_size=\(3,\)"):
        Conv1D(2, 3).build((None, 2, 1))


# ------------------------------------------------------------------ the seeds' MNIST convnet
def _mnist_convnet(ns, input_shape):
    """The seeds' convnet from a namespace of layer classes (layerkit's or keras.layers)."""
    first = dict(input_shape=input_shape) if ns is not keras.layers else {}
    stack = [ns.Conv2D(32, (3, 3), activation="relu", **first), ns.MaxPooling2D((2, 2)),
             ns.Conv2D(64, (3, 3), activation="relu"), ns.MaxPooling2D((2, 2)),
             ns.Conv2D(64, (3, 3), activation="relu"), ns.Flatten(),
             ns.Dense(64, activation="relu"), ns.Dense(10, activation="softmax")]
    if ns is keras.layers:
        return keras.Sequential([keras.Input(input_shape)] + stack)
    return models.Sequential(stack)


# layerkit.layers does not re-export the conv family yet: name the classes explicitly
OUR_LAYERS = types.SimpleNamespace(Conv2D=Conv2D, MaxPooling2D=MaxPooling2D,
                                   Flatten=layers.Flatten, Dense=layers.Dense)


@pytest.mark.parametrize("data_format", FORMATS)
def test_mnist_convnet_matches_keras(data_format, restore_data_format, monkeypatch):
    # Keras 3 never flushes denormals; compare the same arithmetic (8 RMSprop steps
    # amplify a flushed 1e-39 accumulator into a 2e-4 loss difference).
    monkeypatch.setattr(config, "_FLUSH_DENORMAL", False)
    config.set_image_data_format(data_format)
    keras.config.set_image_data_format(data_format)
    shape = (28, 28, 1) if data_format == "channels_last" else (1, 28, 28)
    ours = _mnist_convnet(OUR_LAYERS, shape)
    theirs = _mnist_convnet(keras.layers, shape)
    counts = [layer.count_params() for layer in ours.layers if layer.weights]
    assert counts == [320, 18496, 36928, 36928, 650]
    assert ours.count_params() == theirs.count_params() == 93322
    ours.set_weights(theirs.get_weights())

    rng = np.random.RandomState(0)
    x = rng.rand(64, *shape).astype("float32")
    y = np.eye(10, dtype="float32")[rng.randint(0, 10, 64)]
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-4,
                               atol=1e-6)
    # SGD: a multi-step comparison must not amplify rounding. RMSprop divides tiny
    # gradients by their own running RMS, so the float32 rounding of our channels_last
    # kernels vs Keras's NCHW ones (both exact to 1e-5 per step, see the gradient tests)
    # can flip dead-unit updates and diverge after a few steps.
    ours.compile(optimizers.SGD(learning_rate=0.05), "categorical_crossentropy")
    theirs.compile(keras.optimizers.SGD(learning_rate=0.05), "categorical_crossentropy")
    kw = dict(batch_size=16, epochs=2, shuffle=False, verbose=0)
    losses_ours = ours.fit(x, y, **kw).history["loss"]
    losses_theirs = theirs.fit(x, y, **kw).history["loss"]
    np.testing.assert_allclose(losses_ours, losses_theirs, rtol=1e-4)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-3,
                               atol=1e-5)
