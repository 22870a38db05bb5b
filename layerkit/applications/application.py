"""What every application shares: Keras's arguments, the image input, the top or pooling
head, and the order of assembly.

Who owns what: the model modules (`vgg16.py`, `resnet.py`, ...) own their network and
Keras's file names, URLs and hashes; `create` owns the Keras argument semantics common to
all of them (checks, input shape, `input_tensor`, `pooling`, the classifier) and hands the
built model to `pretrained.load` for `weights=`.
"""

import os

from .. import config
from ..graph.symbolic import KerasTensor
from ..layers import Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, Input
from ..models.functional import Functional
from . import imagenet_utils, pretrained

POOLINGS = (None, "avg", "max")

ARGS_DOC = """
    Args:
        include_top: include the classifier ({top}).
        weights: None (random), 'imagenet' (Keras's file, cached in `~/.keras/models`) or
            the path of a weights file (Keras's legacy `.h5`, `.weights.h5` or `.keras`).
        input_tensor: optional symbolic tensor (from `Input` or a layer) to build on.
        input_shape: (rows, cols, 3) without the top (sides >= {min_size}); with the top
            and ImageNet weights it must be ({size}, {size}, 3).
        pooling: without the top: None (4D features), 'avg' or 'max' (2D features).
        classes: number of classes of the top (1000 with ImageNet weights).
        classifier_activation: activation of `predictions` ('softmax'; None for logits).
        name: the model's name.

    Returns:
        A Functional model.

    Raises:
        ValueError: for invalid arguments or a weights file that does not fit (naming the
            layer).
        layerkit.utils.file_utils.DownloadError: ImageNet weights neither cached nor
            downloadable (naming the file, its URL and the folders for a copy).
"""


def docstring(summary, size, min_size, top="global average pooling, `predictions`"):
    """The docstring of an application function: `summary` and the Keras arguments."""
    return summary + "\n" + ARGS_DOC.format(top=top, size=size, min_size=min_size)


def create(owner, network, *, include_top, weights, input_tensor, input_shape, pooling,
           classes, classifier_activation, name, default_size, min_size, files, top=None,
           pool_names=(None, None, None)):
    """Builds an application the Keras way and loads its weights.

    Args:
        owner: the application's name, for messages ('VGG16').
        network: `network(image tensor) -> feature map`, creating the layers.
        include_top ... name: the Keras arguments, as received.
        default_size / min_size: the native and the smallest image side.
        files: `{include_top: (file name, URL, md5 or None)}` of Keras's ImageNet files.
        top: `top(features) -> predictions` replacing the default classifier (global
            average pooling named `pool_names[0]`, then Dense `predictions`).
        pool_names: names of (the top's pooling, 'avg' pooling, 'max' pooling layers).

    Returns:
        The Functional model, weights loaded.
    """
    check_arguments(owner, weights, include_top, classes, pooling)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights, owner)
    input_shape = input_shape_for(owner, input_shape, default_size, min_size, include_top,
                                  weights)
    with pretrained.weights_unfilled(weights):
        img_input = image_input(owner, input_tensor, input_shape)
        x = network(img_input)
        if include_top and top is not None:
            x = top(x)
        elif include_top:
            x = GlobalAveragePooling2D(name=pool_names[0])(x)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        elif pooling == "avg":
            x = GlobalAveragePooling2D(name=pool_names[1])(x)
        elif pooling == "max":
            x = GlobalMaxPooling2D(name=pool_names[2])(x)
        inputs = source_inputs(input_tensor) if input_tensor is not None else img_input
        model = Functional(inputs, x, name=name)
    return pretrained.load(model, owner, weights, files[bool(include_top)])


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
