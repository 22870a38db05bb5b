"""ImageNet helpers shared by the applications: input preprocessing, decoding, input shapes.

Who owns what: `preprocess_input` and `decode_predictions` are the public functions every
application module re-exports with its own mode; `obtain_input_shape`, `correct_pad` and
`validate_activation` are the argument checks the model builders share. Constants, URLs
and hashes are Keras's, so files cached by Keras (`~/.keras/models`) are found here.
"""

import json

import numpy as np
import torch

from .. import activations, config
from ..graph.symbolic import KerasTensor
from ..utils.file_utils import get_file

CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR order, as the caffe models were trained
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
MODES = ("caffe", "tf", "torch")

_class_indexes = {}  # {path of imagenet_class_index.json: {index: (wnid, name)}}


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of RGB images in [0, 255] the way an ImageNet model was trained.

    - 'caffe': RGB -> BGR, then each channel minus the ImageNet mean (no scaling).
    - 'tf': scaled to [-1, 1] (`x / 127.5 - 1`).
    - 'torch': scaled to [0, 1], then each channel normalised with the ImageNet mean/std.

    A floating-point numpy array is written over, as Keras does (pass `np.copy(x)` to keep
    it); other numpy dtypes are converted to floatx first. A torch tensor is never changed
    in place (the result is a new tensor, so it also works on tensors requiring grad). A
    symbolic tensor (from `Input`) gets a Lambda layer doing the same in the model.

    Args:
        x: numpy array, torch tensor or symbolic tensor, 3D (one image) or 4D (a batch),
            3 colour channels.
        data_format: 'channels_last' or 'channels_first'; None means
            `config.image_data_format()`.
        mode: 'caffe', 'tf' or 'torch'.

    Returns:
        The preprocessed array / tensor (float).

    Raises:
        ValueError: for an unknown mode or data_format.

    Example:
        >>> x = preprocess_input(np.full((1, 2, 2, 3), 255.0), mode="tf")  # all 1.0
    """
    if mode not in MODES:
        raise ValueError(f"preprocess_input(mode={mode!r}): expected one of 'caffe', 'tf' "
                         f"or 'torch', received {mode!r}")
    data_format = _data_format(data_format, "preprocess_input")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    if isinstance(x, torch.Tensor):
        return preprocess_tensor(x, data_format, mode)
    if isinstance(x, KerasTensor):  # a step of a model: Input -> preprocess -> network
        from ..layers import Lambda

        return Lambda(preprocess_tensor, output_shape=tuple(x.shape[1:]),
                      arguments={"data_format": data_format, "mode": mode})(x)
    return _preprocess_numpy(np.asarray(x), data_format, mode)


def _data_format(data_format, where):
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"{where}(data_format={data_format!r}): expected 'channels_last' or "
                         f"'channels_first', received {data_format!r}")
    return data_format


def _channel_axis(ndim, data_format):
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _preprocess_numpy(x, data_format, mode):
    # Keras's sequence of in-place operations on views, so the numbers (and the input's
    # overwriting) are Keras's exactly.
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    axis = _channel_axis(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        mean, std = TORCH_MEAN, TORCH_STD
    else:
        x = np.flip(x, axis)  # RGB -> BGR (a view, as Keras's [..., ::-1])
        mean, std = CAFFE_MEAN, None
    for channel in range(3):
        index = (slice(None),) * axis + (channel,)
        x[index] -= mean[channel]
        if std is not None:
            x[index] /= std[channel]
    return x


def preprocess_tensor(x, data_format, mode):
    """`preprocess_input` for a torch tensor (a new tensor; the body of the Lambda layer
    a symbolic input gets)."""
    if not x.is_floating_point():
        x = x.to(config.floatx_dtype())
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = _channel_axis(x.dim(), data_format)
    shape = [1] * x.dim()
    shape[axis] = 3  # (3,) -> broadcastable over the channel axis, e.g. (1, 1, 1, 3)
    if mode == "torch":
        mean = torch.tensor(TORCH_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
        std = torch.tensor(TORCH_STD, dtype=x.dtype, device=x.device).reshape(shape)
        return (x / 255.0 - mean) / std
    mean = torch.tensor(CAFFE_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
    return x.flip(axis) - mean  # RGB -> BGR, then zero-centre


def decode_predictions(preds, top=5):
    """Turns a batch of ImageNet predictions into `(class_id, name, score)` tuples.

    The class index (`imagenet_class_index.json`) is fetched once with Keras's URL and hash
    into the `models` cache (`~/.keras/models`, `KERAS_HOME`), shared with Keras.

    Args:
        preds: numpy array or tensor of shape (samples, 1000).
        top: how many of the best guesses to return per sample.

    Returns:
        One list per sample of `(class_id, class_name, score)`, best first.

    Raises:
        ValueError: when `preds` is not (samples, 1000), or the class index file is broken.

    Example:
        >>> decode_predictions(model.predict(x), top=3)[0]  # doctest: +SKIP
        [('n02504458', 'African_elephant', 0.909), ...]
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("decode_predictions expects a batch of ImageNet predictions, a 2D "
                         f"array of shape (samples, 1000); received shape {preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        results.append(sorted((index[int(i)] + (pred[i],) for i in best),
                              key=lambda entry: entry[2], reverse=True))
    return results


def _class_index():
    path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                    file_hash=CLASS_INDEX_HASH)
    if path not in _class_indexes:
        _class_indexes[path] = _read_class_index(path)
    return _class_indexes[path]


def _read_class_index(path):
    problem = f"{path} is not an ImageNet class index (a JSON object {{'0': [wnid, name]}})"
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as error:
        raise ValueError(f"{problem}: {error}. Delete it so that a fresh copy is downloaded "
                         f"from {CLASS_INDEX_PATH}") from None
    if not isinstance(raw, dict):
        raise ValueError(problem)
    index = {}
    for key, value in raw.items():
        if not (isinstance(value, list) and len(value) == 2 and str(key).isdigit()):
            raise ValueError(f"{problem}: entry {key!r} is {value!r}")
        index[int(key)] = (str(value[0]), str(value[1]))
    return index


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None, owner="model"):
    """Validates an application's `input_shape` and fills in the default, as Keras does.

    Args:
        input_shape: None or a 3-tuple without the batch axis.
        default_size: the model's native image size (224, 299, ...).
        min_size: the smallest image side the model accepts.
        data_format: 'channels_last' or 'channels_first'.
        require_flatten: whether the classifier top follows (then the size is fixed).
        weights: None, 'imagenet' or a path (imagenet needs 3 channels).
        owner: the application's name, for messages.

    Returns:
        The input shape tuple (sides may be None without the top).

    Raises:
        ValueError: naming what was received and what the model needs.
    """
    last = data_format == "channels_last"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[-1] if last else input_shape[0]
        default = ((default_size, default_size, channels) if last
                   else (channels, default_size, default_size))
    else:
        default = (default_size, default_size, 3) if last else (3, default_size, default_size)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError(
                f"{owner}(include_top=True, weights='imagenet'): input_shape must be "
                f"{default} (the size the classifier was trained on), received {input_shape}; "
                "pass include_top=False for other sizes")
        return default
    if not input_shape:
        if require_flatten:
            return default
        return (None, None, 3) if last else (3, None, None)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"{owner}: input_shape must be a tuple of three integers (rows, "
                         f"cols, channels), received {input_shape}")
    channels = input_shape[-1] if last else input_shape[0]
    sides = input_shape[:2] if last else input_shape[1:]
    if weights == "imagenet" and channels != 3:
        raise ValueError(f"{owner}(weights='imagenet'): the input must have 3 channels, "
                         f"received input_shape={input_shape}")
    if any(side is not None and side < min_size for side in sides):
        raise ValueError(f"{owner}: input size must be at least {min_size}x{min_size}, "
                         f"received input_shape={input_shape}")
    if require_flatten and None in input_shape:
        raise ValueError(f"{owner}(include_top=True): the classifier needs a fixed input "
                         f"size; pass a static input_shape, received {input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """Zero padding ((top, bottom), (left, right)) for a strided 'valid' convolution that
    reproduces TensorFlow's 'same' placement (MobileNetV2's downsampling blocks)."""
    first = 2 if config.image_data_format() == "channels_first" else 1
    size = inputs.shape[first:first + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights, owner="model"):
    """Pretrained classifiers allow only softmax or no activation (logits).

    Raises:
        ValueError: for another activation together with weights.
    """
    if weights is None:
        return
    if activations.get(classifier_activation) not in (activations.softmax, activations.linear):
        raise ValueError(
            f"{owner}: with pretrained weights and include_top=True, classifier_activation "
            f"must be 'softmax' or None (logits), received {classifier_activation!r}")
