"""Keeps freed CPU memory in the process heap while a training or inference loop runs.

Who owns what: this module alone calls glibc's `mallopt`; `config.cpu_heap_kept` (entered
by the trainer around fit/evaluate/predict loops, with the flush-to-zero policy) decides
when, and `config.set_keep_cpu_heap` whether.

Why: torch allocates CPU tensors with plain `malloc`. glibc serves an allocation above its
mmap threshold (raised as large blocks are freed, at most 32 MiB) with a fresh `mmap` and
unmaps it on `free`, and hands the top of the heap back to the OS once more than the trim
threshold (twice the mmap threshold) lies free there. A loop that allocates and frees the
same large tensors at every step therefore faults every page in again at every step.
Measured on the 2-core benchmark machine (a VM, where a fault is dear): the IMDB LSTM
(Embedding + LSTM(32), 500 steps, batch 128) maps oneDNN's 117 MiB training workspace at
every step, and an epoch spent 0.6 s user + 0.6-0.8 s sys CPU (250-310k minor faults);
with the heap kept 0.65 s user + 0.0 s sys (no faults), in torch loops and layerkit alike.
TensorFlow's allocator and torch's CUDA caching allocator keep freed memory for reuse in
the same way; torch's CPU tuning guide suggests jemalloc/tcmalloc for this reason.

While the heap is kept (outermost loop only; nested loops leave it alone): allocations up
to 1 GiB come from the heap and are reused, and the heap is not trimmed below 1 GiB of
free memory. On leaving, the thresholds are set to where glibc's own adaptation ends
after any freed block of 32 MiB or more (mmap 32 MiB, trim 64 MiB: setting them stops
the adaptation, so this is the closest state to "untouched"): the next `free` returns
what lies free above 64 MiB at the top of the heap to the OS (an explicit `malloc_trim`
would cost ~35 us per loop: predict calls in a text-generation loop are ~1 ms each).
Setting the thresholds costs ~1 us. The numbers a loop computes do not change.

Elsewhere than Linux with glibc (musl, macOS, Windows) `available()` is False and nothing
changes.
"""

import ctypes
import ctypes.util
import platform
import sys
import threading

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT = 1 << 30  # 1 GiB: both thresholds while a loop runs
_AFTER_MMAP, _AFTER_TRIM = 32 << 20, 64 << 20  # glibc's dynamic maxima (64-bit)

_LIBC = {}  # "mallopt" once found; "missing" when not available
_LOCK = threading.Lock()
_DEPTH = [0]  # loops currently inside `keep()`


def _load():
    if not _LIBC:
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        try:
            if name is None or platform.libc_ver()[0] != "glibc":
                raise OSError("not glibc")
            libc = ctypes.CDLL(name)
            _LIBC["mallopt"] = libc.mallopt
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        except (OSError, AttributeError):
            _LIBC["missing"] = True
    return None if "missing" in _LIBC else _LIBC


def available():
    """True when this process's malloc is glibc's (the thresholds can be set)."""
    return _load() is not None


def depth():
    """How many loops are inside `keep()` now (0: the heap is glibc's own)."""
    return _DEPTH[0]


def keep():
    """Enters a loop: the first one raises both thresholds to 1 GiB. Returns whether
    this call changed them (then `release()` must follow)."""
    libc = _load()
    if libc is None:
        return False
    with _LOCK:
        _DEPTH[0] += 1
        if _DEPTH[0] == 1:
            libc["mallopt"](_M_MMAP_THRESHOLD, _KEPT)
            libc["mallopt"](_M_TRIM_THRESHOLD, _KEPT)
    return True


def release():
    """Leaves a loop entered by `keep()`: the last one sets glibc's end-state thresholds
    (free memory above them goes back to the OS at the next `free`)."""
    libc = _load()
    with _LOCK:
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            libc["mallopt"](_M_MMAP_THRESHOLD, _AFTER_MMAP)
            libc["mallopt"](_M_TRIM_THRESHOLD, _AFTER_TRIM)
