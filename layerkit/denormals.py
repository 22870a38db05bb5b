"""Flush-to-zero on every thread of torch's CPU thread pool, not only the calling one.

`torch.set_flush_denormal` sets the floating-point control register (MXCSR) of the thread
that calls it; the OpenMP threads that run the other halves of torch's parallel kernels
keep their own. Measured here: with 2 threads, `a * 1e-10` over 2M denormal-producing
values flushed exactly half of them. This module runs one OpenMP parallel region on the
same runtime torch uses, in which every team thread loads the calling thread's
floating-point environment (glibc's `fesetenv`, called directly as the region's body: no
Python, no GIL). A toggle costs one pool wake-up (~0.1-1 ms), so the engine does it at
loop boundaries, never per batch.

Where the pool is not OpenMP's libgomp (or libomp's GOMP entry points) on glibc, or the
platform is not x86/ARM Linux, `available()` is False and only the calling thread is set.
"""

import ctypes
import ctypes.util
import os
import sys

import torch

_RUNTIME = {}  # "gomp", "fesetenv", "envs" once found; "missing" when not available


def _omp_library():
    """The OpenMP runtime torch itself loaded (wheels bundle their own: scikit-learn's
    libgomp may be loaded too, and a region on it would reach other threads)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libgomp" in line or "libomp" in line}
    except OSError:
        return None
    torch_dir = os.path.dirname(os.path.realpath(torch.__file__))
    own = sorted(p for p in paths if os.path.realpath(p).startswith(torch_dir))
    if own:
        return own[0]
    return paths.pop() if len(paths) == 1 else None  # a system runtime, if unambiguous


def _load():
    if _RUNTIME:
        return None if "missing" in _RUNTIME else _RUNTIME
    torch.get_num_threads()  # loads torch's OpenMP runtime if it was not yet
    path = _omp_library() if sys.platform.startswith("linux") else None
    libm_name = ctypes.util.find_library("m")
    if path is None or libm_name is None or "OpenMP" not in torch.__config__.parallel_info():
        _RUNTIME["missing"] = True
        return None
    try:
        gomp, libm = ctypes.CDLL(path), ctypes.CDLL(libm_name)
        parallel = gomp.GOMP_parallel
    except (OSError, AttributeError):
        _RUNTIME["missing"] = True
        return None
    parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    _RUNTIME.update(parallel=parallel, libm=libm,
                    fesetenv=ctypes.cast(libm.fesetenv, ctypes.c_void_p))
    return _RUNTIME


def available():
    """True when `set_pool_flush` reaches torch's pool threads on this platform."""
    return _load() is not None


def set_pool_flush(enabled):
    """Sets flush-to-zero (and denormals-are-zero) on the calling thread and on every
    thread of torch's intra-op pool.

    Returns:
        True if the pool threads were reached, False if only the calling thread was set.
    """
    torch.set_flush_denormal(bool(enabled))
    runtime = _load()
    if runtime is None:
        return False
    env = ctypes.create_string_buffer(256)  # a glibc fenv_t is 28-32 bytes
    runtime["libm"].fegetenv(env)           # the caller's environment, flag just set
    runtime["parallel"](runtime["fesetenv"], env, torch.get_num_threads(), 0)
    return True
