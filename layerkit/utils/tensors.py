"""Array-likes → torch tensors, for functions Keras let users call on numpy values."""

import torch

from layerkit import config


def as_tensor(x):
    """Returns `x` as a tensor: tensors unchanged, numpy arrays and Python numbers converted.

    Floating and complex data keep their dtype (float64 stays float64, as in Keras 3);
    integers and bools become floatx, since every caller computes in floats.

    Args:
        x: a tensor, a numpy array, a (nested) list or a Python number.

    Returns:
        A torch tensor on the CPU (tensors stay where they are).

    Example:
        >>> regularizers.l2(0.01)(as_tensor(np.ones(3)))
    """
    if isinstance(x, torch.Tensor):
        return x
    x = torch.as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(config.floatx_dtype())
    return x
