"""Pooling layers (Max/Average 1D/2D, Global Max/Average 1D/2D) against the Keras 3 oracle
in both data formats, with TF 'same' semantics pinned by hand where Keras 3.15's torch
backend differs. Configs, training steps, save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

from helpers import randn, shape_for, to_numpy

ATOL = 1e-5
OURS = {c.__name__: c for c in (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                 GlobalAveragePooling2D, GlobalMaxPooling1D,
                                 GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)}
FORMATS = ["channels_last", "channels_first"]

# id -> (class, kwargs, channels_last input shape without batch). Average pooling with
# 'same' here only uses symmetric padding: Keras 3.15 is wrong when it is asymmetric
# (pinned by hand below).
CASES = {
    "max1d_default": ("MaxPooling1D", {}, (7, 3)),
    "max1d_same_k3s2": ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (8, 3)),
    "max1d_stride1_valid": ("MaxPooling1D", dict(pool_size=3, strides=1), (6, 2)),
    "max2d_default": ("MaxPooling2D", {}, (7, 6, 3)),
    "max2d_same_asymmetric": ("MaxPooling2D", dict(pool_size=(3, 2), strides=(2, 1),
                                                   padding="same"), (6, 5, 2)),
    "avg1d_pool2": ("AveragePooling1D", dict(pool_size=2), (7, 3)),
    "avg1d_same_symmetric": ("AveragePooling1D", dict(pool_size=3, strides=2,
                                                      padding="same"), (7, 3)),
    "avg2d_valid_strided": ("AveragePooling2D", dict(pool_size=(3, 2), strides=(2, 3)),
                            (7, 8, 2)),
    "avg2d_same_stride1": ("AveragePooling2D", dict(pool_size=3, strides=1, padding="same"),
                           (5, 4, 2)),
    "avg2d_same_even_stride1": ("AveragePooling2D", dict(pool_size=2, strides=1,
                                                         padding="same"), (5, 4, 2)),
    "global_max1d": ("GlobalMaxPooling1D", {}, (6, 3)),
    "global_max1d_keepdims": ("GlobalMaxPooling1D", dict(keepdims=True), (6, 3)),
    "global_avg1d": ("GlobalAveragePooling1D", {}, (6, 3)),
    "global_max2d": ("GlobalMaxPooling2D", {}, (5, 4, 3)),
    "global_avg2d": ("GlobalAveragePooling2D", {}, (5, 4, 3)),
    "global_avg2d_keepdims": ("GlobalAveragePooling2D", dict(keepdims=True), (5, 4, 3)),
}


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_output_matches_keras(case, data_format):
    name, kwargs, shape = CASES[case]
    shape = shape_for(shape, data_format)
    x = randn(2, *shape)
    ours = OURS[name](data_format=data_format, **kwargs)
    out = ours(torch.from_numpy(x))
    expected = to_numpy(getattr(keras.layers, name)(data_format=data_format, **kwargs)(x))
    np.testing.assert_allclose(to_numpy(out), expected, atol=ATOL)
    assert ours.compute_output_shape((None,) + shape) == (None,) + tuple(out.shape[1:])
    assert ours.count_params() == 0 and ours.weights == []


# ------------------------------------------------------------------ TF 'same' by hand
def _pool1d(layer, values):
    x = torch.tensor(values, dtype=torch.float32).reshape(1, -1, 1)
    return to_numpy(layer(x))[0, :, 0].tolist()


def test_same_max_pooling_ignores_padded_cells():
    assert _pool1d(MaxPooling1D(2, padding="same"), [1, 2, 3, 4, 5]) == [2, 4, 5]
    # all negative: a zero pad would win if padded cells counted
    assert _pool1d(MaxPooling1D(2, padding="same"), [-1, -2, -3, -4, -5]) == [-1, -3, -5]
    assert _pool1d(MaxPooling1D(3, strides=2, padding="same"),
                   [-1, -2, -3, -4, -5, -6]) == [-1, -3, -5]


def test_same_average_pooling_excludes_padded_cells_like_tf():
    """k=3, s=2 over 6 steps: one pad after; TF gives 5.5 for the last window (Keras 3.15's
    torch backend gives 5.667)."""
    assert _pool1d(AveragePooling1D(3, strides=2, padding="same"),
                   [1, 2, 3, 4, 5, 6]) == pytest.approx([2, 4, 5.5])
    assert _pool1d(AveragePooling1D(2, padding="same"), [1, 2, 3, 4, 5]) == [1.5, 3.5, 5]
    layer = AveragePooling2D(2, padding="same")
    x = torch.arange(9.0).reshape(1, 3, 3, 1)  # rows [0 1 2] [3 4 5] [6 7 8]
    np.testing.assert_allclose(to_numpy(layer(x))[0, :, :, 0], [[2, 3.5], [6.5, 8]])


def test_same_pooling_asymmetric_2d_equals_masked_mean():
    x = randn(2, 6, 7, 3, seed=4)
    out = to_numpy(AveragePooling2D(3, strides=2, padding="same")(torch.from_numpy(x)))
    # rows: 6 -> 3 outputs, pad (0, 1); cols: 7 -> 4 outputs, pad (1, 1)
    padded = np.full((2, 7, 9, 3), np.nan, "float32")
    padded[:, 0:6, 1:8] = x
    for i in range(3):
        for j in range(4):
            window = padded[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            np.testing.assert_allclose(out[:, i, j], np.nanmean(window, axis=(1, 2)),
                                       atol=ATOL)


def test_average_pooling_keeps_tf_keras_default_pool_size():
    """tf.keras 2.x defaults pool_size to 2 / (2, 2); Keras 3 made it required."""
    x = torch.arange(8.0).reshape(1, 8, 1)
    assert to_numpy(AveragePooling1D()(x))[0, :, 0].tolist() == [0.5, 2.5, 4.5, 6.5]
    assert AveragePooling2D().pool_size == (2, 2)


def test_strides_default_to_pool_size():
    assert MaxPooling2D((3, 2)).strides == (3, 2)
    assert AveragePooling1D(4).strides == (4,)
    assert MaxPooling2D().get_config()["strides"] == (2, 2)


# ------------------------------------------------------------------ masks
def test_global_average_pooling1d_averages_unmasked_steps_like_keras():
    x = randn(3, 5, 2, seed=5)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 1]], dtype=bool)
    ours = GlobalAveragePooling1D()(torch.from_numpy(x), mask=torch.from_numpy(mask))
    expected = to_numpy(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(to_numpy(ours), expected, atol=ATOL)
    np.testing.assert_allclose(to_numpy(ours)[0], x[0, :2].mean(axis=0), atol=ATOL)
    assert getattr(ours, "_keras_mask", None) is None


# ------------------------------------------------------------------ errors
def test_wrong_input_rank_names_layer_and_shape():
    with pytest.raises(ValueError, match=r"Layer 'pool' \(MaxPooling2D\) expected ndim=4 input "
                                         r"\(batch, rows, cols, channels\), received input "
                                         r"of shape \(None, 8, 8\)"):
        MaxPooling2D(name="pool")(torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D\) expected ndim=3 input "
                                         r"\(batch, steps, channels\)"):
        GlobalAveragePooling1D()(torch.zeros(2, 4, 4, 1))


@pytest.mark.parametrize("make,message", [
    (lambda: MaxPooling2D(0), r"MaxPooling2D\(pool_size=0\): pool_size must be an int or a "
                              r"tuple of 2 positive ints, received 0"),
    (lambda: AveragePooling1D(2, strides=(1, 1)), r"AveragePooling1D\(strides=\(1, 1\)\)"),
    (lambda: MaxPooling1D(padding="causal"),
     r"MaxPooling1D\(padding='causal'\): padding must be one of 'valid', 'same'"),
    (lambda: AveragePooling2D(data_format="NCHW"),
     r"AveragePooling2D\(data_format='NCHW'\): data_format must be"),
    (lambda: GlobalMaxPooling2D(data_format="last"),
     r"GlobalMaxPooling2D\(data_format='last'\)"),
], ids=["pool_size", "strides", "padding", "data_format", "global_data_format"])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
