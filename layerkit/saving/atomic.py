"""Crash-safe file writes: write a temporary file beside the target, fsync, rename over it.

Who owns what: every file layerkit writes (models, weights, checkpoints, backups, logs)
goes through `atomic_write`; the writers only ever see the temporary path. `os.replace`
is atomic on POSIX and Windows, so a process killed at any instant leaves either the
previous file or the new one, never a half-written one.
"""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode=None):
    """Writes `path` atomically.

    Args:
        path: the target file.
        mode: None to receive the temporary *path* (for writers that open files themselves,
            such as h5py), or an `open()` mode ('w', 'wb') to receive an open file object.

    Yields:
        The temporary path, or a file object open on it.

    Raises:
        Whatever the body raises; the temporary file is removed and the target untouched.

    Example:
        >>> with atomic_write("model.h5") as tmp:
        ...     h5py.File(tmp, "w").close()
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        if mode is None:
            yield tmp
        else:
            with open(tmp, mode) as handle:
                yield handle
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _fsync_file(path):
    with open(path, "rb+") as handle:
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(directory):
    """Makes the rename durable (POSIX); directories cannot be opened on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

