"""What every application builder shares: argument checks, the image input, the pooling
head, and loading Keras's pretrained weight files.

Who owns what: the model modules (`vgg16.py`, `resnet.py`, ...) own their architecture
and Keras's file names, URLs and hashes; this module owns the Keras argument semantics
common to all of them and the one path from `weights=` to loaded parameters:
`utils.get_file(..., cache_subdir='models')` (so the cache is Keras's, `~/.keras/models`
or `$KERAS_HOME/models`) and `saving.load_weights` (the safe HDF5 reader, which checks
every layer's shapes before streaming the data into the parameters).
"""

import contextlib
import os

import torch

from .. import config
from ..graph.symbolic import KerasTensor
from ..layers import GlobalAveragePooling2D, GlobalMaxPooling2D, Input
from ..models.functional import Functional
from ..saving import load_weights as load_weights_file
from ..utils.file_utils import DownloadError, get_file, validate_file
from . import imagenet_utils

POOLINGS = (None, "avg", "max")


def check_arguments(owner, weights, include_top, classes, pooling=None):
    """Keras's checks on `weights`, `classes` and `pooling`.

    Raises:
        ValueError: naming the argument, the value received and what is accepted.
    """
    if not (weights in (None, "imagenet") or (isinstance(weights, (str, os.PathLike))
                                              and os.path.exists(weights))):
        raise ValueError(
            f"{owner}(weights={weights!r}): weights must be None (random initialization), "
            "'imagenet' (pre-training on ImageNet) or the path to an existing weights file")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"{owner}(weights='imagenet', include_top=True): classes must be 1000 (the "
            f"ImageNet classifier), received classes={classes}; pass include_top=False to "
            "put your own classifier on top")
    if pooling not in POOLINGS:
        raise ValueError(f"{owner}(pooling={pooling!r}): pooling must be None, 'avg' or 'max'")


def input_shape_for(owner, input_shape, default_size, min_size, include_top, weights):
    """`obtain_input_shape` with the global data format (see imagenet_utils)."""
    return imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=min_size,
        data_format=config.image_data_format(), require_flatten=include_top,
        weights=weights, owner=owner)


def image_input(owner, input_tensor, input_shape):
    """The symbolic image tensor the network starts from: `input_tensor` or a new Input.

    Raises:
        ValueError: when `input_tensor` is not a symbolic tensor from `Input(...)` or a layer.
    """
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(
            f"{owner}(input_tensor=...): expected a symbolic tensor from layerkit.Input(...) "
            f"or a layer call, received {type(input_tensor).__name__}; to run the model on "
            "data, build it first and call it on the data")
    return input_tensor


def source_inputs(tensor):
    """The model Input(s) `tensor` is computed from (Keras's `get_source_inputs`)."""
    found, seen, stack = [], set(), [tensor]
    while stack:
        current = stack.pop()
        node = current.node
        if node is None or not node.input_tensors:
            if id(current) not in seen:
                seen.add(id(current))
                found.append(current)
            continue
        stack.extend(reversed(node.input_tensors))
    return found[0] if len(found) == 1 else found


def pooled(x, pooling, names=(None, None)):
    """The feature-extraction head without the top: global 'avg' / 'max' pooling or none.

    Args:
        names: layer names for the (avg, max) pooling layers (None: automatic names).
    """
    if pooling == "avg":
        return GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=names[1])(x)
    return x


@contextlib.contextmanager
def weights_unfilled(weights):
    """Inside the block, new weights get a shape but no memory when `weights` will be
    loaded (`weights` not None), so a pretrained model never spends time and memory
    drawing random values that the file replaces (VGG16: 553 MB). `load` allocates them.
    """
    if weights is None:
        yield
        return
    target = config.device()
    config.set_device("meta")  # where Layer.add_weight puts new weights
    try:
        with torch.device("meta"):  # where the initializers draw
            yield
    finally:
        config.set_device(target)


def functional(input_tensor, img_input, outputs, name):
    """The Functional model from the caller's `input_tensor` (or our Input) to `outputs`."""
    inputs = source_inputs(input_tensor) if input_tensor is not None else img_input
    return Functional(inputs, outputs, name=name)


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
            allocated = torch.nn.Parameter(torch.empty_like(param, device=device),
                                           requires_grad=param.requires_grad)
            torch.utils.swap_tensors(param, allocated)
    if weights == "imagenet":
        load_imagenet_weights(model, owner, *pretrained)
    else:
        load_weights_file(model, weights)
    return model


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
