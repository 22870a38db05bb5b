"""Output-shape inference: run a layer on meta tensors, or on tiny zeros if meta fails.

Shapes are Keras tuples whose first entry (the batch) may be None; a layer with several
inputs gets a list of shapes. Meta tensors allocate nothing, so inferring the shape of a
10000-wide Dense costs no memory.
"""

import torch

_BATCH_PLACEHOLDER = 2  # stands for None; 2 (not 1) so squeezes and broadcasts stay honest


def is_shape(value):
    """True for one shape tuple (ints / None), False for a list of shapes."""
    return isinstance(value, (tuple, list, torch.Size)) and all(
        d is None or isinstance(d, int) for d in value
    )


def to_shape_tuple(shape):
    """Normalizes an int, list or torch.Size to a tuple of ints / None."""
    if isinstance(shape, int):
        return (shape,)
    return tuple(None if d is None else int(d) for d in shape)


def _concrete(shape):
    return tuple(_BATCH_PLACEHOLDER if d is None else d for d in shape)


def _restore(shape, batch_unknown):
    shape = tuple(shape)
    if batch_unknown and shape:
        return (None,) + shape[1:]
    return shape


def _zeros(shapes, dtypes, device):
    if is_shape(shapes):
        return torch.zeros(_concrete(shapes), dtype=dtypes, device=device)
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(shapes)
    return [_zeros(s, d, device) for s, d in zip(shapes, dtypes)]


def _first_shape(shapes):
    return shapes if is_shape(shapes) else _first_shape(shapes[0])


def infer_output_shape(layer, input_shape, dtype=None):
    """Returns `layer`'s output shape for `input_shape` by running it without real data.

    Args:
        layer: a built layer.
        input_shape: a shape tuple (first entry possibly None) or a list of them.
        dtype: input torch dtype, or a list of them (default dtype when None).

    Returns:
        A shape tuple (or a list of tuples for layers with several outputs).
    """
    batch_unknown = _first_shape(input_shape)[0] is None
    dtype = dtype or torch.get_default_dtype()
    try:
        params = {k: torch.empty_like(v, device="meta") for k, v in layer.state_dict().items()}
        x = _zeros(input_shape, dtype, "meta")
        with torch.no_grad():
            out = torch.func.functional_call(layer, params, (x,), {"training": False})
    except Exception:  # some kernels have no meta implementation: run on real zeros
        device = next((p.device for p in layer.parameters()), torch.device("cpu"))
        with torch.no_grad():
            out = layer(_zeros(input_shape, dtype, device), training=False)
    if isinstance(out, (list, tuple)):
        return [_restore(o.shape, batch_unknown) for o in out]
    return _restore(out.shape, batch_unknown)
