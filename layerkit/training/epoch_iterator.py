"""EpochIterator: every form of data that `fit`, `evaluate` and `predict` take, as one iterator.

Who owns what:
- The trainer runs epochs and steps. It builds one `EpochIterator` per data argument, asks
  it for each epoch's batches (`enumerate_epoch`) and hands each batch to the model's step;
  it never looks at the data's form.
- `EpochIterator` (here) is built once, before the first batch. It has `data_adapters`
  turn `x` into an adapter (the only place that asks "array or stream?"), checks the data
  against the model (`preflight`: builds it, input shapes, targets against the losses),
  cuts `validation_split` off the training arrays and serves it as the validation
  iterator, holds `class_weight` and applies it with `sample_weight` to every batch (one
  place, one function), knows the steps per epoch, skips the batches a resumed epoch has
  already trained, and yields each batch as the tuple the step takes (`x`, `(x,)`,
  `(x, y)` or `(x, y, sample_weight)`).
- The adapters own the batches: `ArrayAdapter` (numpy, lists, pandas, tensors, sparse:
  converted once, zero-copy where torch can view the array; targets and weights
  NaN/inf-checked whole, x batch by batch as it is cut until one pass drew every sample;
  one seeded `torch.randperm` per epoch when shuffling; with `steps_per_epoch`, fit's
  epochs continue where the previous one stopped), `StreamAdapter` (generators, `Sequence`s, image
  iterators, Datasets, DataLoaders: each batch checked as it arrives).
- `TrainingState` (not this module) knows where training stands; on resume the trainer
  asks this iterator to skip `snapshot.step` batches, then the state restores the
  generators and running sums.

Distribution seam (for a data-parallel strategy, not built here): an epoch is a sequence of
*global* batches; `ArrayAdapter.local_range(start, stop)` maps a global batch (positions
`[start, stop)` of the epoch's order, identical on every rank because the permutation comes
from generators every rank seeds alike) to the part this process trains on. A strategy
overrides that one method to split each global batch contiguously across ranks (and
weights an uneven last batch), wraps streams alike, and leaves this class and the trainer
unchanged.
"""

import itertools

import numpy as np
import torch

from .. import devices
from .. import losses as losses_module
from ..utils.data_tuples import pack_x_y_sample_weight
from . import data_adapters
from .data_adapters import arrays as arrays_module
from .data_adapters.array_adapter import ArrayAdapter, convert_arrays

ARGUMENTS = ("x", "y", "sample_weight")
VALIDATION = ("validation_data[0]", "validation_data[1]", "validation_data[2]")


class EpochIterator:
    """The batches of one data argument, epoch after epoch.

    Args:
        model: the model the data feeds (built from the data if it is not yet).
        x, y, sample_weight: any data form (`y` / `sample_weight` only beside arrays).
        batch_size: samples per batch (arrays, single-sample Datasets).
        steps: batches per epoch (None: one pass).
        shuffle: True, False or 'batch' (arrays; a Sequence / Dataset shuffles its order).
        class_weight: {class: weight}, applied to every batch with its sample weights.
        validation_split: the fraction of arrays held out (see `validation_iterator`).
        continues: with `steps`, each epoch of arrays continues where the previous stopped
            (fit's training data); False restarts every epoch (validation, evaluate).
        lazy: numpy x is read once: converted and checked per batch (evaluate, predict).
        inputs_only: yield `x` alone (predict); targets are not required.
        workers, use_multiprocessing: DataLoader worker processes for Sequences.
        names: what to call x, y and sample_weight in messages.
        adapter: an adapter already built (the held-out validation arrays).

    Raises:
        ValueError: naming the argument, for data the model cannot take.
    """

    def __init__(self, model, x=None, y=None, sample_weight=None, batch_size=32, steps=None,
                 shuffle=False, class_weight=None, validation_split=0.0, continues=True,
                 lazy=False, inputs_only=False, workers=1, use_multiprocessing=False,
                 names=ARGUMENTS, adapter=None):
        self.model = model
        self.batch_size = batch_size
        self.steps = steps
        self.continues = continues
        self.inputs_only = inputs_only
        self._streaming = {"workers": workers, "use_multiprocessing": use_multiprocessing}
        self._held_out, self._held_out_from = None, 0
        needs_targets = not inputs_only and (
            model.compiled is None or model.compiled.needs_targets)
        if adapter is None and validation_split:
            adapter = self._split(x, y, sample_weight, validation_split, shuffle, needs_targets)
        if adapter is None:
            adapter = data_adapters.get_data_adapter(
                x, y, sample_weight, batch_size, shuffle, workers, use_multiprocessing,
                needs_targets, model.input_names, model.output_names, input_shapes(model),
                lazy, names, device=devices.model_device(model))
        self.adapter = adapter
        first_x, first_y, first_weights = adapter.first_batch()
        preflight(model, first_x, first_y)
        self.class_table = class_table(model, data_adapters.shape_of(first_x), class_weight)
        if self.class_table is not None and adapter.complete:  # arrays: check them all
            weighted(first_y, self.class_table, first_weights, check=True)
            # once, on the device: batches then look weights up without a check (no sync)
            self.class_table = arrays_module.covering_table(first_y, self.class_table).to(
                adapter.device)

    def _split(self, x, y, sample_weight, validation_split, shuffle, needs_targets):
        if data_adapters.is_stream(x):
            raise ValueError(
                "validation_split works on arrays only; for a generator or Sequence pass "
                "validation_data=... instead"
            )
        if y is None and needs_targets:
            raise ValueError("y (the targets) is required for array data")
        converted = convert_arrays(x, y, sample_weight, self.model.input_names,
                                   self.model.output_names, input_shapes(self.model),
                                   check_x=False)  # x: batch by batch, by the adapters
        train, self._held_out = arrays_module.train_validation_split(converted,
                                                                     validation_split)
        adapter = ArrayAdapter(*train, self.batch_size, shuffle, unchecked=ARGUMENTS[0],
                               device=devices.model_device(self.model))
        self._held_out_from = adapter.n  # the held-out samples' first index in x
        return adapter

    def validation_iterator(self, validation_data=None, batch_size=None, steps=None):
        """The iterator over `validation_data`, or over the arrays `validation_split` held
        out; None without either. It restarts at each validation.

        Raises:
            ValueError: for validation_data that is not (x, y), (x, y, sample_weight), a
                generator or a Sequence.
        """
        batch_size = batch_size or self.batch_size
        if validation_data is None:
            if self._held_out is None:
                return None
            return EpochIterator(self.model, batch_size=batch_size, steps=steps,
                                 continues=False,
                                 adapter=ArrayAdapter(
                                     *self._held_out, batch_size, unchecked=ARGUMENTS[0],
                                     first_index=self._held_out_from,
                                     device=devices.model_device(self.model)))
        x, y, sample_weight = _unpack_validation(validation_data)
        return EpochIterator(self.model, x, y, sample_weight, batch_size=batch_size,
                             steps=steps, continues=False, names=VALIDATION,
                             **self._streaming)

    @property
    def num_batches(self):
        """Batches per epoch (None when a generator's length is unknown)."""
        return self.adapter.num_batches(self.steps, self.continues)

    def enumerate_epoch(self, skip=0):
        """The next epoch as `(step, data)` pairs, `data` the tuple the model's step takes.

        Args:
            skip: batches of this epoch already trained (a resumed run): they are drawn
                (so the epoch's shuffle and the data's own state advance) and dropped, and
                steps count on from `skip`.
        """
        batches = self.adapter.epoch(self.steps, self.continues)
        for _ in itertools.islice(batches, skip):
            pass
        return enumerate(self._packed(batches), skip)

    def _packed(self, batches):
        table = self.class_table
        if self.inputs_only:
            return (pack_x_y_sample_weight(b[0]) for b in batches)
        if table is None:
            return (pack_x_y_sample_weight(*b) for b in batches)
        covered = self.adapter.complete
        return (pack_x_y_sample_weight(x, y, weighted(y, table, sw, covered=covered))
                for x, y, sw in batches)

    def on_epoch_end(self):
        """Tells the data an epoch ended (a Sequence's `on_epoch_end`)."""
        self.adapter.on_epoch_end()


def _unpack_validation(validation_data):
    """(x, y, sample_weight) from validation_data: a tuple or a stream."""
    if data_adapters.is_stream(validation_data):
        return validation_data, None, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return (tuple(validation_data) + (None,))[:3]
    raise ValueError(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
        f"a generator or a Sequence, received {type(validation_data).__name__}"
    )


# ---------------------------------------------------------------------------- one batch
def one_batch(model, x, y=None, sample_weight=None, class_weight=None):
    """The data of a `*_on_batch` call as one checked device batch, the step's tuple."""
    x, y, sample_weight = convert_arrays(x, y, sample_weight, model.input_names,
                                         model.output_names, input_shapes(model))
    preflight(model, x, y)
    table = class_table(model, data_adapters.shape_of(x), class_weight)
    n = (x[0] if isinstance(x, list) else x).shape[0]
    xb, yb, swb = next(iter(ArrayAdapter(x, y, sample_weight, batch_size=n,
                                         device=devices.model_device(model))))
    if table is not None:
        swb = weighted(yb, table, swb, check=True)
    return pack_x_y_sample_weight(xb, yb, swb)


def one_array_batch(model, x):
    """`predict`'s one-batch shortcut: one numeric numpy array for a one-input model, with
    the same conversion and checks as a batch of the iterator."""
    xb = arrays_module.to_array(x, "x", lazy=True).rows(0, len(x))
    preflight(model, xb)
    return pack_x_y_sample_weight(devices.to_device(xb, devices.model_device(model)))


# ---------------------------------------------------------------------------- checks
def input_shapes(model):
    """The model's input shapes, when it has symbolic inputs (None for a model not yet
    built or a subclassed model)."""
    if not model.built:
        return None
    try:
        return [tuple(t.shape) for t in model.inputs]
    except AttributeError:
        return None


def preflight(model, x, y=None):
    """Builds the model from `x` if needed and checks x and y against it, before any step.

    Raises:
        ValueError: naming the layer, the expected shape and the received one.
    """
    shape = data_adapters.shape_of(x)
    model.build_from_shape(shape)
    model.check_input_shape(shape)
    if y is None or model.compiled is None or not model.compiled.loss_fns:
        return  # nothing to check targets against (custom steps read y themselves)
    out_shapes = model.compute_output_shape(shape)
    ys = y if isinstance(y, list) else [y]
    if len(ys) == 1:
        out_shapes = [out_shapes]
    for loss_fn, target, out_shape, name in zip(model.compiled.loss_fns, ys, out_shapes,
                                                model.output_names):
        target = target.numpy() if isinstance(target, torch.Tensor) else np.asarray(target)
        losses_module.check_targets(loss_fn, target, out_shape, output_name=name)


def class_table(model, x_shape, class_weight):
    """The checked `class_weight` table (None without one), for a single-output model
    whose number of classes is its output's last dimension (2 for one unit)."""
    if class_weight is None or (isinstance(class_weight, dict) and not class_weight):
        return None
    if len(model.output_names) > 1:
        raise ValueError(
            "class_weight works for single-output models; for several outputs pass "
            "sample_weight instead"
        )
    units = model.compute_output_shape(x_shape)[-1]
    num_classes = None if units is None else max(int(units), 2)
    return arrays_module.class_weight_table(class_weight, num_classes)


def weighted(y, table, sample_weight, check=False, covered=False):
    """Per-sample weights `table[label]` times `sample_weight`; `check`: raise when they
    leave no sample with weight (all of an array; a stream's batch may be all padding);
    `covered`: the table covers every label (arrays, checked once before training)."""
    weights = arrays_module.weights_from_classes(y, table, sample_weight, covered)
    if check:
        arrays_module.check_weights(
            weights, "class_weight" if sample_weight is None else "sample_weight x class_weight")
    return weights
