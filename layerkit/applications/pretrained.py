"""Pretrained weights: allocating a model's weights without random values, then loading
Keras's files into them.

Who owns what: `weights_unfilled` makes the layers built inside it create weights with a
shape but no memory; `load` gives them memory and fills them from `weights='imagenet'`
(Keras's file through `utils.get_file(..., cache_subdir='models')`, so the cache is
Keras's: `~/.keras/models`, `$KERAS_HOME/models`) or a path, through `saving.load_weights`
(the safe HDF5 reader, which checks every layer's shapes before streaming the data into
the parameters). A file that does not fit raises before the model is returned, so a
half-loaded model is never used.
"""

import contextlib

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from .. import config
from ..saving import load_weights as load_weights_file
from ..utils.file_utils import DownloadError, get_file, validate_file


class _ShapeOnlyArithmetic(TorchFunctionMode):
    """Scalar arithmetic on meta tensors answered from the shapes alone.

    Initializers draw `scale * rand(shape) + shift`; on meta tensors torch runs that through
    its Python reference kernels, whose first use imports torch._dynamo (about 2 s per
    process). The result's shape and dtype are all `weights_unfilled` needs.
    """

    OPS = {torch.Tensor.__mul__, torch.Tensor.__rmul__, torch.Tensor.__add__,
           torch.Tensor.__radd__, torch.Tensor.__sub__, torch.Tensor.__rsub__,
           torch.Tensor.__truediv__, torch.Tensor.__neg__, torch.Tensor.mul,
           torch.Tensor.add, torch.Tensor.sub, torch.Tensor.div, torch.mul, torch.add,
           torch.sub, torch.div}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if func in self.OPS and tensors and all(t.is_meta for t in tensors) and \
                all(isinstance(a, (torch.Tensor, int, float)) for a in args) and not kwargs:
            # numpy's broadcast_shapes: torch's imports sympy (about 1 s) on first use
            shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
            dtype = torch.result_type(*args[:2]) if len(args) == 2 else tensors[0].dtype
            return torch.empty(shape, dtype=dtype, device="meta")
        return func(*args, **kwargs)


@contextlib.contextmanager
def weights_unfilled(weights):
    """Inside the block, new weights get a shape but no memory when `weights` will be
    loaded (`weights` not None), so a pretrained model never spends time and memory
    drawing random values that the file replaces (VGG16: 553 MB). `load` allocates them.
    The block sets `config`'s device to meta for its duration: build models from one
    thread at a time.
    """
    if weights is None:
        yield
        return
    target = config.device()
    config.set_device("meta")  # where Layer.add_weight puts new weights
    try:
        with torch.device("meta"), _ShapeOnlyArithmetic():  # where initializers draw
            yield
    finally:
        config.set_device(target)


def load(model, owner, weights, pretrained):
    """Allocates the weights left unfilled and loads them; returns the model.

    Args:
        owner: the application's name, for messages.
        weights: None, 'imagenet' or a path.
        pretrained: `(file name, URL, hash or None)` of Keras's ImageNet file for this
            configuration (used when weights == 'imagenet').
    """
    if weights is None:
        return model
    device = config.device()
    for param in model.parameters():
        if param.is_meta:  # ours: a caller's layers before `input_tensor` keep theirs
            # Same Parameter object (layers keep references to it), now with real memory.
            allocated = torch.nn.Parameter(_empty(param.shape, param.dtype, device),
                                           requires_grad=param.requires_grad)
            torch.utils.swap_tensors(param, allocated)
    if weights == "imagenet":
        load_imagenet_weights(model, owner, *pretrained)
    else:
        load_weights_file(model, weights)
    return model


def _empty(shape, dtype, device):
    """Uninitialised memory for a weight. On CPU numpy allocates it: numpy asks Linux for
    transparent huge pages on large arrays, so the file's data lands 2-3x faster than in
    `torch.empty`'s 4 KiB pages (VGG16: 0.1 s instead of 0.3 s). `torch.empty_like` on a
    meta tensor would import sympy (about 1 s), hence shapes and dtypes only."""
    if device.type == "cpu" and dtype in (torch.float32, torch.float64, torch.float16):
        return torch.from_numpy(np.empty(tuple(shape), dtype=str(dtype).split(".")[-1]))
    return torch.empty(shape, dtype=dtype, device=device)


def load_imagenet_weights(model, owner, file_name, origin, file_hash):
    """Finds Keras's weights file (cache first, then download) and loads it into `model`.

    Raises:
        DownloadError: the file is not cached and cannot be downloaded; names the file,
            the URL and the folders where a copy may be put.
        ValueError: the file does not fit the model (names the layer) — with a note when
            its hash differs from Keras's published one (a truncated or foreign file).
    """
    try:
        path = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
    except DownloadError as error:
        raise DownloadError(f"{owner}(weights='imagenet'): {error}") from None
    try:
        load_weights_file(model, path)
    except ValueError as error:
        hint = ""
        if file_hash is not None and not validate_file(path, file_hash):
            hint = (f" The file's hash differs from Keras's published {file_hash}, so it is "
                    f"truncated or not the official file: delete {path} so that a fresh "
                    f"copy is downloaded from {origin}.")
        raise ValueError(f"{owner}(weights='imagenet'): cannot load {path}: {error}.{hint}") \
            from None
