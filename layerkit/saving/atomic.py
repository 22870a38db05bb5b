"""Crash-safe file writes: write a temporary file beside the target, fsync, rename over it.

Who owns what: every file layerkit writes (models, weights, checkpoints, backups, logs)
goes through `atomic_write`; the writers only ever see the temporary path. `os.replace`
is atomic on POSIX and Windows, so a process killed at any instant leaves either the
previous file or the new one, never a half-written one.

Temporary files are named `.<target name>.lk<pid>-<8 hex digits>.tmp` and created with
the mode `open()` gives new files (0o666 less the umask: 0644 under umask 022). A process
killed mid-save leaves its temporary file behind; the next `atomic_write` into the same
folder removes every such file whose process is gone.
"""

import contextlib
import os
import re
import secrets

_TEMP = re.compile(r"^\..+\.lk(\d+)-[0-9a-f]{8}\.tmp$")
_IN_FLIGHT = set()  # temporary paths this process is writing now (threads may save at once)


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
    remove_stale(directory)
    tmp = _create_temporary(directory, os.path.basename(path))
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
    finally:
        _IN_FLIGHT.discard(tmp)
    _fsync_directory(directory)


def _create_temporary(directory, name):
    """Creates an empty temporary file with the umask's mode (mkstemp would give 0600)."""
    while True:
        tmp = os.path.join(directory, f".{name}.lk{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        _IN_FLIGHT.add(tmp)
        return tmp


def remove_stale(directory):
    """Removes the temporary files of killed saves in `directory`.

    A temporary file is stale when the process named in it no longer runs (or is this
    process, which is not writing it). Files of running processes are left alone, so
    concurrent saves into one folder do not disturb each other.

    Returns:
        The paths removed.
    """
    removed = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry)
        if match is None:
            continue
        path = os.path.join(directory, entry)
        if path in _IN_FLIGHT or _running(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.remove(path)
            removed.append(path)
    return removed


def _running(pid):
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return True  # no cheap liveness test: leave other processes' files alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process
        return True
    return True


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
