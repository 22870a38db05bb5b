"""Where a model computes and how its batches get there.

Who owns what: `config` holds the device chosen for new weights (`config.set_device`; CUDA
by default when torch sees it). This module answers two questions for the engine:
- `model_device(model)`: the device a model computes on — that of its weights, so a
  `model.to(...)` after building is respected; `config.device()` while it has none.
- `to_device(tensor, device)`: a batch prepared on the CPU, on its way to `device`.
  `transfer_plan` decides, from the two devices alone, whether the batch is pinned
  (page-locked) first and whether the copy is non-blocking: both exactly when a CPU
  tensor goes to CUDA, so the host prepares the next batch while the device computes.
  Other moves are a plain `.to` (a tensor already there is returned as it is).

Whole in-memory arrays move to the device once per `fit` with `.to` (no pinned copy of a
whole data set); the per-batch path is this one.
"""

import torch

from . import config


def model_device(model):
    """The device `model` computes on: the device of its first weight or buffer that is
    not a shape-inference (`meta`) tensor; `config.device()` for a model without any.

    Args:
        model: a `torch.nn.Module` (a layerkit layer or model).

    Returns:
        A `torch.device`.
    """
    for tensor in _weights_and_buffers(model):
        if tensor.device.type != "meta":
            return tensor.device
    return config.device()


def _weights_and_buffers(module):
    yield from module.parameters()
    yield from module.buffers()


def transfer_plan(source, target):
    """How to copy a tensor from `source` to `target` (two `torch.device`s).

    Returns:
        `(pin, non_blocking)`: both True exactly when a CPU tensor goes to a CUDA device
        (pinned memory lets the copy run asynchronously); else both False.
    """
    to_cuda = source.type == "cpu" and target.type == "cuda"
    return to_cuda, to_cuda


def to_device(tensor, device):
    """`tensor` (a batch prepared on the host) on `device`, following `transfer_plan`.

    Args:
        tensor: a dense `torch.Tensor`.
        device: a `torch.device` (or a string torch accepts).

    Returns:
        The tensor on `device` (the same object when it is already there).
    """
    device = torch.device(device)
    pin, non_blocking = transfer_plan(tensor.device, device)
    if pin and not tensor.is_pinned():
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=non_blocking)
