"""Where dataset files are looked for, and how a loader gets one (offline first).

Search order for a file: the loader's `path=` when absolute (used as is), `cache_dir`,
`$LAYERKIT_HOME/datasets`, `$KERAS_HOME/datasets`, `~/.keras/datasets`, known system
copies (Debian's `dataset-fashion-mnist` package), then `/tmp/.keras/datasets` (Keras's
fallback when home is read-only). The first copy found is used; only when there is none
is the file downloaded from Keras's URL into the first writable folder.
"""

import os
import tempfile

from layerkit.utils import file_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Read-only copies installed by system packages, by cache sub-folder.
SYSTEM_DIRS = {
    os.path.join("datasets", "fashion-mnist"): ("/usr/share/datasets/fashion-mnist",),
}


def data_dirs(cache_dir=None, cache_subdir="datasets"):
    """Lists, in search order, the folders that may hold a data file.

    This is the single place in layerkit where environment variables are read for data
    location (`LAYERKIT_HOME`, then `KERAS_HOME`, as roots holding `datasets/`). They are
    read on every call, so a test or a user can change them at run time; `config.py`
    keeps only numeric/global settings.

    Args:
        cache_dir: optional root searched first (like Keras's `cache_dir`).
        cache_subdir: sub-folder of each root; an absolute folder is used alone.

    Returns:
        A list of absolute folder paths without duplicates.
    """
    cache_subdir = os.fspath(cache_subdir)
    if os.path.isabs(cache_subdir):
        return [cache_subdir]
    roots = [
        cache_dir,
        os.environ.get("LAYERKIT_HOME"),
        os.environ.get("KERAS_HOME"),
        os.path.join("~", ".keras"),
    ]
    dirs = []
    for root in roots:
        if root:
            folder = os.path.abspath(
                os.path.join(os.path.expanduser(os.fspath(root)), cache_subdir)
            )
            if folder not in dirs:
                dirs.append(folder)
    normalized = os.path.normpath(cache_subdir)
    dirs += [d for d in SYSTEM_DIRS.get(normalized, ()) if d not in dirs]
    fallback = os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)
    return dirs if fallback in dirs else [*dirs, fallback]


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
