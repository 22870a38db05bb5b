"""Fashion-MNIST (60,000 train / 10,000 test 28x28 grayscale images of 10 clothing classes).

Keras lists no hash for these files. The hashes below are sha256 digests of the
*decompressed* IDX bytes, so that every faithful copy verifies: the official Zalando files
(md5 of the .gz: train-images 8d4fb7e6c68d591d4c3dfef9ec88bf0d, train-labels
25c81989df183df01b3e8a0aad5dffbe, t10k-images bef4ecab320f06d8554ea6380940ec79,
t10k-labels bb300cfdad3c16e7a12a480ee83cd310), Keras's mirror, and Debian's
`dataset-fashion-mnist` package, whose .gz files differ from Zalando's only in the gzip
header (checked: restoring the header restores the official md5s).
"""

import gzip
import hashlib
import os
import zlib

import numpy as np

from layerkit.datasets import _cache

BASE = _cache.BASE_URL
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
FILES = {  # file name: sha256 of its decompressed content
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
}
_READ_ERRORS = (OSError, EOFError, zlib.error, ValueError)


def _read_gz(path):
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except _READ_ERRORS as err:
        fname = os.path.basename(path)
        raise _cache.corrupt_file_error(path, BASE + fname, f"{type(err).__name__}: {err}") from err


def _content_sha256(path):
    """sha256 of the decompressed file: independent of the gzip header."""
    return hashlib.sha256(_read_gz(path)).hexdigest()


def _parse_idx(path, raw, magic, header):
    """Checks an IDX header (big-endian magic, counts) and returns the uint8 payload."""
    dims = np.frombuffer(raw[:header], ">u4") if len(raw) >= header else np.zeros(0, ">u4")
    expected = int(np.prod(dims[1:], dtype=np.int64)) if len(dims) else -1
    if len(dims) == 0 or dims[0] != magic or len(raw) - header != expected:
        raise _cache.corrupt_file_error(
            path,
            BASE + os.path.basename(path),
            f"not an IDX file with magic {magic} and a payload matching its header",
        )
    return np.frombuffer(raw, np.uint8, offset=header)


def _read_pair(paths, labels_name, images_name):
    labels = _parse_idx(paths[labels_name], _read_gz(paths[labels_name]), 2049, 8)
    images = _parse_idx(paths[images_name], _read_gz(paths[images_name]), 2051, 16)
    if images.size != len(labels) * 28 * 28:
        raise _cache.corrupt_file_error(
            paths[images_name],
            BASE + images_name,
            f"{images.size} pixels do not make {len(labels)} 28x28 images",
        )
    return images.reshape(len(labels), 28, 28), labels


def load_data(*, cache_dir=None):
    """Loads Fashion-MNIST from the four IDX .gz files, exactly as Keras does.

    Files are looked for under `datasets/fashion-mnist/` of each data folder, then in
    `/usr/share/datasets/fashion-mnist` (Debian package `dataset-fashion-mnist`).

    Args:
        cache_dir: optional folder searched first (and downloaded into).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,); labels 0..9 (0 T-shirt/top ... 9 ankle boot).

    Raises:
        ValueError: unreadable file.
        layerkit.utils.file_utils.DownloadError: no local copy and no network.
    """
    paths = {
        name: _cache.fetch(
            name,
            BASE + name,
            digest_hash,
            cache_dir=cache_dir,
            cache_subdir=CACHE_SUBDIR,
            digest=_content_sha256,
        )
        for name, digest_hash in FILES.items()
    }
    x_train, y_train = _read_pair(paths, "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz")
    x_test, y_test = _read_pair(paths, "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)
