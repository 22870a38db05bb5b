"""ZeroPadding2D, Cropping2D, UpSampling2D, Permute and RepeatVector against the Keras 3
oracle in both data formats, by hand, and their error messages. Configs, training steps,
save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit.layers.reshaping.cropping2d import Cropping2D
from layerkit.layers.reshaping.permute import Permute
from layerkit.layers.reshaping.repeat_vector import RepeatVector
from layerkit.layers.reshaping.up_sampling2d import UpSampling2D
from layerkit.layers.reshaping.zero_padding2d import ZeroPadding2D

from helpers import randn, shape_for, to_numpy

ATOL = 1e-6
OURS = {c.__name__: c for c in (Cropping2D, Permute, RepeatVector, UpSampling2D,
                                 ZeroPadding2D)}
IMAGE_LAYERS = ("ZeroPadding2D", "Cropping2D", "UpSampling2D")
FORMATS = ["channels_last", "channels_first"]

# id -> (class, kwargs, channels_last input shape without batch)
CASES = {
    "zero_padding_default": ("ZeroPadding2D", {}, (3, 4, 2)),
    "zero_padding_int": ("ZeroPadding2D", dict(padding=2), (3, 4, 2)),
    "zero_padding_rows_cols": ("ZeroPadding2D", dict(padding=(1, 3)), (3, 4, 2)),
    "zero_padding_asymmetric": ("ZeroPadding2D", dict(padding=((1, 0), (0, 2))), (3, 4, 2)),
    "cropping_int": ("Cropping2D", dict(cropping=1), (5, 6, 2)),
    "cropping_rows_cols": ("Cropping2D", dict(cropping=(2, 1)), (5, 6, 2)),
    "cropping_asymmetric": ("Cropping2D", dict(cropping=((0, 2), (3, 1))), (5, 6, 2)),
    "up_sampling_default": ("UpSampling2D", {}, (3, 4, 2)),
    "up_sampling_2x3": ("UpSampling2D", dict(size=(2, 3)), (3, 4, 2)),
    "up_sampling_bilinear": ("UpSampling2D", dict(size=(3, 2), interpolation="bilinear"),
                             (3, 4, 2)),
    "permute_swap": ("Permute", dict(dims=(2, 1)), (3, 4)),
    "permute_3d": ("Permute", dict(dims=(3, 1, 2)), (3, 4, 2)),
    "repeat_vector": ("RepeatVector", dict(n=3), (4,)),
}


def _formats(case):
    return FORMATS if CASES[case][0] in IMAGE_LAYERS else [None]


PAIRS = [(case, fmt) for case in CASES for fmt in _formats(case)]


@pytest.mark.parametrize("case,data_format", PAIRS,
                         ids=[f"{c}-{f}" if f else c for c, f in PAIRS])
def test_output_matches_keras(case, data_format):
    name, kwargs, shape = CASES[case]
    if data_format is not None:
        kwargs = dict(kwargs, data_format=data_format)
        shape = shape_for(shape, data_format)
    x = randn(2, *shape)
    ours = OURS[name](**kwargs)
    out = ours(torch.from_numpy(x))
    np.testing.assert_allclose(to_numpy(out), to_numpy(getattr(keras.layers, name)(**kwargs)(x)),
                               atol=ATOL)
    assert ours.compute_output_shape((None,) + shape) == (None,) + tuple(out.shape[1:])
    assert ours.count_params() == 0


def test_unknown_spatial_sizes_stay_unknown():
    assert ZeroPadding2D(1).compute_output_shape((None, None, 4, 3)) == (None, None, 6, 3)
    assert UpSampling2D(2).compute_output_shape((None, 5, None, 3)) == (None, 10, None, 3)
    assert Cropping2D(1).compute_output_shape((None, None, 4, 3)) == (None, None, 2, 3)


def test_nearest_up_sampling_repeats_pixels_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = to_numpy(UpSampling2D((1, 2))(x))[0, :, :, 0]
    np.testing.assert_array_equal(out, [[1, 1, 2, 2], [3, 3, 4, 4]])


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("make,message", [
    (lambda: ZeroPadding2D((1, 2, 3)), r"ZeroPadding2D\(padding=\(1, 2, 3\)\): padding must "
                                       r"be an int, a pair of ints"),
    (lambda: ZeroPadding2D(-1), r"ZeroPadding2D\(padding=-1\)"),
    (lambda: Cropping2D(((1, 2), (3,))), r"Cropping2D\(cropping=\(\(1, 2\), \(3,\)\)\)"),
    (lambda: UpSampling2D(0), r"UpSampling2D\(size=0\): size must be"),
    (lambda: UpSampling2D(interpolation="bicubic"),
     r"UpSampling2D\(interpolation='bicubic'\): interpolation must be 'nearest' or "
     r"'bilinear'"),
    (lambda: UpSampling2D(data_format="NHWC"), r"UpSampling2D\(data_format='NHWC'\)"),
    (lambda: Permute((1, 3)), r"Permute\(dims=\(1, 3\)\): dims must be a permutation of 1..n"),
    (lambda: RepeatVector(0), r"RepeatVector\(n=0\): n must be a positive integer"),
], ids=["padding_len", "padding_negative", "cropping_pair", "size", "interpolation",
        "data_format", "permute", "repeat"])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_input_rank_and_too_much_cropping():
    with pytest.raises(ValueError, match=r"Layer 'pad' \(ZeroPadding2D\) expected ndim=4 "
                                         r"input .*received input of shape \(None, 3, 4\)"):
        ZeroPadding2D(name="pad")(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"RepeatVector\) expected ndim=2 input \(batch, "
                                         r"features\), received input of shape \(None, 3, 4\)"):
        RepeatVector(2)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"Permute\) with dims=\(2, 1\) expected ndim=3"):
        Permute((2, 1))(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"Cropping2D\): cropping=\(\(2, 2\), \(0, 0\)\) "
                                         r"removes all rows or columns"):
        Cropping2D(((2, 2), (0, 0)))(torch.zeros(1, 4, 5, 1))
