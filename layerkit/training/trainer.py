"""The training engine: the only place that runs loops and orders callbacks.

Who owns what: `fit`, `evaluate` and `predict` check and convert the data
(`data_adapter`), check it against the model before any step runs (`preflight`), then loop
over epochs and batches calling the model's `train_step(data)` / `test_step(data)` /
`predict_step(data)` (data: `(x,)`, `(x, y)` or `(x, y, sample_weight)`; a step returns
its logs, the built-in ones lazily) and the callbacks in tf.keras order (ProgbarLogger first, user callbacks, History last).
Running means live in the model's `Compiled`; numbers are pulled from the device only at
epoch ends, when the progress bar redraws, or when a user callback asks for batch logs.
"""

import itertools

import numpy as np
import torch

from .. import config
from .. import losses as losses_module
from ..callbacks.callback_list import CallbackList
from ..callbacks.history import History
from ..callbacks.progbar_logger import ProgbarLogger
from ..utils import keras1_args
from ..utils.data_tuples import pack_x_y_sample_weight
from . import data_adapter
from .compiled import python_logs
from .data_adapter import ArrayBatches, to_array, to_arrays
from .generator_adapter import BatchSource, is_batch_source

_IGNORED_FIT_KWARGS = {"max_queue_size"}  # tf.keras queue size: DataLoader prefetches


# ---------------------------------------------------------------------------- checks
def _require_compiled(model, what):
    if model.compiled is None:
        raise RuntimeError(
            f"You must compile your model before {what}: call "
            "model.compile(optimizer='rmsprop', loss='...') first"
        )


def _check_kwargs(kwargs, fn):
    unknown = set(kwargs) - _IGNORED_FIT_KWARGS
    found = keras1_args.renamed(unknown, keras1_args.LOOP_ARGS, fn)
    if found:
        raise keras1_args.error(fn, found)
    if unknown:
        raise TypeError(f"{fn}() got unexpected keyword arguments {sorted(unknown)}")


def _check_batch_size(batch_size, what="batch_size"):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{what} must be a positive integer, received {batch_size!r}")
    return int(batch_size)


def _verbosity(verbose, default=1):
    if verbose == "auto":
        return default
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)


_ARGUMENTS = ("x", "y", "sample_weight")
_VALIDATION = ("validation_data[0]", "validation_data[1]", "validation_data[2]")


def _convert(model, x, y=None, sample_weight=None, lazy=False, names=_ARGUMENTS):
    """Converts and checks x, y (one array, or a list / dict for several inputs / outputs)
    and weights, calling them `names` in messages; with `lazy` (a single pass: evaluate,
    predict), numpy x is converted and checked batch by batch (data_adapter.HostRows)."""
    x_name, y_name, sw_name = names
    x = data_adapter.expand_rank1(to_arrays(x, model.input_names, x_name, lazy),
                                  _input_shapes(model))
    y = None if y is None else to_arrays(y, model.output_names, y_name)
    sample_weight = None if sample_weight is None else to_array(sample_weight, sw_name)
    flat_x = x if isinstance(x, list) else [x]
    n = flat_x[0].shape[0]
    named = [(f"{x_name}[{i}]", a) for i, a in enumerate(flat_x[1:], 1)]
    named += [(y_name, a) for a in (y if isinstance(y, list) else [y]) if a is not None]
    named += [(sw_name, sample_weight)] if sample_weight is not None else []
    for name, array in named:
        if array.shape[0] != n:
            raise ValueError(
                f"Data cardinality is ambiguous: {x_name} has {n} samples but {name} has "
                f"{array.shape[0]}. Make sure all arrays contain the same number of samples"
            )
    if sample_weight is not None:
        sample_weight = data_adapter.per_sample_weights(sample_weight, n, sw_name)
    return x, y, sample_weight


def _input_shapes(model):
    """The model's input shapes, when it has symbolic inputs (None for a model not yet
    built or a subclassed model)."""
    if not model.built:
        return None
    try:
        return [tuple(t.shape) for t in model.inputs]
    except AttributeError:
        return None


def _class_table(model, x_shape, class_weight):
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
    return data_adapter.class_weight_table(class_weight, num_classes)


def _class_weights(y, table, sample_weight, check=True):
    """Per-sample weights from the class table (times `sample_weight`); `check`: raise
    when they leave no sample with weight (arrays; a stream's batch may be all padding)."""
    if table is None:
        return sample_weight
    weights = data_adapter.weights_from_classes(y, table, sample_weight)
    if check:
        data_adapter.check_weights(
            weights, "class_weight" if sample_weight is None else "sample_weight x class_weight")
    return weights


def preflight(model, x, y=None):
    """Builds the model from `x` if needed and checks x and y against it, before any step.

    Raises:
        ValueError: naming the layer, the expected shape and the received one.
    """
    shape = data_adapter.shape_of(x)
    if not model.built:
        model._maybe_build(shape)
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


def _numerics(model):
    """Flushes denormals on CPU for the duration of a loop (see config.flush_denormal)."""
    policy = config.flush_denormal()
    if policy == "auto":
        policy = any(getattr(m, "denormal_prone", False) for m in model.modules())
    # one intra-op thread is the calling thread: no pool to reach (saves a pool call per
    # predict in the text-generation loop)
    return config.denormals_flushed(bool(policy) and config.device().type == "cpu",
                                    all_threads=torch.get_num_threads() > 1)


def _callbacks(model, callbacks, verbose, epochs, steps, with_history):
    user = list(callbacks or [])
    progbar = [ProgbarLogger()] if verbose and not any(isinstance(c, ProgbarLogger)
                                                       for c in user) else []
    history = History() if with_history else None
    all_cbs = progbar + user + ([history] if history else [])
    cbs = CallbackList(all_cbs, model=model,
                       params={"verbose": verbose, "epochs": epochs, "steps": steps})
    return cbs, CallbackList(user), history


class _Hooks:
    """Which batch hooks some user callback overrides (only those get batch logs)."""

    def __init__(self, user_cbs):
        self.train_begin = user_cbs.wants_batch_hooks("on_train_batch_begin") or \
            user_cbs.wants_batch_hooks("on_batch_begin")
        self.train_end = user_cbs.wants_batch_hooks("on_train_batch_end") or \
            user_cbs.wants_batch_hooks("on_batch_end")
        self.test_begin = user_cbs.wants_batch_hooks("on_test_batch_begin")
        self.test_end = user_cbs.wants_batch_hooks("on_test_batch_end")


# ---------------------------------------------------------------------------- sources
def _source(model, x, y, sample_weight, batch_size, shuffle=False, steps=None,
            class_weight=None, workers=1, use_multiprocessing=False, needs_y=None,
            converted=False, once=False, names=_ARGUMENTS):
    """Checks the data against the model and returns a batch source (arrays or stream).

    Targets are needed (`needs_y` None) when the model was compiled with a loss. `once`:
    the data is read in one pass (evaluate, predict), so numpy x is converted and checked
    per batch."""
    if needs_y is None:
        needs_y = model.compiled is None or model.compiled.needs_targets
    if is_batch_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"y and sample_weight must be None when x is a {type(x).__name__}: its "
                "batches carry the targets (and weights)"
            )
        source = BatchSource(x, batch_size, shuffle, steps, workers, use_multiprocessing,
                             input_shapes=_input_shapes(model))
        xb, yb, _ = source.peek()
        if needs_y and yb is None:
            raise ValueError(f"{source.name} yields batches without targets; expected (x, y)")
        preflight(model, xb, yb)
        source.class_weight = _class_table(model, data_adapter.shape_of(xb), class_weight)
        return source
    if needs_y and y is None:
        raise ValueError("y (the targets) is required for array data")
    if not converted:  # arrays cut by validation_split were converted (and checked) already
        x, y, sample_weight = _convert(model, x, y, sample_weight, lazy=once, names=names)
    preflight(model, x, y)
    table = _class_table(model, data_adapter.shape_of(x), class_weight)
    sample_weight = _class_weights(y, table, sample_weight)
    return ArrayBatches(x, y, sample_weight, batch_size, shuffle)


def _split_arrays(model, x, y, sample_weight, validation_split):
    """Converts the training arrays and cuts the last `validation_split` off."""
    x, y, sample_weight = _convert(model, x, y, sample_weight)
    return data_adapter.train_validation_split((x, y, sample_weight), validation_split)


# ---------------------------------------------------------------------------- fit
def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1, workers=1, use_multiprocessing=False,
        **kwargs):
    """Trains `model` (see `Model.fit`); returns the History."""
    _check_kwargs(kwargs, "fit")
    _require_compiled(model, "training")
    batch_size = _check_batch_size(batch_size)
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, received {epochs!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or not 0 <= initial_epoch <= epochs:
        raise ValueError(
            f"initial_epoch must be an integer between 0 and epochs={epochs}, received "
            f"{initial_epoch!r}"
        )
    verbose = _verbosity(verbose)
    streaming = {"workers": workers, "use_multiprocessing": use_multiprocessing}
    split = bool(validation_split) and validation_data is None
    if split:
        if is_batch_source(x):
            raise ValueError(
                "validation_split works on arrays only; for a generator or Sequence pass "
                "validation_data=... instead"
            )
        if y is None and model.compiled.needs_targets:
            raise ValueError("y (the targets) is required for array data")
        (x, y, sample_weight), validation_data = _split_arrays(
            model, x, y, sample_weight, validation_split)
    train = _source(model, x, y, sample_weight, batch_size, shuffle, steps_per_epoch,
                    class_weight, converted=split, **streaming)
    val = None
    if validation_data is not None:
        val = _source(model, *_unpack_validation(validation_data),
                      _check_batch_size(validation_batch_size or batch_size),
                      steps=validation_steps, converted=split, names=_VALIDATION, **streaming)
    steps = len(train) if steps_per_epoch is None else steps_per_epoch
    cbs, user_cbs, history = _callbacks(model, callbacks, verbose, epochs, steps, True)
    hooks = _Hooks(user_cbs)
    model._trainable_params()
    stream = _batch_stream(train, steps_per_epoch)
    model.stop_training = False
    with _numerics(model):
        cbs.on_train_begin()
        # A callback that restored a checkpoint says where to resume (see training.resume).
        point = getattr(model, "_resume_point", None)
        if point is not None:
            initial_epoch, model._resume_point = point.epoch, None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            logs = _train_epoch(model, epoch, stream, cbs, hooks,
                                getattr(train, "class_weight", None),
                                point if epoch == initial_epoch else None)
            train.on_epoch_end()
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = _test_loop(model, val, cbs, hooks, validation_steps)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        cbs.on_train_end(logs)
    history.model = model
    model.history = history
    return history


def _unpack_validation(validation_data):
    """(x, y, sample_weight) from validation_data: a tuple or a batch source."""
    if is_batch_source(validation_data):
        return validation_data, None, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return (tuple(validation_data) + (None,))[:3]
    raise ValueError(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
        f"a generator or a Sequence, received {type(validation_data).__name__}"
    )


def _batch_stream(source, steps_per_epoch):
    """Per-epoch batch iterables; arrays with steps_per_epoch continue across epochs."""
    if steps_per_epoch is None or not isinstance(source, ArrayBatches):
        return source.epoch
    endless = itertools.chain.from_iterable(source.epoch() for _ in itertools.count())
    return lambda: itertools.islice(endless, steps_per_epoch)


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _train_epoch(model, epoch, stream, cbs, hooks, class_weight=None, point=None):
    model.reset_metrics()
    cbs.on_epoch_begin(epoch)
    batches, first = _epoch_batches(model, stream, point)
    train_step, latest = model.train_step, model._latest  # the step: one lookup per epoch
    latest.logs = logs = None
    for step, (xb, yb, swb) in enumerate(batches, first):
        if class_weight is not None:
            swb = _class_weights(yb, class_weight, swb, check=False)
        if hooks.train_begin:
            cbs.on_train_batch_begin(step, {})
        latest.logs = logs = train_step(pack_x_y_sample_weight(xb, yb, swb))
        cbs.on_train_batch_end(step, python_logs(logs) if hooks.train_end else {})
        if model.stop_training:
            break
    return model._running_logs()


def _epoch_batches(model, stream, point):
    """(batches, index of the first): all of the epoch's, or in an epoch resumed at
    `point.step`, the rest, after the shuffle and the skipped batches drew what they draw."""
    batches = iter(stream())
    if point is None or not point.step:
        return batches, 0
    for _ in itertools.islice(batches, point.step):
        pass
    point.continue_epoch(model)
    return batches, point.step


def _test_loop(model, source, cbs, hooks, steps=None):
    model.reset_metrics()
    cbs.on_test_begin()
    batches = source.epoch()
    if steps is not None and isinstance(source, ArrayBatches):
        batches = itertools.islice(batches, steps)
    test_step, latest = model.test_step, model._latest
    latest.logs = None
    with torch.no_grad():
        for step, (xb, yb, swb) in enumerate(batches):
            if hooks.test_begin:
                cbs.on_test_batch_begin(step, {})
            latest.logs = logs = test_step(pack_x_y_sample_weight(xb, yb, swb))
            cbs.on_test_batch_end(step, python_logs(logs) if hooks.test_end else {})
    logs = model._running_logs()
    cbs.on_test_end(logs)
    return logs


# ---------------------------------------------------------------------------- evaluate
def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None, return_dict=False, workers=1,
             use_multiprocessing=False, **kwargs):
    """Evaluates `model` (see `Model.evaluate`)."""
    _check_kwargs(kwargs, "evaluate")
    _require_compiled(model, "evaluating")
    source = _source(model, x, y, sample_weight, _check_batch_size(batch_size), steps=steps,
                     workers=workers, use_multiprocessing=use_multiprocessing, once=True)
    n_steps = min(steps, len(source)) if steps and len(source) else (steps or len(source))
    cbs, user_cbs, _ = _callbacks(model, callbacks, _verbosity(verbose), 1, n_steps, False)
    with _numerics(model):
        logs = _test_loop(model, source, cbs, _Hooks(user_cbs), steps)
    return _format_logs(logs, return_dict)


def _format_logs(logs, return_dict):
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


# ---------------------------------------------------------------------------- predict
def predict(model, x, batch_size=None, verbose=0, steps=None, callbacks=None, workers=1,
            use_multiprocessing=False, **kwargs):
    """Returns the outputs of `model` on `x` as numpy, computed in batches."""
    _check_kwargs(kwargs, "predict")
    if _one_quiet_batch(model, x, _check_batch_size(batch_size), steps, callbacks, verbose):
        return _predict_one_batch(model, x)
    source = _source(model, x, None, None, _check_batch_size(batch_size), steps=steps,
                     workers=workers, use_multiprocessing=use_multiprocessing, needs_y=False,
                     once=True)
    batches = source.epoch()
    if steps is not None and isinstance(source, ArrayBatches):
        batches = itertools.islice(batches, steps)
    n_steps = min(steps, len(source)) if steps and len(source) else (steps or len(source))
    cbs, _, _ = _callbacks(model, callbacks, _verbosity(verbose, 0), 1, n_steps, False)
    outputs = []
    cbs.on_predict_begin()
    predict_step = model.predict_step
    with _numerics(model), torch.no_grad():
        for step, (xb, _, _) in enumerate(batches):
            cbs.on_predict_batch_begin(step, {})
            outputs.append(predict_step(pack_x_y_sample_weight(xb)))
            cbs.on_predict_batch_end(step, {})
    cbs.on_predict_end()
    if isinstance(outputs[0], (list, tuple)):
        return [torch.cat(parts).cpu().numpy() for parts in zip(*outputs)]
    return torch.cat(outputs).cpu().numpy()


def _one_quiet_batch(model, x, batch_size, steps, callbacks, verbose):
    """The text-generation loop's case: one numeric numpy array that fits in one batch for
    a one-input model, and nothing watching (no callbacks, no progress bar)."""
    return (type(x) is np.ndarray and x.ndim > 1 and x.dtype.kind in "biuf"
            and 0 < len(x) <= batch_size and steps is None and not callbacks
            and _verbosity(verbose, 0) == 0 and len(model.input_names) == 1)


def _predict_one_batch(model, x):
    """`predict` without a batch source and callbacks (half of its cost on one sample);
    the same conversion, checks and numerics, so the same numbers."""
    xb = data_adapter.to_array(x, "x", lazy=True).rows(0, len(x))
    preflight(model, xb)
    with _numerics(model), torch.no_grad():
        return _to_numpy(model.predict_step(
            pack_x_y_sample_weight(xb.to(config.device(), non_blocking=True))))


def _to_numpy(outputs):
    if isinstance(outputs, (list, tuple)):
        return [o.cpu().numpy() for o in outputs]
    return outputs.cpu().numpy()


# ---------------------------------------------------------------------------- on_batch
def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None,
                   reset_metrics=True, return_dict=False):
    """One training step on one batch (see `Model.train_on_batch`)."""
    _require_compiled(model, "training")
    x, y, sample_weight = _convert(model, x, y, sample_weight)
    preflight(model, x, y)
    table = _class_table(model, data_adapter.shape_of(x), class_weight)
    sample_weight = _class_weights(y, table, sample_weight)
    xb, yb, swb = _whole_batch(x, y, sample_weight)
    if reset_metrics:
        model.reset_metrics()
    with _numerics(model):
        logs = model.train_step(pack_x_y_sample_weight(xb, yb, swb))
    return _format_logs(python_logs(logs), return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, reset_metrics=True,
                  return_dict=False):
    """Evaluates one batch (see `Model.test_on_batch`)."""
    _require_compiled(model, "evaluating")
    x, y, sample_weight = _convert(model, x, y, sample_weight)
    preflight(model, x, y)
    xb, yb, swb = _whole_batch(x, y, sample_weight)
    if reset_metrics:
        model.reset_metrics()
    with _numerics(model), torch.no_grad():
        logs = model.test_step(pack_x_y_sample_weight(xb, yb, swb))
    return _format_logs(python_logs(logs), return_dict)


def _whole_batch(x, y=None, sample_weight=None):
    """The converted arrays as one device batch."""
    n = data_adapter.num_samples(x[0] if isinstance(x, list) else x)
    return next(iter(ArrayBatches(x, y, sample_weight, batch_size=n)))


def predict_on_batch(model, x):
    """Outputs for one batch as numpy."""
    x = data_adapter.expand_rank1(to_arrays(x, model.input_names, "x"), _input_shapes(model))
    preflight(model, x)
    xb, _, _ = _whole_batch(x)
    with torch.no_grad():
        return _to_numpy(model.predict_step(pack_x_y_sample_weight(xb)))
