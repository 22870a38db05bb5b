"""CIFAR-100 small images (50,000 train / 10,000 test 32x32 RGB images, 100 classes)."""

import os

import numpy as np

from layerkit.datasets import _cifar_pickle

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine", *, cache_dir=None):
    """Loads CIFAR-100 exactly as Keras does.

    Looks for an extracted `cifar-100-python/` folder (Keras 3 or tf.keras layout) or the
    archive (`cifar-100-python-target_archive`, `cifar-100-python.tar.gz`) in the data
    folders before downloading.

    Args:
        label_mode: 'fine' (100 classes) or 'coarse' (20 superclasses).
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
        (10000, 32, 32, 3) under channels_last (else (N, 3, 32, 32)); int64 labels
        (50000, 1) and (10000, 1), as Keras returns them (its docstring says uint8).

    Raises:
        ValueError: a bad `label_mode`; an unreadable batch or archive.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f"cifar100.load_data: label_mode must be 'fine' or 'coarse', received {label_mode!r}."
        )
    folder = _cifar_pickle.locate(
        "cifar-100-python-target",
        "cifar-100-python",
        "cifar-100-python.tar.gz",
        ORIGIN,
        FILE_HASH,
        ("train", "test"),
        cache_dir,
    )
    key = f"{label_mode}_labels"
    x_train, y_train = _cifar_pickle.load_batch(os.path.join(folder, "train"), key, ORIGIN)
    x_test, y_test = _cifar_pickle.load_batch(os.path.join(folder, "test"), key, ORIGIN)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (_cifar_pickle.to_layout(x_train), y_train), (_cifar_pickle.to_layout(x_test), y_test)
