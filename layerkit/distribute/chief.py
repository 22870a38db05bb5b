"""Rank 0 (the chief) prints and writes; the other ranks wait for its files.

Checkpoints, CSV logs, TensorBoard files and the progress bar would otherwise be written once
per rank into the same place. `is_chief()` guards printing; `write_atomically(path, write)`
lets the chief write a temporary file next to `path` and rename it into place (a reader never
sees half a file), then every rank passes a barrier, so after it returns the file exists for
all of them. `gather(obj)` brings every rank's object to the chief (a writer that needs every
rank's state, such as BackupAndRestore's generators); `chief_decides(decide)` runs `decide()`
on the chief and hands its result, or its exception, to every rank, so no rank waits for a
chief that failed.
"""

import functools
import os
import tempfile

from . import collectives


def is_chief():
    """True on rank 0 (and in a single process)."""
    return collectives.rank() == 0


def chief_only(fn):
    """Decorator: `fn` runs on rank 0 only; other ranks get None (no synchronisation).

    Example:
        >>> @chief_only
        ... def report(logs): print(logs)
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_chief():
            return fn(*args, **kwargs)
        return None

    return wrapper


def write_atomically(path, write):
    """Rank 0 calls `write(temporary_path)` and renames the file to `path`; all ranks wait.

    Args:
        path: the final file path.
        write: a function that writes the whole file to the path it receives.

    Returns:
        `path`, once the file is in place for every rank.
    """
    path = os.fspath(path)
    if is_chief():
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-",
                                             suffix=os.path.splitext(path)[1])
        os.close(handle)
        try:
            write(temporary)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
    collectives.barrier(f"writing {path}")
    return path


def gather(obj, what):
    """Every rank's picklable `obj` as a list by rank on the chief, None on the other ranks
    (a collective: every rank of the group calls it; `[obj]` in one process).

    Args:
        obj: this rank's object (numpy arrays, numbers, dicts of them).
        what: what is gathered, for the error message of a failed collective.
    """
    everyone = collectives.all_gather_object(obj, what)
    return everyone if is_chief() else None


def chief_decides(decide, what):
    """Runs `decide()` on rank 0 only; every rank returns its result, or raises the
    exception it raised (a collective: every rank calls it).

    Args:
        decide: a function of no arguments returning something picklable.
        what: what is decided, for the error message of a failed collective.
    """
    outcome = None
    if is_chief():
        try:
            outcome = (True, decide())
        except Exception as error:  # noqa: BLE001 - handed to every rank, then raised
            outcome = (False, error)
    ok, value = collectives.broadcast_object(outcome, what)
    if not ok:
        raise value
    return value
