"""The training engine: the only place that runs loops and orders callbacks.

Who owns what:
- `fit`, `evaluate` and `predict` (here) check their own arguments, turn each data argument
  into one `EpochIterator` before the first step, then loop over epochs and batches calling
  the model's `train_step(data)` / `test_step(data)` / `predict_step(data)` (`data`: what
  the iterator yields, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; a step returns its
  logs, the built-in ones lazily) and the callbacks in tf.keras order (ProgbarLogger
  first, user callbacks, History last).
- The `EpochIterator` owns the data: its form, checks, steps, shuffling, class and sample
  weights, the validation split and skipping the batches a resumed epoch already trained.
- A `TrainingState` (one per call) says where training stands; the trainer keeps it
  current and hands it to the callbacks, which checkpoint and resume through its public
  `snapshot()` / `restore()`.
- Under a strategy with several processes, `layerkit.distribute.data_parallel` shards both
  iterators, routes the steps through DDP, reduces the epoch's logs and agrees on
  `stop_training` after batches and epochs (four calls below); the loop is the same loop.
- The model owns its step, its running means (numbers are pulled from the device only at
  epoch ends, when the progress bar redraws, or when a user callback asks for batch logs).

The trainer works on any compiled model with the step contract; it imports nothing from
`models`, `callbacks` or `saving`.
"""

import contextlib

import numpy as np
import torch

from .. import config, devices
from ..utils import keras1_args
from .callback import CallbackList
from .compiled import python_logs
from .epoch_iterator import EpochIterator, one_array_batch, one_batch
from .history import History
from .progbar_logger import ProgbarLogger
from .state import TrainingState

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


def _check_epochs(epochs, initial_epoch):
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, received {epochs!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or not 0 <= initial_epoch <= epochs:
        raise ValueError(
            f"initial_epoch must be an integer between 0 and epochs={epochs}, received "
            f"{initial_epoch!r}"
        )


def _verbosity(verbose, default=1):
    if verbose == "auto":
        return default
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)


@contextlib.contextmanager
def _numerics(model):
    """For the duration of a loop on CPU: flushes denormals (see config.flush_denormal)
    and keeps freed memory in the heap (config.keep_cpu_heap)."""
    policy = config.flush_denormal()
    if policy == "auto":
        policy = any(getattr(m, "denormal_prone", False) for m in model.modules())
    # one intra-op thread is the calling thread: no pool to reach (saves a pool call per
    # predict in the text-generation loop)
    on_cpu = devices.model_device(model).type == "cpu"  # where it computes (model.to)
    with config.denormals_flushed(bool(policy) and on_cpu,
                                  all_threads=torch.get_num_threads() > 1), \
            config.cpu_heap_kept(on_cpu and config.keep_cpu_heap()):
        yield


def _callbacks(model, callbacks, verbose, epochs, steps, state, with_history):
    user = list(callbacks or [])
    progbar = [ProgbarLogger()] if verbose and not any(isinstance(c, ProgbarLogger)
                                                       for c in user) else []
    history = History() if with_history else None
    all_cbs = progbar + user + ([history] if history else [])
    cbs = CallbackList(all_cbs, model=model,
                       params={"verbose": verbose, "epochs": epochs, "steps": steps},
                       training_state=state)
    return cbs, history


class _Hooks:
    """Which batch hooks some user callback overrides (only those get batch logs)."""

    def __init__(self, callbacks):
        user_cbs = CallbackList(list(callbacks or []))
        self.train_begin = user_cbs.wants_batch_hooks("on_train_batch_begin") or \
            user_cbs.wants_batch_hooks("on_batch_begin")
        self.train_end = user_cbs.wants_batch_hooks("on_train_batch_end") or \
            user_cbs.wants_batch_hooks("on_batch_end")
        self.test_begin = user_cbs.wants_batch_hooks("on_test_batch_begin")
        self.test_end = user_cbs.wants_batch_hooks("on_test_batch_end")


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
    _check_epochs(epochs, initial_epoch)
    verbose = _verbosity(verbose)
    train = EpochIterator(
        model, x, y, sample_weight, batch_size=batch_size, steps=steps_per_epoch,
        shuffle=shuffle, class_weight=class_weight,
        validation_split=validation_split if validation_data is None else 0.0,
        workers=workers, use_multiprocessing=use_multiprocessing)
    val = train.validation_iterator(
        validation_data, _check_batch_size(validation_batch_size or batch_size),
        validation_steps)
    hooks = _Hooks(callbacks)  # before a strategy trims them: alike on every rank
    parallel = _data_parallel(model, training=True)  # None in one process
    if parallel is not None:
        train, val = parallel.iterator(train, training=True), parallel.iterator(val)
        verbose, callbacks = parallel.verbose(verbose), parallel.callbacks(callbacks)
    state = TrainingState(model, parallel.generators() if parallel is not None else None)
    cbs, history = _callbacks(model, callbacks, verbose, epochs, train.num_batches, state,
                              True)
    model.trainable_weights_at_compile()  # builds the optimizer before callbacks restore it
    model.stop_training = False
    with _numerics(model):
        _epochs(model, train, val, cbs, hooks, state, range(initial_epoch, epochs),
                validation_freq, parallel)
    if parallel is not None:
        parallel.close()
    history.model = model
    model.history = history
    return history


def _epochs(model, train, val, cbs, hooks, state, epochs, validation_freq, parallel):
    """The epochs of `fit`, from `on_train_begin` to `on_train_end`; a snapshot that a
    callback restored in `on_train_begin` moves the start to its epoch and batch."""
    cbs.on_train_begin()
    resumed = state.take_restored()
    if resumed is not None:
        epochs = range(resumed.epoch, epochs.stop)
    logs = {}
    for epoch in epochs:
        logs = _train_epoch(model, epoch, train, cbs, hooks, state, parallel,
                            resumed if resumed is not None and epoch == resumed.epoch else None)
        train.on_epoch_end()
        if val is not None and _should_validate(epoch, validation_freq):
            val_logs = _test_loop(model, val, cbs, hooks, state)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        state.end_epoch()
        cbs.on_epoch_end(epoch, logs)
        if parallel is not None:  # early stopping on one rank stops them all
            model.stop_training = parallel.should_stop(model.stop_training)
        if model.stop_training:
            break
    cbs.on_train_end(logs)


def _data_parallel(model, training):
    """The strategy's `DataParallel` when `model` trains under one spanning several
    processes, else None (imported on the first fit: `import layerkit` does not load it)."""
    from ..distribute.data_parallel import data_parallel

    return data_parallel(model, training)


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _train_epoch(model, epoch, iterator, cbs, hooks, state, parallel, resumed=None):
    """One epoch of training steps; returns its logs. In the epoch a snapshot `resumed`
    points into, the batches it already trained are skipped. Under data parallelism every
    rank stops at the same batch (`parallel.end_train_batch`)."""
    model.reset_metrics()
    state.begin_epoch(epoch)
    cbs.on_epoch_begin(epoch)
    batches = iterator.enumerate_epoch(skip=resumed.step if resumed is not None else 0)
    if resumed is not None and resumed.step:
        state.continue_epoch(resumed)
    train_step = model.train_step  # the step: one lookup per epoch
    for step, data in batches:
        if hooks.train_begin:
            cbs.on_train_batch_begin(step, {})
        state.latest_logs = logs = train_step(data)
        state.step = step + 1
        cbs.on_train_batch_end(step, python_logs(logs) if hooks.train_end else {})
        if parallel is not None:
            model.stop_training = parallel.end_train_batch(
                model.stop_training, hooks.train_begin or hooks.train_end)
        if model.stop_training:
            break
    return _epoch_logs(model, state)


def _epoch_logs(model, state):
    """The latest step's logs as floats; without a step (an epoch resumed at its end), the
    built-in step's running means."""
    return python_logs(state.latest_logs if state.latest_logs is not None
                       else model.step_logs)


def _test_loop(model, iterator, cbs, hooks, state):
    model.reset_metrics()
    cbs.on_test_begin()
    test_step = model.test_step
    state.latest_logs = None
    with torch.no_grad():
        for step, data in iterator.enumerate_epoch():
            if hooks.test_begin:
                cbs.on_test_batch_begin(step, {})
            state.latest_logs = logs = test_step(data)
            cbs.on_test_batch_end(step, python_logs(logs) if hooks.test_end else {})
    logs = _epoch_logs(model, state)
    cbs.on_test_end(logs)
    return logs


# ---------------------------------------------------------------------------- evaluate
def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None, return_dict=False, workers=1,
             use_multiprocessing=False, **kwargs):
    """Evaluates `model` (see `Model.evaluate`)."""
    _check_kwargs(kwargs, "evaluate")
    _require_compiled(model, "evaluating")
    iterator = EpochIterator(model, x, y, sample_weight, batch_size=_check_batch_size(batch_size),
                             steps=steps, continues=False, lazy=True, workers=workers,
                             use_multiprocessing=use_multiprocessing)
    parallel = _data_parallel(model, training=False)
    if parallel is not None:
        iterator, verbose = parallel.iterator(iterator), parallel.verbose(verbose)
        callbacks = parallel.callbacks(callbacks)
    state = TrainingState(model)
    cbs, _ = _callbacks(model, callbacks, _verbosity(verbose), 1, iterator.num_batches, state,
                        False)
    with _numerics(model):
        logs = _test_loop(model, iterator, cbs, _Hooks(callbacks), state)
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
    batch_size = _check_batch_size(batch_size)
    if _one_quiet_batch(model, x, batch_size, steps, callbacks, verbose):
        return _predict_one_batch(model, x)
    iterator = EpochIterator(model, x, batch_size=batch_size, steps=steps, continues=False,
                             lazy=True, inputs_only=True, workers=workers,
                             use_multiprocessing=use_multiprocessing)
    parallel = _data_parallel(model, training=False)
    if parallel is not None:
        iterator = parallel.iterator(iterator, predicting=True)
        verbose, callbacks = parallel.verbose(verbose), parallel.callbacks(callbacks)
    state = TrainingState(model)
    cbs, _ = _callbacks(model, callbacks, _verbosity(verbose, 0), 1, iterator.num_batches,
                        state, False)
    outputs = []
    cbs.on_predict_begin()
    predict_step = model.predict_step
    with _numerics(model), torch.no_grad():
        for step, data in iterator.enumerate_epoch():
            cbs.on_predict_batch_begin(step, {})
            outputs.append(predict_step(data))
            cbs.on_predict_batch_end(step, {})
    cbs.on_predict_end()
    if parallel is not None:  # every rank's parts, in the input's order
        outputs = parallel.gather(outputs)
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
    """`predict` without an epoch iterator and callbacks (half of its cost on one sample);
    the same conversion, checks and numerics, so the same numbers."""
    data = one_array_batch(model, x)
    with _numerics(model), torch.no_grad():
        return _to_numpy(model.predict_step(data))


def _to_numpy(outputs):
    if isinstance(outputs, (list, tuple)):
        return [o.cpu().numpy() for o in outputs]
    return outputs.cpu().numpy()


# ---------------------------------------------------------------------------- on_batch
def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None,
                   reset_metrics=True, return_dict=False):
    """One training step on one batch (see `Model.train_on_batch`)."""
    _require_compiled(model, "training")
    data = one_batch(model, x, y, sample_weight, class_weight)
    if reset_metrics:
        model.reset_metrics()
    with _numerics(model):
        logs = model.train_step(data)
    return _format_logs(python_logs(logs), return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, reset_metrics=True,
                  return_dict=False):
    """Evaluates one batch (see `Model.test_on_batch`)."""
    _require_compiled(model, "evaluating")
    data = one_batch(model, x, y, sample_weight)
    if reset_metrics:
        model.reset_metrics()
    with _numerics(model), torch.no_grad():
        logs = model.test_step(data)
    return _format_logs(python_logs(logs), return_dict)


def predict_on_batch(model, x):
    """Outputs for one batch as numpy."""
    data = one_batch(model, x)
    with torch.no_grad():
        return _to_numpy(model.predict_step(data))
