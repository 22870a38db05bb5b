"""CIFAR-10 small images (50,000 train / 10,000 test 32x32 RGB images, 10 classes)."""

import os

import numpy as np

from layerkit.datasets import _cifar_pickle

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def load_data(*, cache_dir=None):
    """Loads CIFAR-10 exactly as Keras does.

    Looks for an extracted `cifar-10-batches-py/` folder (Keras 3 or tf.keras layout) or
    the archive (`cifar-10-batches-py-target_archive`, `cifar-10-batches-py.tar.gz` or
    `cifar-10-python.tar.gz`) in the data folders before downloading.

    Args:
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
        (10000, 32, 32, 3) under channels_last (else (N, 3, 32, 32)), uint8 labels
        (50000, 1) and (10000, 1); classes 0 airplane ... 9 truck.

    Raises:
        ValueError: an unreadable batch or archive.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.
    """
    folder = _cifar_pickle.locate(
        "cifar-10-batches-py-target",
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
        ORIGIN,
        FILE_HASH,
        _TRAIN + ("test_batch",),
        cache_dir,
    )
    batches = [_cifar_pickle.load_batch(os.path.join(folder, n), origin=ORIGIN) for n in _TRAIN]
    # Keras fills preallocated uint8 arrays batch by batch, then casts the test set alike.
    x_train = np.concatenate([x for x, _ in batches]).astype("uint8", copy=False)
    y_train = np.concatenate([np.asarray(y) for _, y in batches]).astype("uint8")
    x_test, y_test = _cifar_pickle.load_batch(os.path.join(folder, "test_batch"), origin=ORIGIN)
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(y_train.dtype)
    x_train = _cifar_pickle.to_layout(x_train)
    x_test = _cifar_pickle.to_layout(x_test).astype(x_train.dtype)
    return (x_train, y_train), (x_test, y_test)
