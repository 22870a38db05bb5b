"""Small helpers shared by the layer tests (fixtures live in conftest.py)."""

import keras
import numpy as np
import torch


def to_numpy(t):
    """A numpy copy of a torch tensor (detached) or of a Keras output."""
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) \
        else keras.ops.convert_to_numpy(t)


def randn(*shape, seed=0, scale=1.0):
    """Standard-normal float32 values of `shape` (times `scale`), from `RandomState(seed)`."""
    return (np.random.RandomState(seed).randn(*shape) * scale).astype("float32")


def shape_for(channels_last_shape, data_format):
    """`channels_last_shape` (without batch) moved to `data_format`."""
    if data_format == "channels_last":
        return channels_last_shape
    return channels_last_shape[-1:] + channels_last_shape[:-1]


def strip_checksums(handle):
    """Removes layerkit's checksums from an open `h5py.File`, leaving the plain Keras file
    it would be had Keras written it (for tests of what loading checks in such files)."""
    def strip(_, obj):
        obj.attrs.pop("layerkit_sealed", None)

    handle.attrs.pop("layerkit_integrity", None)
    handle.visititems(strip)
