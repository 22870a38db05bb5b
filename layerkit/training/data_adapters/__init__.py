"""Data adapters: every form of `x` becomes an adapter that yields device batches.

Who owns what: `get_data_adapter` (below) is the only place that asks what form the data
has: data that yields whole batches (generators, `Sequence`s, image iterators, torch
Datasets and DataLoaders) becomes a `StreamAdapter`, checked batch by batch; in-memory data
(numpy in any layout, lists, pandas, torch tensors, scipy.sparse) is converted and checked
(`convert_arrays`; x arrays torch can view are checked batch by batch by the adapter
instead, so no call reads its whole input before the first batch) and becomes an
`ArrayAdapter`. `EpochIterator` calls it once per
`fit` / `evaluate` / `predict` call; nothing else looks at the data's form.

Both adapters answer `num_batches(steps, continues)`, `first_batch()` (for checks before
training), `epoch(steps, continues)` (an iterator of `(x, y, sample_weight)` device
batches) and `on_epoch_end()`.
"""

from .array_adapter import ArrayAdapter as ArrayAdapter
from .array_adapter import convert_arrays as convert_arrays
from .arrays import shape_of as shape_of
from .arrays import to_array as to_array
from .stream_adapter import StreamAdapter as StreamAdapter
from .stream_adapter import is_stream as is_stream


def get_data_adapter(x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                     workers=1, use_multiprocessing=False, needs_targets=True,
                     input_names=("input",), output_names=("output",), input_shapes=None,
                     lazy=False, names=("x", "y", "sample_weight"), device=None):
    """The adapter for `x` (and `y`, `sample_weight` for arrays).

    Args:
        x: any supported data form.
        y, sample_weight: arrays (None for a stream: its batches carry them).
        batch_size, shuffle: for arrays (and single-sample torch Datasets / Sequences).
        workers, use_multiprocessing: DataLoader worker processes for Sequences.
        needs_targets: whether the data must carry targets (a loss was compiled).
        input_names, output_names, input_shapes: the model's, for lists, dicts and rank-1
            inputs.
        lazy: numpy x is read once (evaluate, predict): converted and checked per batch.
        names: what to call x, y and sample_weight in messages.
        device: where batches go (None: `config.device()`).

    Raises:
        ValueError: for missing targets, y / sample_weight given beside a stream, and
            whatever `convert_arrays` or the stream's first batch reject.
    """
    if is_stream(x):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"y and sample_weight must be None when x is a {type(x).__name__}: its "
                "batches carry the targets (and weights)"
            )
        adapter = StreamAdapter(x, batch_size, shuffle, workers, use_multiprocessing,
                                input_shapes=input_shapes, device=device)
        if needs_targets and adapter.first_batch()[1] is None:
            raise ValueError(f"{adapter.name} yields batches without targets; expected (x, y)")
        return adapter
    if needs_targets and y is None:
        raise ValueError("y (the targets) is required for array data")
    x, y, sample_weight = convert_arrays(x, y, sample_weight, input_names, output_names,
                                         input_shapes, lazy, names, check_x=False)
    return ArrayAdapter(x, y, sample_weight, batch_size, shuffle, device, unchecked=names[0])
