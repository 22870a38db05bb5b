"""Boston housing prices regression dataset (506 samples, 13 features)."""

import numpy as np

from layerkit.datasets import _cache, _safe_pickle, _sequences

ORIGIN = _cache.BASE_URL + "boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, *, cache_dir=None):
    """Loads the Boston housing data, shuffled with `RandomState(seed)` and split as Keras.

    Args:
        path: file name looked up in the data folders, or an absolute path used as is.
        test_split: fraction of the data used as test set, in [0, 1).
        seed: shuffling seed.
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float64 arrays (404, 13), (404,), (102, 13),
        (102,) with the defaults.

    Raises:
        ValueError: `test_split` outside [0, 1) (Keras 3; tf.keras raised AssertionError);
            unreadable file.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.
    """
    if not 0 <= test_split < 1:
        raise ValueError(
            f"boston_housing.load_data: test_split must be in [0, 1), received {test_split}."
        )
    path = _cache.fetch(path, ORIGIN, FILE_HASH, cache_dir=cache_dir)
    x, y = _safe_pickle.read_npz(path, ORIGIN, ("x", "y"))
    x, y = _sequences.shuffled(x, y, np.random.RandomState(seed))
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
