"""MNIST handwritten digits (60,000 train / 10,000 test 28x28 grayscale images)."""

from layerkit.datasets import _cache, _safe_pickle

ORIGIN = _cache.BASE_URL + "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", *, cache_dir=None):
    """Loads MNIST exactly as stored in Keras's `mnist.npz`.

    Args:
        path: file name looked up in the data folders, or an absolute path used as is.
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,); pixels 0..255, labels 0..9.

    Raises:
        ValueError: unreadable file.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    """
    path = _cache.fetch(path, ORIGIN, FILE_HASH, cache_dir=cache_dir)
    x_train, y_train, x_test, y_test = _safe_pickle.read_npz(
        path, ORIGIN, ("x_train", "y_train", "x_test", "y_test")
    )
    return (x_train, y_train), (x_test, y_test)
