"""The only global settings of layerkit: floatx, epsilon, image data format, device, seeds.

Everything else reads these through the getters below; nothing else in the package keeps
global mutable state (layer-name counters live in `layerkit.utils.naming` and are reset by
`clear_session`).
"""

import contextlib
import random

import numpy as np
import torch

from . import cpu_heap, denormals

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE = None  # resolved lazily: CUDA when present, else CPU
# Flush denormal floats to zero on CPU (TensorFlow does it everywhere). Denormals appear in
# optimizer accumulators that decay (RMSprop/Adam second moments of weights whose gradient
# is zero: sparse inputs, dead ReLUs) and inside recurrent layers; they make CPU math up to
# 100x slower. "auto" (default): flush during every optimizer step (batch_size=1 Boston MLP
# 4x faster), and during the whole loop for models with `Layer.denormal_prone` layers (the
# recurrent ones; an IMDB LSTM epoch 3x faster). Convnets measured within noise (-10% and
# +25% in two runs), so they only flush inside the optimizer step. See README.
_FLUSH_DENORMAL = "auto"
# Keep freed CPU memory in the heap while a loop runs instead of faulting large blocks in
# again at every step (glibc; see cpu_heap: the IMDB LSTM epoch spent as long in page
# faults as in math).
_KEEP_CPU_HEAP = True
_FLUSHING = False  # the flag currently set in torch (torch has no getter)
_POOL_FLUSHING = False  # the flag last set on torch's pool threads

_FLOAT_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


def floatx():
    """Returns the default float type as a string, e.g. `'float32'`."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type (`'float16'`, `'bfloat16'`, `'float32'` or `'float64'`)."""
    global _FLOATX
    if value not in _FLOAT_DTYPES:
        raise ValueError(
            f"set_floatx: expected one of {sorted(_FLOAT_DTYPES)}, received {value!r}"
        )
    _FLOATX = value


def floatx_dtype():
    """Returns the torch dtype matching `floatx()`."""
    return _FLOAT_DTYPES[_FLOATX]


def standardize_dtype(dtype):
    """Maps a dtype given as string, numpy or torch dtype (or None → floatx) to a torch dtype."""
    if dtype is None:
        return floatx_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    try:
        return getattr(torch, name) if name != "bool" else torch.bool
    except AttributeError:
        raise ValueError(f"Unknown dtype {dtype!r}") from None


def epsilon():
    """Returns the fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns `'channels_last'` (default) or `'channels_first'`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image data format: `'channels_last'` or `'channels_first'`."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "set_image_data_format: expected 'channels_last' or 'channels_first', "
            f"received {data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def device():
    """Returns the torch device layerkit puts weights and batches on (CUDA if available)."""
    global _DEVICE
    if _DEVICE is None:
        _DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return _DEVICE


def set_device(value):
    """Sets the device for new weights and for batches (`'cpu'`, `'cuda'`, `'cuda:1'`, a
    `torch.device`, ...); None goes back to the default (CUDA when available, else CPU).

    A model computes where its weights are: `model.to(...)` after building moves it, and
    `fit` / `evaluate` / `predict` send its batches there (`layerkit.devices`).
    """
    global _DEVICE
    _DEVICE = None if value is None else torch.device(value)


def flush_denormal():
    """Flush-to-zero policy on CPU during fit/evaluate/predict: True, False or "auto"."""
    return _FLUSH_DENORMAL


def set_flush_denormal(value):
    """Sets the flush-to-zero policy: True (whole loops), False (never) or "auto" (optimizer
    steps always, whole loops for models with recurrent layers)."""
    global _FLUSH_DENORMAL
    if value not in (True, False, "auto"):
        raise ValueError(
            f"set_flush_denormal: expected True, False or 'auto', received {value!r}"
        )
    _FLUSH_DENORMAL = value


@contextlib.contextmanager
def denormals_flushed(enabled=True, all_threads=False):
    """Flushes denormal floats to zero on CPU inside the block, then restores the state.

    Args:
        enabled: flush (True) or not (False) inside the block.
        all_threads: also set torch's intra-op pool threads (one pool wake-up each way:
            for whole loops). Otherwise only the calling thread changes (cheap: per step).
    """
    global _FLUSHING, _POOL_FLUSHING
    previous, previous_pool = _FLUSHING, _POOL_FLUSHING
    if all_threads and enabled != _POOL_FLUSHING:
        denormals.set_pool_flush(enabled)
        _FLUSHING = _POOL_FLUSHING = enabled
    elif enabled != _FLUSHING:
        torch.set_flush_denormal(enabled)
        _FLUSHING = enabled
    try:
        yield
    finally:
        if _POOL_FLUSHING != previous_pool:
            denormals.set_pool_flush(previous_pool)
            _POOL_FLUSHING = previous_pool
            _FLUSHING = previous_pool
        if _FLUSHING != previous:
            torch.set_flush_denormal(previous)
            _FLUSHING = previous


def keep_cpu_heap():
    """Whether fit/evaluate/predict on CPU keep freed memory in the heap (see cpu_heap)."""
    return _KEEP_CPU_HEAP


def set_keep_cpu_heap(value):
    """True (default): while a loop runs on CPU, glibc reuses freed memory instead of
    returning it to the OS and faulting it in again; given back when the loop ends.
    False: glibc's own thresholds."""
    global _KEEP_CPU_HEAP
    if not isinstance(value, bool):
        raise ValueError(f"set_keep_cpu_heap: expected True or False, received {value!r}")
    _KEEP_CPU_HEAP = value


@contextlib.contextmanager
def cpu_heap_kept(enabled=True):
    """Keeps freed CPU memory in the process heap inside the block (glibc only; nested
    blocks leave it to the outermost)."""
    kept = enabled and cpu_heap.keep()
    try:
        yield
    finally:
        if kept:
            cpu_heap.release()


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy and torch so that CPU runs repeat exactly.

    Args:
        seed: a non-negative integer.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed: seed must be a non-negative int, received {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
