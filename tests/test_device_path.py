"""The device path: no host synchronisation per step, batches go where the model is, and
pinned non-blocking copies exactly when a CPU batch goes to CUDA.

Host synchronisations are counted with a `TorchFunctionMode` that sees every Python-level
call which makes the host wait for the device: `Tensor.item / cpu / numpy / tolist`, the
`__bool__ / __float__ / __int__ / __index__` conversions (an `if tensor:`), and the
operations whose output shape depends on the values (`nonzero`, `masked_select`,
`unique`, boolean-mask indexing). On a CPU these cost nothing, but on CUDA each one stops
the host from queueing the next step while the device computes. A quiet `fit` must do
the same number of them for 10 steps as for 30 (its per-epoch reads only); with a
progress bar, at most one read of the logs per redraw on top.

One per-batch read is by design and counted apart: on the CPU, arrays not checked for
NaN / inf as a whole are checked batch by batch during the first pass
(`convert.check_batch`, free there: no device to wait for); on any other device the
`ArrayAdapter` checks each array once where it lands, before the first step. Another is
pinned as it is: `mixed_float16`'s loss-scale check reads one flag per step (as
`torch.amp.GradScaler`). Not covered here: reads inside layers (`Embedding`'s index range
check, masked RNNs' packed lengths), and `.to('cpu')` copies (on a CPU-only machine they
cannot be told from the batches' own `.to(device)`).
"""

import collections
import io
import sys

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

from layerkit import config, devices, layers, mixed_precision, models
from layerkit.training import convert
from layerkit.training.compiled import python_logs
from layerkit.utils import progbar as progbar_module
from layerkit.utils.sequence import Sequence
from test_custom_step import basic_train_step  # the Keras guide's step

BATCH = 8


@pytest.fixture(autouse=True)
def _on_cpu():
    """Every test here computes on the CPU (also on a machine with CUDA), then the
    device setting goes back to what it was."""
    previous = config.device()
    config.set_device("cpu")
    yield
    config.set_device(previous)


SYNCING = {
    torch.Tensor.item, torch.Tensor.cpu, torch.Tensor.numpy, torch.Tensor.tolist,
    torch.Tensor.__bool__, torch.Tensor.__float__, torch.Tensor.__int__,
    torch.Tensor.__index__, torch.nonzero, torch.Tensor.nonzero, torch.argwhere,
    torch.Tensor.argwhere, torch.masked_select, torch.Tensor.masked_select, torch.unique,
    torch.Tensor.unique,
}


class SyncCounter(TorchFunctionMode):
    """Counts calls that synchronise the host with the device, by function name."""

    def __init__(self):
        super().__init__()
        self.calls = collections.Counter()
        self.cpu_input_checks = 0  # reads inside convert.check_batch (CPU only, see above)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in SYNCING or _mask_indexing(func, args):
            if _inside(convert.check_batch, args):
                self.cpu_input_checks += 1
            else:
                self.calls[getattr(func, "__name__", repr(func))] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self):
        return sum(self.calls.values())


def _inside(function, args):
    """Whether the call comes from `function` (a few frames up) on CPU tensors."""
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code is function.__code__:
            return all(a.device.type == "cpu" for a in args if isinstance(a, torch.Tensor))
        frame = frame.f_back
    return False


def _mask_indexing(func, args):
    if func not in (torch.Tensor.__getitem__, torch.Tensor.__setitem__) or len(args) < 2:
        return False
    index = args[1] if isinstance(args[1], tuple) else (args[1],)
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in index)


# ---------------------------------------------------------------------------- models
def _classifier():
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                               layers.Dropout(0.25), layers.BatchNormalization(),
                               layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"],
                  weighted_metrics=["sparse_categorical_accuracy"])
    return model


class _GuideStep(models.Sequential):
    """Keras's guide "Customizing what happens in fit()": its train_step, torch idiom."""

    train_step = basic_train_step


def _custom_step():
    model = _GuideStep([layers.Dense(8, activation="relu", input_shape=(4,)),
                        layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _jit():
    model = _deterministic()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=True)
    return model


def _mixed(policy):
    def build():
        mixed_precision.set_global_policy(policy)
        try:
            return _deterministic()
        finally:
            mixed_precision.set_global_policy("float32")
    return build


def _convnet():
    model = models.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", metrics=["acc", "AUC", "Precision"])
    return model


def _two_outputs():
    inputs = layers.Input((4,))
    hidden = layers.Dense(6, activation="relu")(inputs)
    a = layers.Dense(1, name="a")(hidden)
    b = layers.Dense(2, activation="softmax", name="b")(hidden)
    model = models.Model(inputs, [a, b])
    model.compile("sgd", ["mse", "sparse_categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy"]], loss_weights=[1.0, 0.5])
    return model


def _data(kind, n, rs):
    if kind == "convnet":
        return rs.rand(n, 8, 8, 1).astype("float32"), rs.randint(0, 2, (n, 1)).astype(
            "float32")
    x = rs.rand(n, 4).astype("float32")
    if kind == "two_outputs":
        return x, [rs.rand(n, 1).astype("float32"), rs.randint(0, 2, n)]
    return x, rs.randint(0, 3, n)


class _Batches(Sequence):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // BATCH

    def __getitem__(self, i):
        return self.x[i * BATCH:(i + 1) * BATCH], self.y[i * BATCH:(i + 1) * BATCH]


def _forever(x, y):
    while True:
        yield from _Batches(x, y)


MODELS = {"classifier": _classifier, "convnet": _convnet, "two_outputs": _two_outputs,
          "custom_step": _custom_step, "jit": _jit, "bfloat16": _mixed("mixed_bfloat16"),
          "float16": _mixed("mixed_float16")}
CASES = {  # name: (model, fit options as a function of (x, y, rs))
    "arrays": ("classifier", lambda x, y, rs: {}),
    "no_shuffle": ("classifier", lambda x, y, rs: {"shuffle": False}),
    "batch_shuffle": ("classifier", lambda x, y, rs: {"shuffle": "batch"}),
    "weights": ("classifier", lambda x, y, rs: {
        "class_weight": {0: 1.0, 1: 2.0, 2: 0.5},
        "sample_weight": rs.rand(len(x)).astype("float32")}),
    "validation": ("classifier", lambda x, y, rs: {"validation_data": (x, y)}),
    "validation_split": ("classifier", lambda x, y, rs: {"validation_split": 0.25}),
    "sequence": ("classifier", lambda x, y, rs: {"x": _Batches(x, y), "y": None}),
    "generator": ("classifier", lambda x, y, rs: {
        "x": _forever(x, y), "y": None, "steps_per_epoch": len(x) // BATCH}),
    "convnet": ("convnet", lambda x, y, rs: {}),
    "two_outputs": ("two_outputs", lambda x, y, rs: {}),
    "custom_step": ("custom_step", lambda x, y, rs: {}),
    "verbose_2": ("classifier", lambda x, y, rs: {"verbose": 2}),  # one line per epoch
    "jit_compile": ("jit", lambda x, y, rs: {}),  # the captured train step
    "mixed_bfloat16": ("bfloat16", lambda x, y, rs: {}),
    "mixed_float16": ("float16", lambda x, y, rs: {}),  # one read per step, see below
}
SYNC_FREE = sorted(set(CASES) - {"mixed_float16"})


def _counted_fit(case, steps, verbose=0, epochs=1):
    """Fits a fresh model of `case` on `steps` batches per epoch (after one warm-up fit
    that builds everything); returns the SyncCounter of the measured fit."""
    kind, options = CASES[case]
    rs = np.random.RandomState(0)
    model = MODELS[kind]()
    x, y = _data(kind, steps * BATCH, rs)
    warm_x, warm_y = _data(kind, 2 * BATCH, rs)
    model.fit(warm_x, warm_y, batch_size=BATCH, verbose=0)
    arguments = {"x": x, "y": y, "batch_size": BATCH, "epochs": epochs, "verbose": verbose}
    arguments.update(options(x, y, rs))
    with SyncCounter() as counter:
        model.fit(**arguments)
    return counter


@pytest.mark.parametrize("case", SYNC_FREE)
def test_quiet_fit_does_not_synchronise_per_step(case):
    short, long = _counted_fit(case, 10), _counted_fit(case, 30)
    assert long.calls == short.calls, (case, short.calls, long.calls)
    assert short.total <= 20  # the epoch's end: logs, History, the RNG snapshot
    assert long.cpu_input_checks <= 2 * 30  # first pass of x and of validation x only


def test_cpu_input_checks_stop_after_the_first_pass():
    one, three = _counted_fit("arrays", 10), _counted_fit("arrays", 10, epochs=3)
    assert three.cpu_input_checks == one.cpu_input_checks


def test_mixed_float16_reads_its_loss_scale_check_once_per_step():
    """Keras 3's dynamic loss scale skips a step whose gradients are not finite: deciding
    it on the host reads one flag per step, as `torch.amp.GradScaler` does; nothing else."""
    short, long = _counted_fit("mixed_float16", 10), _counted_fit("mixed_float16", 30)
    assert long.calls - short.calls == {"item": 20}


def test_quiet_fit_synchronises_per_epoch_only():
    one, three = _counted_fit("arrays", 10), _counted_fit("arrays", 10, epochs=3)
    per_epoch = (three.total - one.total) / 2
    assert 0 < per_epoch <= one.total, (one.calls, three.calls)
    assert _counted_fit("arrays", 30, epochs=3).calls == three.calls


def test_quiet_evaluate_and_predict_do_not_synchronise_per_step():
    counts = []
    for steps in (10, 30):
        model = _classifier()
        x, y = _data("classifier", steps * BATCH, np.random.RandomState(1))
        model.fit(x[:BATCH], y[:BATCH], verbose=0)
        with SyncCounter() as counter:
            model.evaluate(x, y, batch_size=BATCH, verbose=0)
            model.predict(x, batch_size=BATCH)
        counts.append(counter.calls)
    assert counts[0] == counts[1]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class _Clock:
    """progbar's `time`: each reading moves `tick` seconds on (deterministic redraws)."""

    def __init__(self, tick):
        self.now, self.tick = 1000.0, tick

    def time(self):
        self.now += self.tick
        return self.now


@pytest.mark.parametrize("tick", [0.0, 0.04, 1.0])
def test_progress_bar_reads_the_logs_only_when_it_redraws(monkeypatch, tick):
    """On a terminal the bar redraws at most every 0.1 s: with a clock that never moves
    it redraws only at the first step, with 1 s per reading at every step. Each redraw
    reads the logs once: the synchronisations beyond a quiet fit are at most one read
    (loss and metrics in one transfer) per redraw. Off a terminal it draws the final
    line only."""
    quiet = _counted_fit("arrays", 30).total
    reads_per_redraw = 1  # Compiled.results: the loss sums and metrics in one transfer
    stream = _Terminal()
    monkeypatch.setattr("sys.stdout", stream)
    monkeypatch.setattr(progbar_module, "time", _Clock(tick))
    counter = _counted_fit("arrays", 30, verbose=1)
    redraws = stream.getvalue().count("\r") - 1  # the epoch's final line is always drawn
    assert 0 <= counter.total - quiet <= reads_per_redraw * redraws, (counter.calls, redraws)
    if tick == 0.0:  # the first step draws (as tf.keras), then the clock stands still
        assert redraws == 1 and counter.total == quiet + reads_per_redraw
    if tick == 1.0:
        assert redraws >= 28


@pytest.mark.parametrize("kind", ["classifier", "convnet", "two_outputs"])
def test_reading_the_logs_is_one_transfer(kind):
    """The loss sums and every metric (AUC and Precision included) come back together."""
    model = MODELS[kind]()
    x, y = _data(kind, 2 * BATCH, np.random.RandomState(4))
    model.fit(x, y, batch_size=BATCH, verbose=0)
    with SyncCounter() as counter:
        logs = python_logs(model.step_logs)
    assert counter.calls == {"tolist": 1}
    assert set(logs) == set(model.history.history)
    assert [logs[k] for k in sorted(logs)] == [model.history.history[k][-1]
                                               for k in sorted(logs)]


# ---------------------------------------------------------------------------- devices


def test_default_device_is_cuda_when_torch_sees_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    config.set_device(None)
    assert config.device() == torch.device("cuda")
    config.set_device("cpu")
    assert config.device() == torch.device("cpu")
    config.set_device(torch.device("cuda", 1))
    assert config.device() == torch.device("cuda", 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config.set_device(None)
    assert config.device() == torch.device("cpu")


def test_model_device_is_where_the_weights_are():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    assert devices.model_device(model) == torch.device("cpu")
    config.set_device("meta")  # config says meta; the built model's weights say cpu
    assert devices.model_device(model) == torch.device("cpu")
    unbuilt = models.Sequential([layers.Dense(2)])
    assert devices.model_device(unbuilt) == torch.device("meta")  # where it will build


def _fit_everything(model, x, y):
    """Every route a batch takes to the device; returns the numbers it produced."""
    torch.manual_seed(5)  # the same dropout masks and shuffles for both models
    np.random.seed(5)
    history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, shuffle=False,
                        validation_split=0.25)
    numbers = [history.history[k] for k in sorted(history.history)]
    numbers.append(model.fit(_forever(x, y), steps_per_epoch=3, verbose=0).history["loss"])
    numbers.append(model.evaluate(x, y, batch_size=BATCH, verbose=0))
    numbers.append(model.predict(x, batch_size=BATCH))
    numbers.append(model.predict(x[:2]))
    numbers.append(model.train_on_batch(x, y))
    numbers.append(model.predict_on_batch(x[:3]))
    return numbers


def test_batches_follow_the_model_not_the_config():
    """A model whose weights are on the CPU trains there even when `config.device()` says
    otherwise (what `model.to(...)` after building does): every data route sends its
    batches to the model's device. The `meta` device stands for the other device a
    CPU-only machine lacks; a batch sent there would fail at the first step."""
    rs = np.random.RandomState(2)
    x, y = _data("classifier", 4 * BATCH, rs)
    reference, moved = _classifier(), _classifier()
    moved.set_weights(reference.get_weights())
    expected = _fit_everything(reference, x, y)
    config.set_device("meta")
    received = _fit_everything(moved, x, y)
    for a, b in zip(expected, received):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(reference.get_weights(), moved.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_lazy_and_streamed_batches_go_through_to_device(monkeypatch):
    """Batches copied per step (a stream's, evaluate's numpy x read once) take
    `devices.to_device` to the model's device; arrays already moved whole do not."""
    seen = []
    real = devices.to_device

    def recording(tensor, device):
        seen.append((tuple(tensor.shape), torch.device(device)))
        return real(tensor, device)

    monkeypatch.setattr(devices, "to_device", recording)
    model = _classifier()
    x, y = _data("classifier", 3 * BATCH, np.random.RandomState(3))
    model.fit(x, y, batch_size=BATCH, verbose=0)
    assert seen == []
    model.fit(_Batches(x, y), verbose=0)
    assert seen == [((BATCH, 4), torch.device("cpu")), ((BATCH,), torch.device("cpu"))] * 4
    del seen[:]  # 3 batches + the first, read once for the checks
    model.evaluate(x, y, batch_size=BATCH, verbose=0)
    assert seen == [((BATCH, 4), torch.device("cpu"))] * 3


# ---------------------------------------------------------------------------- transfers
@pytest.mark.parametrize("source, target, plan", [
    ("cpu", "cuda", (True, True)),
    ("cpu", "cuda:1", (True, True)),
    ("cpu", "cpu", (False, False)),
    ("cpu", "meta", (False, False)),
    ("cuda", "cuda", (False, False)),
    ("cuda:0", "cuda:1", (False, False)),
    ("cuda", "cpu", (False, False)),
])
def test_transfer_plan_pins_and_overlaps_exactly_from_cpu_to_cuda(source, target, plan):
    assert devices.transfer_plan(torch.device(source), torch.device(target)) == plan


class _HostBatch:
    """Stands in for a CPU tensor on its way to CUDA (this machine has none): records
    what `to_device` asks of it."""

    def __init__(self, pinned=False):
        self.device = torch.device("cpu")
        self.pinned = pinned
        self.calls = []

    def is_pinned(self):
        return self.pinned

    def pin_memory(self):
        self.calls.append("pin_memory")
        return _HostBatch(pinned=True)

    def to(self, device, non_blocking=False):
        self.calls.append(("to", device, non_blocking))
        return self


@pytest.mark.parametrize("pinned", [False, True])
def test_to_device_pins_then_copies_non_blocking_to_cuda(pinned):
    batch = _HostBatch(pinned)
    moved = devices.to_device(batch, "cuda")
    expected = [("to", torch.device("cuda"), True)]
    if pinned:
        assert batch.calls == expected
    else:  # the pinned copy is the one sent
        assert batch.calls == ["pin_memory"] and moved.calls == expected


def test_to_device_on_the_same_device_is_the_tensor_itself(monkeypatch):
    def no_pinning(self):
        raise AssertionError("pinned a tensor that stays on the CPU")

    monkeypatch.setattr(torch.Tensor, "pin_memory", no_pinning)
    tensor = torch.arange(6.0)
    assert devices.to_device(tensor, torch.device("cpu")) is tensor
    on_meta = devices.to_device(tensor, "meta")
    assert on_meta.device.type == "meta" and on_meta.shape == tensor.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_batches_arrive_and_fit_matches_the_cpu():
    host = torch.arange(12.0).reshape(3, 4)
    moved = devices.to_device(host, "cuda")
    assert moved.device.type == "cuda" and torch.equal(moved.cpu(), host)
    rs = np.random.RandomState(6)
    x, y = _data("classifier", 4 * BATCH, rs)
    on_cpu = _deterministic()
    config.set_device("cuda")
    on_cuda = _deterministic()
    on_cuda.set_weights(on_cpu.get_weights())
    assert devices.model_device(on_cuda).type == "cuda"
    for model in (on_cpu, on_cuda):  # no dropout: CUDA draws other random numbers
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(on_cpu.get_weights(), on_cuda.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _deterministic():
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                               layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
