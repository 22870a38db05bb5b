"""Output-shape inference: run a layer on small zeros, or on meta tensors when that is big.

Shapes are Keras tuples whose entries may be None (unknown: always the batch, sometimes
the spatial axes of a fully convolutional input or the time axis of a sequence). A layer
whose work on stand-in inputs is small (the notes' MLPs and small convnets) runs on real
zeros; a big one (VGG16's convolutions) on meta tensors, which allocate and compute
nothing; a kernel without a meta implementation falls back to real zeros.

Unknown entries are stood in for by concrete sizes. When only the batch is unknown one run
suffices and the output's first entry is the batch. Otherwise (or for an operation that may
move axes, such as `x[0]` or a mean over axis 0) the function runs twice with different
stand-ins, and an output entry is unknown exactly when the two runs disagree on it.
"""

import torch

# Stand-ins for None: (batch, other axes) for the first and the second run. The other axes
# are large enough for kernels and pools and differ by enough (16 vs 24) that strided ops
# still tell them apart.
_RUN_A = (2, 16)
_RUN_B = (3, 24)


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


def _concrete(shape, stand_in):
    batch, other = stand_in
    return tuple((batch if i == 0 else other) if d is None else d for i, d in enumerate(shape))


def _zeros(shapes, dtypes, device, stand_in):
    if is_shape(shapes):
        return torch.zeros(_concrete(shapes, stand_in), dtype=dtypes, device=device)
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(shapes)
    return [_zeros(s, d, device, stand_in) for s, d in zip(shapes, dtypes)]


def _leaves(shapes):
    if is_shape(shapes):
        return [shapes]
    return [leaf for s in shapes for leaf in _leaves(s)]


def _unknown_beyond_batch(shapes):
    return any(d is None for shape in _leaves(shapes) for d in shape[1:])


def _batch_unknown(shapes):
    return any(shape and shape[0] is None for shape in _leaves(shapes))


# Work below which a layer is run on real zeros instead of meta tensors: the first
# element-wise op on meta tensors imports torch's Python reference kernels (and with them
# torch._dynamo and sympy, 1.5-2.5 s per process), while a small layer on zeros takes
# microseconds. About 20M multiply-adds stay under ~10 ms on one core.
_REAL_RUN_BUDGET = 2e7


def _numel(shape):
    count = 1
    for d in shape:
        count *= d
    return count


def _cheap(layer, input_shape, stand_in):
    """Whether running `layer` on real zeros costs about nothing (multiply-adds estimated
    as weights x positions: exact for Dense and convolutions, generous for the rest)."""
    if getattr(layer, "stateful", False):  # a real run would move its states
        return False
    shapes = [_concrete(s, stand_in) for s in _leaves(input_shape)]
    elements = sum(_numel(s) for s in shapes)
    channels = max(1, shapes[0][-1] if shapes and shapes[0] else 1)
    weights = sum(p.numel() for p in layer.parameters())
    return weights * elements / channels + elements < _REAL_RUN_BUDGET


def _either(real, meta, real_first):
    """Runs `real` (real zeros) and `meta` (meta tensors) in the order `real_first` says
    until one works: meta kernels may be missing, and values may upset a function (a
    matrix inverse of zeros). When both fail, the real run's error is raised: meta errors
    are the more cryptic."""
    runs = (real, meta) if real_first else (meta, real)
    try:
        return runs[0]()
    except Exception as error:
        first_error = error
    try:
        return runs[1]()
    except Exception as error:
        raise first_error if real_first else error


def _run_layer(layer, input_shape, dtype, stand_in):
    def real():
        device = next((p.device for p in layer.parameters()), torch.device("cpu"))
        with torch.no_grad():
            return layer(_zeros(input_shape, dtype, device, stand_in), training=False)

    def meta():
        params = {k: torch.empty_like(v, device="meta") for k, v in layer.state_dict().items()}
        with torch.no_grad():
            return torch.func.functional_call(
                layer, params, (_zeros(input_shape, dtype, "meta", stand_in),),
                {"training": False})

    return _either(real, meta, _cheap(layer, input_shape, stand_in))


def _run_function(fn, input_shapes, dtypes, stand_in):
    def on(device):
        with torch.no_grad():
            return fn(_zeros(input_shapes, dtypes, device, stand_in))

    small = sum(_numel(_concrete(s, stand_in)) for s in input_shapes) < _REAL_RUN_BUDGET / 10
    return _either(lambda: on("cpu"), lambda: on("meta"), small)


def _outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _merge(first, second):
    """Entries on which two runs agree are known; the others are None."""
    if first.dim() != second.dim():
        raise ValueError(f"the output rank depends on the input size ({tuple(first.shape)} "
                         f"vs {tuple(second.shape)})")
    return tuple(a if a == b else None for a, b in zip(first.shape, second.shape))


def infer_output_shape(layer, input_shape, dtype=None):
    """Returns `layer`'s output shape for `input_shape` by running it without real data.

    Args:
        layer: a built layer.
        input_shape: a shape tuple (entries possibly None) or a list of them.
        dtype: input torch dtype, or a list of them (default dtype when None).

    Returns:
        A shape tuple (or a list of tuples for layers with several outputs).
    """
    dtype = dtype or torch.get_default_dtype()
    out = _run_layer(layer, input_shape, dtype, _RUN_A)
    several = isinstance(out, (list, tuple))
    first = _outputs(out)
    if _unknown_beyond_batch(input_shape):
        second = _outputs(_run_layer(layer, input_shape, dtype, _RUN_B))
        shapes = [_merge(a, b) for a, b in zip(first, second)]
    else:
        batch_unknown = _batch_unknown(input_shape)
        shapes = [(None,) + tuple(o.shape[1:]) if batch_unknown and o.dim() else tuple(o.shape)
                  for o in first]
    return shapes if several else shapes[0]


def infer_output_spec(fn, input_shapes, dtypes):
    """Shapes and dtypes of `fn(list_of_tensors)` for symbolic inputs.

    Runs `fn` twice with different stand-ins for every None entry, so the result is right
    also when `fn` moves or removes the batch axis (`x[0]`, `mean(x, axis=0)`).

    Args:
        fn: a function of a list of tensors returning a tensor or a list/tuple of them.
        input_shapes: list of shape tuples (entries possibly None).
        dtypes: list of torch dtypes, one per input.

    Returns:
        (shapes, dtypes, several): lists with one entry per output, and whether `fn`
        returned a list/tuple.
    """
    out_a = _run_function(fn, input_shapes, dtypes, _RUN_A)
    several = isinstance(out_a, (list, tuple))
    first = _outputs(out_a)
    if any(d is None for shape in input_shapes for d in shape):
        second = _outputs(_run_function(fn, input_shapes, dtypes, _RUN_B))
        shapes = [_merge(a, b) for a, b in zip(first, second)]
    else:
        shapes = [tuple(o.shape) for o in first]
    return shapes, [o.dtype for o in first], several
