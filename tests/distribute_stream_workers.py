"""Functions the distributed stream tests run on each rank (and, without a strategy, in the
test process as the single-process reference). Every worker uses one thread, float64.

The streams yield *global* batches of 32 and are alike on every rank (same data, same seeds);
the mismatch cases make them differ on purpose.
"""

import contextlib
import math

import numpy as np
import torch

from distribute_workers import build_model, dataset
from layerkit.utils import Sequence

SIZES, EPOCHS, BATCH = (64, 65, 70), 3, 32
FORMS = ("generator", "sequence", "dataloader")
VAL_N, VAL_BATCH, VAL_STEPS = 20, 8, 3
STOP_EPOCH, STOP_BATCH = 1, 2


def endless(x, y, w, batch):
    """A generator of (x, y, w) batches over the data, forever (fit with steps_per_epoch)."""
    while True:
        yield from one_pass(x, y, w, batch)


def one_pass(x, y=None, w=None, batch=BATCH):
    """A generator of one pass over the data: its length is unknown to the engine."""
    for start in range(0, len(x), batch):
        part = slice(start, start + batch)
        yield x[part] if y is None else (x[part], y[part], w[part])


class Batches(Sequence):
    """(x, y, w) batches by index (x alone without y); with `reshuffle`, the sample order is
    shuffled at each epoch's end with numpy's global generator (tf.keras's habit)."""

    def __init__(self, x, y=None, w=None, batch=BATCH, reshuffle=False):
        self.x, self.y, self.w, self.batch = x, y, w, batch
        self.order = np.arange(len(x))
        self.reshuffle = reshuffle

    def __len__(self):
        return math.ceil(len(self.x) / self.batch)

    def __getitem__(self, index):
        rows = self.order[index * self.batch:(index + 1) * self.batch]
        if self.y is None:
            return self.x[rows]
        return self.x[rows], self.y[rows], self.w[rows]

    def on_epoch_end(self):
        if self.reshuffle:
            np.random.shuffle(self.order)


def stream(form, n):
    """The training stream of `form` over `dataset(n)` and the fit arguments it goes with:
    an endless generator with steps_per_epoch (SGD), a Sequence shuffled by fit and by its
    own on_epoch_end (Adam), a shuffled DataLoader with class weights (SGD)."""
    x, y, w = dataset(n)
    if form == "generator":
        return endless(x, y, w, BATCH), {"steps_per_epoch": math.ceil(n / BATCH)}, "sgd"
    if form == "sequence":
        return Batches(x, y, w, reshuffle=True), {"shuffle": True}, "adam"
    tensors = [torch.as_tensor(a) for a in (x, y, w)]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tensors),
                                         batch_size=BATCH, shuffle=True)
    return loader, {"class_weight": {0: 0.7, 1: 1.6}}, "sgd"


def _scope(strategy):
    return strategy.scope() if strategy else contextlib.nullcontext()


def fit_stream(form, n, strategy=None):
    """fit (fit_generator for the generator) for 3 epochs on a stream with sample weights in
    its batches and a validation generator (validation_steps), then evaluate on a one-pass
    generator (of unknown length).

    Returns:
        (History.history, final weights, evaluate's dict).
    """
    data, kwargs, optimizer = stream(form, n)
    with _scope(strategy):
        model = build_model(optimizer)
    torch.manual_seed(11)  # the shuffles' draws: alike in one process and on every rank
    np.random.seed(11)
    xv, yv, wv = dataset(VAL_N, seed=5)
    fit = model.fit_generator if form == "generator" else model.fit  # the Keras 2 spelling
    history = fit(data, epochs=EPOCHS, verbose=0,
                        validation_data=endless(xv, yv, wv, VAL_BATCH),
                        validation_steps=VAL_STEPS, **kwargs)
    x, y, w = dataset(n)
    evaluated = model.evaluate(one_pass(x, y, w), verbose=0, return_dict=True)
    return history.history, model.get_weights(), evaluated


def predict_sequence(strategy=None):
    """predict on a Sequence of x-only batches over 65 samples (a one-sample last batch)."""
    x, _, _ = dataset(65)
    with _scope(strategy):
        model = build_model()
    return model.predict(Batches(x), verbose=0)


def stop_at_batch(strategy=None):
    """fit on a Sequence (70 samples, batch 16: 5 batches an epoch) where a callback asks to
    stop after batch 2 of epoch 1: in one process, or on rank 1 only.

    Returns:
        (History.history, final weights, the (epoch, batch) of every batch this rank ended).
    """
    from layerkit import callbacks

    seen = []

    class StopOnRankOne(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            seen.append((self.epoch, batch))
            if (strategy is None or strategy.rank == 1) and \
                    (self.epoch, batch) == (STOP_EPOCH, STOP_BATCH):
                self.model.stop_training = True

    x, y, w = dataset(70)
    with _scope(strategy):
        model = build_model()
    history = model.fit(Batches(x, y, w, batch=16), epochs=EPOCHS, verbose=0,
                        callbacks=[StopOnRankOne()])
    return history.history, model.get_weights(), seen


def mismatches(strategy):
    """Streams that differ across ranks: each fit must raise the same clear ValueError on
    every rank (caught here, so the launch goes on). Returns the messages by case."""
    rank = strategy.rank
    x, y, w = dataset(96)
    cases = {
        # other values from batch 0 on: rank 1's generator is seeded differently
        "values": lambda: (endless(*dataset(64, seed=3 + rank), BATCH), {"steps_per_epoch": 2}),
        # other lengths: 2 batches on rank 0, 3 on rank 1
        "length": lambda: (Batches(x[:64 + 32 * rank], y, w), {}),
        # a one-pass generator that ends after 2 batches on rank 0, 3 on rank 1
        "end": lambda: (one_pass(x[:64 + 32 * rank], y, w), {}),
    }
    messages = {}
    for name, make in cases.items():
        with strategy.scope():
            model = build_model()
        data, kwargs = make()
        try:
            model.fit(data, epochs=1, verbose=0, **kwargs)
            messages[name] = None
        except ValueError as e:
            messages[name] = str(e)
    return messages


def stream_checks(strategy_timeout=60):
    """Everything the stream tests compare, on one rank."""
    torch.set_num_threads(1)
    from layerkit import config, distribute

    config.set_floatx("float64")
    strategy = distribute.MirroredStrategy(timeout=strategy_timeout)
    fits = {(form, n): fit_stream(form, n, strategy) for form in FORMS for n in SIZES}
    return {"fits": fits, "predict": predict_sequence(strategy),
            "stop": stop_at_batch(strategy), "mismatches": mismatches(strategy)}
