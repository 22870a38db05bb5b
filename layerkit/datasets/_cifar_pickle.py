"""CIFAR-10/100 python batches: finding the extracted folder and reading the pickles.

A CIFAR folder is accepted in either layout Keras has used, in any searched data folder:
Keras 3's `<name>-target/<inner>/` and tf.keras's `<inner>/`. Failing that, the archive is
looked for under Keras 3's name (`<name>-target_archive`), tf.keras's (`<inner>.tar.gz`) or
the name it has on the Toronto site, extracted safely, and downloaded only as a last resort.
"""

import os

import numpy as np

from layerkit import config
from layerkit.datasets import _cache, _safe_pickle
from layerkit.utils import file_utils


def _complete(folder, members):
    return all(os.path.isfile(os.path.join(folder, m)) for m in members)


def locate(name, inner, original, origin, file_hash, members, cache_dir=None):
    """Returns a folder holding all `members` of a CIFAR dataset, extracting if needed.

    Args:
        name: Keras 3's folder name, e.g. 'cifar-10-batches-py-target'.
        inner: the archive's top folder, e.g. 'cifar-10-batches-py'.
        original: the archive's name on the Toronto site, e.g. 'cifar-10-python.tar.gz'.
        origin: download URL.
        file_hash: sha256 of the archive.
        members: files that must be present, e.g. ('data_batch_1', ..., 'test_batch').
        cache_dir: optional root searched first.

    Returns:
        The folder path.

    Raises:
        ValueError: the archive does not hold the expected files.
        layerkit.utils.file_utils.DownloadError: nothing local and no network.
    """
    dirs = _cache.data_dirs(cache_dir)
    for folder in dirs:
        for candidate in (os.path.join(folder, name, inner), os.path.join(folder, inner)):
            if _complete(candidate, members):
                return candidate
    archive, target = file_utils.fetch_and_extract(
        f"{name}_archive",
        name,
        origin,
        dirs,
        file_hash,
        archive_format="tar",
        aliases=(f"{inner}.tar.gz", original),
    )
    if target is None:
        raise _cache.corrupt_file_error(archive, origin, "it is not a tar archive")
    folder = os.path.join(target, inner)
    if not _complete(folder, members):
        raise _cache.corrupt_file_error(
            archive, origin, f"it does not contain {inner}/ with {', '.join(members)}"
        )
    return folder


def load_batch(fpath, label_key="labels", origin=""):
    """Reads one CIFAR batch (a Python 2 pickle dict with bytes keys).

    Args:
        fpath: the batch file.
        label_key: 'labels' (CIFAR-10), 'fine_labels' or 'coarse_labels' (CIFAR-100).
        origin: the dataset URL, named in errors.

    Returns:
        `(data, labels)`: uint8 array (N, 3, 32, 32) and a list of N ints.

    Raises:
        ValueError: the file is truncated, corrupt, or holds anything but plain data.
    """
    try:
        with open(fpath, "rb") as f:
            batch = _safe_pickle.RestrictedUnpickler(f, encoding="bytes").load()
        batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
        data, labels = batch["data"], batch[label_key]
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072:
            raise ValueError(
                f"'data' must be an (N, 3072) array, found {getattr(data, 'shape', data)}"
            )
        if len(labels) != len(data):
            raise ValueError(f"{len(labels)} labels for {len(data)} images")
    except _safe_pickle.READ_ERRORS + (AttributeError,) as err:
        raise _cache.corrupt_file_error(fpath, origin, f"{type(err).__name__}: {err}") from err
    return data.reshape(data.shape[0], 3, 32, 32), labels


def to_layout(x):
    """(N, 3, 32, 32) → (N, 32, 32, 3) under channels_last, as Keras does (a view)."""
    if config.image_data_format() == "channels_last":
        return x.transpose(0, 2, 3, 1)
    return x
