"""Where dataset files are looked for, and how a loader gets one (offline first).

Search order for a file: the loader's `path=` when absolute (used as is), then
`file_utils.data_dirs`: `cache_dir`, `$LAYERKIT_HOME/datasets`, `$KERAS_HOME/datasets`,
`~/.keras/datasets`, known system copies (Debian's `dataset-fashion-mnist` package), then
`/tmp/.keras/datasets` (Keras's fallback when home is read-only). The first copy found is
used; only when there is none is the file downloaded from Keras's URL into the first
writable folder.
"""

import os

from layerkit.utils import file_utils
from layerkit.utils.file_utils import data_dirs as data_dirs

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

def fetch(
    path, origin, file_hash=None, cache_dir=None, cache_subdir="datasets", digest=None, aliases=()
):
    """Returns the local path of a dataset file, downloading it only if no copy exists.

    Args:
        path: file name looked up in `data_dirs`, or an absolute path used as is.
        origin: Keras's URL for the file.
        file_hash: official sha256/md5; a differing local copy only warns.
        cache_dir: optional root searched first.
        cache_subdir: sub-folder under each root.
        digest: optional callable `path -> hex digest` replacing the plain file hash.
        aliases: other accepted file names.

    Returns:
        The file's path.

    Raises:
        layerkit.utils.file_utils.DownloadError: no copy and no network.
    """
    path = os.path.expanduser(os.fspath(path))
    if os.path.isabs(path):
        dirs, name = [os.path.dirname(path)], os.path.basename(path)
    else:
        dirs, name = data_dirs(cache_dir, cache_subdir), path
    return file_utils.fetch(name, origin, dirs, file_hash, digest=digest, aliases=aliases)


def corrupt_file_error(path, origin, detail):
    """Builds the ValueError raised when a dataset file cannot be read."""
    return ValueError(
        f"Could not read {path}: {detail}. The file looks truncated or corrupt (or is not "
        f"the Keras file). Delete it and call the loader again to download a fresh copy from "
        f"{origin}, or replace it with a good copy."
    )
