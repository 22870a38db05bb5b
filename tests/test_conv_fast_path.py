"""The convnet fast path (issue 3, W4): channels_last data runs through Conv2D,
MaxPooling2D and Flatten without a layout copy, while weights and outputs keep Keras's
layouts. These tests pin the memory facts the speed rests on (a `.contiguous()` slipped
into a layer would fail them) and the numbers against the Keras 3 oracle; the same-model
training comparison lives in test_layers_convolutional.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.layers.convolutional import Conv2D
from layerkit.layers.pooling import MaxPooling2D

from helpers import randn, to_numpy

ATOL = 1e-5


def _w4_stack():
    """The W4 benchmark convnet, built for 28x28x1 images."""
    model = models.Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.build((None, 28, 28, 1))
    return model


def _intermediates(model, x):
    """Each layer's output for `x`, in order (training mode, gradients on)."""
    outputs = []
    for layer in model.layers:
        x = layer(x, training=True)
        outputs.append(x)
    return outputs


def test_channels_last_activations_are_nhwc_dense_without_copies():
    model = _w4_stack()
    x = torch.from_numpy(randn(4, 28, 28, 1))
    outs = _intermediates(model, x)
    # every image-shaped output is (B, H, W, C) with dense NHWC memory: the torch kernels
    # wrote channels_last data and the layer only relabelled the axes (no permute copy)
    for out in outs[:5]:
        assert out.dim() == 4 and out.is_contiguous(), out.stride()
    assert [tuple(o.shape) for o in outs[:5]] == [
        (4, 26, 26, 32), (4, 13, 13, 32), (4, 11, 11, 64), (4, 5, 5, 64), (4, 3, 3, 64)]
    # Flatten of NHWC memory is a view: same storage as the last conv output
    assert outs[5].data_ptr() == outs[4].data_ptr()
    assert tuple(outs[5].shape) == (4, 576)


def test_flatten_keeps_keras_order_on_the_fast_path():
    x = torch.from_numpy(randn(2, 3, 3, 4))
    out = layers.Flatten()(x)
    np.testing.assert_array_equal(to_numpy(out), randn(2, 3, 3, 4).reshape(2, -1))
    assert out.data_ptr() == x.data_ptr()


def test_kernels_stay_in_keras_layout_and_get_dense_gradients():
    model = _w4_stack()
    x = torch.from_numpy(randn(4, 28, 28, 1))
    model(x, training=True).sum().backward()
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert shapes == [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (3, 3, 64, 64), (64,),
                      (576, 64), (64,), (64, 10), (10,)]
    for layer in model.layers[:5:2]:
        grad = layer.kernel.grad
        # the kernel has Keras's shape but the memory order torch's convolution wants next
        # to channels_last data ((out, kh, kw, in)), so it is read without a copy; the
        # optimizer's foreach math runs on grads shaped and laid out like it
        assert layer.kernel.permute(3, 2, 0, 1).is_contiguous(memory_format=torch.channels_last)
        assert grad.shape == layer.kernel.shape
        assert all(a == b for a, b, n in zip(grad.stride(), layer.kernel.stride(),
                                             layer.kernel.shape) if n > 1)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_pool_stack_matches_keras_forward_and_gradients(padding):
    """Conv2D + MaxPooling2D (both paddings, odd sizes) against Keras 3: outputs and the
    kernel gradient, the quantities the fast path must not move."""
    ours = models.Sequential([Conv2D(3, (3, 2), padding=padding, activation="relu",
                                     input_shape=(7, 6, 2)),
                              MaxPooling2D((2, 2), padding=padding), layers.Flatten()])
    theirs = keras.Sequential([keras.Input((7, 6, 2)),
                               keras.layers.Conv2D(3, (3, 2), padding=padding,
                                                   activation="relu"),
                               keras.layers.MaxPooling2D((2, 2), padding=padding),
                               keras.layers.Flatten()])
    ours.build((None, 7, 6, 2))
    ours.set_weights(theirs.get_weights())
    x = randn(5, 7, 6, 2)
    ours_out = ours(torch.from_numpy(x), training=True)
    theirs_x = torch.from_numpy(x)
    theirs_out = theirs(theirs_x, training=True)
    np.testing.assert_allclose(to_numpy(ours_out), to_numpy(theirs_out), atol=ATOL)
    ours_out.square().sum().backward()
    theirs_out.square().sum().backward()
    ours_kernel = ours.layers[0].kernel
    theirs_kernel = theirs.layers[0].kernel.value
    np.testing.assert_allclose(to_numpy(ours_kernel.grad), to_numpy(theirs_kernel.grad),
                               atol=1e-4, rtol=1e-5)
