"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN and
TensorBoard: driven by scripted metric values with exact expected epochs, plus real fits."""

import csv
import math
import sys

import numpy as np
import pytest

from layerkit import layers, models, optimizers
from layerkit.callbacks import LambdaCallback
from layerkit.callbacks.csv_logger import CSVLogger
from layerkit.callbacks.early_stopping import EarlyStopping
from layerkit.callbacks.learning_rate_scheduler import LearningRateScheduler
from layerkit.callbacks.monitor import resolve_mode
from layerkit.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from layerkit.callbacks.terminate_on_nan import TerminateOnNaN

X = np.random.RandomState(0).rand(8, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def _model(lr=0.05):
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.set_weights([np.array([[0.1], [0.2], [-0.3]], "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


# ---------------------------------------------------------------------------- scripted driver
class FakeOptimizer:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


class FakeModel:
    """What the callbacks touch: stop_training, get/set_weights, optimizer.learning_rate.
    The weights are set to [epoch] at each epoch begin, so restored weights name the epoch."""

    def __init__(self, lr=1.0):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.array([-1.0])]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


def drive(callback, values, key="val_loss", model=None, extra=None):
    """Runs the fit hook sequence with logs {key: value}; returns (model, logs per epoch)."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.set_params({"verbose": 0, "epochs": len(values), "steps": 1})
    callback.on_train_begin({})
    all_logs = []
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_begin(epoch, {})
        logs = dict(extra or {})
        if value is not None:
            logs[key] = value
        callback.on_epoch_end(epoch, logs)
        all_logs.append(logs)
        if model.stop_training:
            break
    callback.on_train_end(all_logs[-1] if all_logs else {})
    return model, all_logs


def _epochs_run(callback, values, key="val_loss"):
    return len(drive(callback, values, key)[1])


# ---------------------------------------------------------------------------- monitor / mode
@pytest.mark.parametrize("monitor, mode, expected", [
    ("val_loss", "auto", "min"), ("loss", "auto", "min"), ("val_mae", "auto", "min"),
    ("val_acc", "auto", "max"), ("accuracy", "auto", "max"),
    ("val_sparse_categorical_accuracy", "auto", "max"), ("val_auc", "auto", "max"),
    ("precision", "auto", "max"), ("val_recall", "auto", "max"), ("f1_score", "auto", "max"),
    ("out_acc_loss", "auto", "min"), ("val_acc", "min", "min"), ("val_loss", "max", "max"),
], ids=lambda v: str(v))
def test_mode_resolution(monitor, mode, expected):
    assert resolve_mode("EarlyStopping", monitor, mode) == expected
    assert EarlyStopping(monitor=monitor, mode=mode).monitor_op == expected


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
def test_unknown_mode_is_an_error(cls):
    with pytest.raises(ValueError, match=r"mode='mx'.*'auto', 'min' or 'max'"):
        cls(mode="mx")


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
def test_missing_monitored_key_lists_available_keys(cls):
    with pytest.raises(ValueError, match=r"'val_los'.*\['loss', ('lr', )?'val_loss'\]"):
        drive(cls(monitor="val_los"), [0.5], extra={"loss": 1.0})


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
def test_missing_validation_warns_once_and_skips(cls):
    callback = cls(patience=0)
    with pytest.warns(UserWarning, match=r"ran no validation.*'val_loss'") as record:
        model, logs = drive(callback, [None, None, None], extra={"loss": 1.0})
    assert len([w for w in record if "ran no validation" in str(w.message)]) == 1
    assert len(logs) == 3 and not model.stop_training


# ---------------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize("kwargs, values, key, epochs_run", [
    # improve, improve, then 2 non-improving epochs: stop at the end of epoch index 3
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.96, 0.97], "val_loss", 4),
    ({"patience": 0}, [1.0, 0.9, 0.95, 0.96, 0.97], "val_loss", 3),
    ({"patience": 3}, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5], "val_loss", 5),
    ({"patience": 4}, [1.0, 0.9, 0.95, 0.96, 0.97], "val_loss", 5),
    ({"patience": 1}, [1.0, 0.9, 0.8, 0.7], "val_loss", 4),
    # an equal value is not an improvement; 'acc' is maximised
    ({"patience": 2}, [0.5, 0.6, 0.6, 0.55, 0.7], "val_acc", 4),
    ({"patience": 2, "mode": "min"}, [0.5, 0.6, 0.6, 0.55, 0.7], "val_acc", 3),
    ({"patience": 2, "mode": "max"}, [1.0, 0.9, 0.95, 0.96, 0.97], "val_loss", 3),
    # |min_delta|: 0.96 does not beat 1.0 by 0.05, 0.9 does, 0.88 and 0.87 do not beat 0.9
    ({"patience": 2, "min_delta": -0.05}, [1.0, 0.96, 0.9, 0.88, 0.87, 0.5], "loss", 5),
    ({"patience": 2, "min_delta": 0.05}, [1.0, 0.96, 0.9, 0.88, 0.87, 0.5], "loss", 5),
    ({"patience": 2}, [1.0, 0.96, 0.9, 0.88, 0.87, 0.5], "loss", 6),
    # baseline: epochs not beating it count against the patience from the start
    ({"patience": 2, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.4, 0.45], "val_loss", 2),
    ({"patience": 3, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.4, 0.45], "val_loss", 3),
    ({"patience": 4, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.4, 0.45, 0.46], "val_loss", 6),
    ({"patience": 2, "baseline": 0.5}, [0.6, 0.45, 0.5, 0.5, 0.1], "val_loss", 4),
    ({"patience": 0, "baseline": 0.5}, [0.6, 0.45], "val_loss", 1),
    # start_from_epoch: the first epochs are not monitored
    ({"patience": 1}, [1.0, 2.0, 3.0, 2.5, 2.6], "loss", 2),
    ({"patience": 1, "start_from_epoch": 2}, [1.0, 2.0, 3.0, 2.5, 2.6, 1.0], "loss", 5),
], ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_early_stopping_epochs(kwargs, values, key, epochs_run):
    callback = EarlyStopping(monitor=key, **kwargs)
    model, logs = drive(callback, values, key)
    assert len(logs) == epochs_run
    assert model.stop_training == (epochs_run < len(values))
    assert callback.stopped_epoch == (epochs_run - 1 if epochs_run < len(values) else 0)


@pytest.mark.parametrize("values, patience, baseline, expected_weights, stops", [
    ([1.0, 0.8, 0.9, 0.95], 2, None, 1.0, True),      # restored when stopping
    ([1.0, 0.8, 0.9], 5, None, 1.0, False),           # and at train end (Keras 3)
    ([1.0, 0.8, 0.9], 3, 0.5, 1.0, True),             # best epoch even below baseline
    ([0.7, 0.6, 0.5, 0.4], 5, None, 3.0, False),      # best is the last epoch
])
def test_restore_best_weights(values, patience, baseline, expected_weights, stops):
    callback = EarlyStopping(patience=patience, baseline=baseline, restore_best_weights=True)
    model, _ = drive(callback, values)
    assert model.stop_training == stops
    assert model.weights[0].tolist() == [expected_weights]
    assert callback.best_epoch == expected_weights


def test_without_restore_the_last_weights_stay():
    model, logs = drive(EarlyStopping(patience=2), [1.0, 0.8, 0.9, 0.95])
    assert len(logs) == 4 and model.weights[0].tolist() == [3.0]


def test_early_stopping_messages(capsys):
    drive(EarlyStopping(patience=2, verbose=1, restore_best_weights=True),
          [1.0, 0.8, 0.9, 0.95, 0.7])
    assert capsys.readouterr().out == (
        "Restoring model weights from the end of the best epoch: 2.\n"
        "Epoch 00004: early stopping\n"
    )
    drive(EarlyStopping(patience=2, verbose=0), [1.0, 0.8, 0.9, 0.95])
    drive(EarlyStopping(patience=9, verbose=1), [1.0, 0.8, 0.9, 0.95])
    assert capsys.readouterr().out == ""


def test_early_stopping_state_resets_between_fits():
    callback = EarlyStopping(patience=1)
    assert len(drive(callback, [1.0, 2.0, 3.0])[1]) == 2
    assert len(drive(callback, [5.0, 4.0, 3.0])[1]) == 3  # best and wait start afresh


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": -1}, "patience=-1"), ({"patience": 1.5}, "patience=1.5"),
    ({"start_from_epoch": -2}, "start_from_epoch=-2"), ({"baseline": "0.5"}, "baseline"),
    ({"min_delta": float("nan")}, "min_delta"), ({"monitor": ""}, "monitor"),
])
def test_early_stopping_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def _keras_driver(keras_callback, values, key):
    """Runs a Keras 3 callback through the same scripted sequence."""
    model = FakeModel()
    keras_callback.set_model(model)
    keras_callback.on_train_begin({})
    logs = []
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        step_logs = {key: value}
        keras_callback.on_epoch_end(epoch, step_logs)
        logs.append(step_logs)
        if model.stop_training:
            break
    keras_callback.on_train_end({})
    return model, logs


SEQUENCES = [[1.0, 0.9, 0.95, 0.96, 0.97, 0.5], [0.5, 0.4, 0.45, 0.3, 0.35, 0.36, 0.2],
             [3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0, 0.5], [0.2, 0.1, 0.05, 0.01]]


@pytest.mark.parametrize("values", SEQUENCES)
@pytest.mark.parametrize("patience", [1, 2, 3])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_early_stopping_matches_keras3(values, patience, mode):
    keras = pytest.importorskip("keras")
    kwargs = dict(monitor="val_loss", patience=patience, mode=mode, min_delta=0.01,
                  restore_best_weights=True)
    ours_model, ours = drive(EarlyStopping(**kwargs), values)
    theirs_model, theirs = _keras_driver(keras.callbacks.EarlyStopping(**kwargs), values,
                                         "val_loss")
    assert len(ours) == len(theirs)
    assert ours_model.weights[0].tolist() == theirs_model.weights[0].tolist()


# ---------------------------------------------------------------------------- ReduceLROnPlateau
@pytest.mark.parametrize("kwargs, values, logged_lr, final_lr", [
    ({"factor": 0.5, "patience": 2}, [1.0] * 6, [1, 1, 1, 0.5, 0.5, 0.25], 0.25),
    ({"factor": 0.5, "patience": 1, "cooldown": 2}, [1.0] * 6,
     [1, 1, 0.5, 0.5, 0.25, 0.25], 0.125),
    ({"factor": 0.1, "patience": 1, "min_lr": 0.05}, [1.0] * 4, [1, 1, 0.1, 0.05], 0.05),
    # improvements reset the wait; 0.99995 is within the default min_delta=1e-4
    ({"factor": 0.5, "patience": 2}, [1.0, 0.9, 0.95, 0.8, 0.79995, 0.81, 0.7],
     [1.0] * 6 + [0.5], 0.5),
    ({"factor": 0.5, "patience": 2, "min_delta": 0}, [1.0, 0.9, 0.95, 0.8, 0.79995, 0.81],
     [1.0] * 6, 1.0),
    ({"factor": 0.5, "patience": 1, "monitor": "val_acc"}, [0.5, 0.6, 0.55, 0.7],
     [1, 1, 1, 0.5], 0.5),
], ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_reduce_lr_schedule(kwargs, values, logged_lr, final_lr):
    monitor = kwargs.get("monitor", "val_loss")
    model, logs = drive(ReduceLROnPlateau(**kwargs), values, key=monitor)
    assert [log["lr"] for log in logs] == pytest.approx(logged_lr, rel=1e-12)
    assert model.optimizer.learning_rate == pytest.approx(final_lr, rel=1e-12)


def test_reduce_lr_message(capsys):
    drive(ReduceLROnPlateau(factor=0.1, patience=1, verbose=1), [1.0, 1.0, 1.0],
          model=FakeModel(lr=1e-3))
    assert capsys.readouterr().out == (
        "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.0001.\n"
        "\nEpoch 00003: ReduceLROnPlateau reducing learning rate to 1e-05.\n"
    )


def test_reduce_lr_epsilon_alias():
    with pytest.warns(DeprecationWarning, match="epsilon"):
        callback = ReduceLROnPlateau(epsilon=0.5)
    assert callback.min_delta == 0.5
    with pytest.raises(TypeError, match="unexpected keyword"):
        ReduceLROnPlateau(epsilom=0.5)


@pytest.mark.parametrize("kwargs", [{"factor": 1.0}, {"factor": -0.1}, {"min_lr": -1},
                                    {"cooldown": -1}, {"patience": None}])
def test_reduce_lr_argument_errors(kwargs):
    with pytest.raises(ValueError):
        ReduceLROnPlateau(**kwargs)


@pytest.mark.parametrize("values", SEQUENCES)
@pytest.mark.parametrize("kwargs", [{"patience": 1}, {"patience": 2, "cooldown": 1},
                                    {"patience": 1, "min_lr": 0.3, "mode": "max"}])
def test_reduce_lr_matches_keras3(values, kwargs):
    keras = pytest.importorskip("keras")
    kwargs = {"monitor": "val_loss", "factor": 0.5, "mode": "min", **kwargs}
    ours_model, ours = drive(ReduceLROnPlateau(**kwargs), values)
    theirs_model, theirs = _keras_driver(keras.callbacks.ReduceLROnPlateau(**kwargs), values,
                                         "val_loss")
    assert [log["lr"] for log in ours] == pytest.approx(
        [log["learning_rate"] for log in theirs], rel=1e-12)
    assert ours_model.optimizer.learning_rate == pytest.approx(
        float(theirs_model.optimizer.learning_rate), rel=1e-12)


def test_reduce_lr_in_fit_changes_the_optimizer():
    model = _model(lr=0.05)
    history = model.fit(X, Y, epochs=3, verbose=0, shuffle=False, callbacks=[
        ReduceLROnPlateau(monitor="loss", mode="max", patience=1, factor=0.5)])
    # the loss falls, so in 'max' mode every epoch after the first is a plateau
    assert history.history["lr"] == pytest.approx([0.05, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


# ---------------------------------------------------------------------------- scheduler
def test_scheduler_sets_and_logs_the_learning_rate():
    model = _model(lr=0.1)
    seen = []
    history = model.fit(X, Y, epochs=3, verbose=0, shuffle=False, callbacks=[
        LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr),
        LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(
            model.optimizer.learning_rate))])
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_scheduled_rate_is_the_one_training_uses():
    scheduled = _model(lr=0.1)
    scheduled.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False,
                  callbacks=[LearningRateScheduler(lambda epoch: [0.1, 0.03][epoch])])
    by_hand = _model(lr=0.1)
    by_hand.fit(X, Y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    by_hand.optimizer.learning_rate = 0.03
    by_hand.fit(X, Y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    other = _model(lr=0.1)
    other.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    for a, b, c in zip(scheduled.get_weights(), by_hand.get_weights(), other.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
        assert not np.allclose(a, c, atol=1e-4)


def test_scheduler_one_argument_form_and_message(capsys):
    model, logs = drive(LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1),
                        [1.0, 1.0], model=FakeModel(lr=0.5))
    assert [log["lr"] for log in logs] == pytest.approx([0.01, 0.02])
    assert capsys.readouterr().out == (
        "\nEpoch 00001: LearningRateScheduler setting learning rate to 0.01.\n"
        "\nEpoch 00002: LearningRateScheduler setting learning rate to 0.02.\n"
    )


@pytest.mark.parametrize("result", [1, "0.1", None, np.int64(2), True])
def test_scheduler_must_return_a_float(result):
    with pytest.raises(ValueError, match="must return a float learning rate"):
        drive(LearningRateScheduler(lambda epoch, lr: result), [1.0])


@pytest.mark.parametrize("result", [np.float32(0.25), np.float64(0.25), np.array(0.25)])
def test_scheduler_accepts_numpy_floats(result):
    model, logs = drive(LearningRateScheduler(lambda epoch, lr: result), [1.0])
    assert model.optimizer.learning_rate == 0.25 and logs[0]["lr"] == 0.25


def test_scheduler_does_not_hide_a_type_error_in_the_schedule():
    def schedule(epoch, lr):
        return lr + "oops"

    with pytest.raises(TypeError, match="unsupported operand"):
        drive(LearningRateScheduler(schedule), [1.0])


# ---------------------------------------------------------------------------- CSVLogger
LOGS = [{"loss": 0.5, "acc": 0.25, "val_loss": 0.75}, {"loss": 0.125, "acc": 0.5}]


def _write(logger, logs_per_epoch, finish=True):
    logger.set_model(FakeModel())
    logger.on_train_begin({})
    for epoch, logs in enumerate(logs_per_epoch):
        logger.on_epoch_end(epoch, dict(logs))
    if finish:
        logger.on_train_end({})


def test_csv_content_and_missing_values(tmp_path):
    path = tmp_path / "log.csv"
    _write(CSVLogger(path), LOGS)
    assert path.read_bytes() == (b"epoch,acc,loss,val_loss\r\n0,0.25,0.5,0.75\r\n"
                                 b"1,0.5,0.125,NA\r\n")


def test_csv_append_and_overwrite(tmp_path):
    path = tmp_path / "log.csv"
    _write(CSVLogger(str(path), separator=";"), LOGS[:1])
    _write(CSVLogger(str(path), separator=";", append=True), [{"loss": 0.1, "acc": 1.0}])
    assert path.read_bytes() == (b"epoch;acc;loss;val_loss\r\n0;0.25;0.5;0.75\r\n"
                                 b"0;1.0;0.1\r\n")
    _write(CSVLogger(str(path)), [{"loss": 2.0}])
    assert path.read_bytes() == b"epoch,loss\r\n0,2.0\r\n"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _write(CSVLogger(empty, append=True), [{"loss": 2.0}])  # empty file: header written
    assert empty.read_bytes() == b"epoch,loss\r\n0,2.0\r\n"


def test_csv_rows_are_on_disk_before_train_end(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr("os.fsync", lambda fd: synced.append(fd))
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    _write(logger, LOGS, finish=False)  # a process killed here leaves complete rows
    # each epoch's file is replaced atomically: the file, then its folder, are synced
    assert path.read_bytes().count(b"\r\n") == 3 and len(synced) == 4
    logger.on_train_end({})


def test_csv_iterable_values_and_real_fit(tmp_path):
    path = tmp_path / "fit.csv"
    history = _model().fit(X, Y, epochs=2, verbose=0, validation_data=(X[:3], Y[:3]),
                           callbacks=[CSVLogger(path)])
    rows = list(csv.reader(path.open(newline="")))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        assert [float(v) for v in row[1:]] == [history.history[k][epoch] for k in rows[0][1:]]
    other = tmp_path / "arrays.csv"
    _write(CSVLogger(other), [{"loss": np.float64(0.5), "v": np.array([1, 2])}])
    assert other.read_bytes() == b'epoch,loss,v\r\n0,0.5,"[1, 2]"\r\n'


def test_csv_separator_must_be_one_character(tmp_path):
    with pytest.raises(ValueError, match="separator"):
        CSVLogger(tmp_path / "x.csv", separator=", ")


# ---------------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_in_a_real_fit(capsys):
    model = _model()
    batches = []

    def poison_after_batch_1(batch, logs):
        batches.append(batch)
        if batch == 1:  # batch 2 of 4 (batch_size=2) gets a NaN loss
            model.set_weights([np.full((3, 1), np.nan, "float32"), np.zeros(1, "float32")])

    history = model.fit(X, Y, epochs=5, batch_size=2, verbose=0, shuffle=False, callbacks=[
        LambdaCallback(on_batch_end=poison_after_batch_1), TerminateOnNaN()])
    assert batches == [0, 1, 2]
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_terminate_on_nan_after_divergence(capsys):
    big = np.full((8, 3), 1e3, "float32")
    history = _model(lr=1e3).fit(big, big.sum(1, keepdims=True), epochs=20, batch_size=1,
                                 verbose=0, shuffle=False, callbacks=[TerminateOnNaN()])
    assert len(history.history["loss"]) == 1
    assert not math.isfinite(history.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


@pytest.mark.parametrize("loss, stops", [(float("inf"), True), (-np.inf, True),
                                         (np.float32("nan"), True), (1e30, False)])
def test_terminate_on_nan_scripted(loss, stops, capsys):
    model = FakeModel()
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_train_batch_end(7, {"loss": loss})
    assert model.stop_training == stops
    assert capsys.readouterr().out == ("Batch 7: Invalid loss, terminating training\n"
                                       if stops else "")


def test_terminate_on_nan_raise_error():
    callback = TerminateOnNaN(raise_error=True)
    callback.set_model(FakeModel())
    with pytest.raises(RuntimeError, match="nan at batch 3"):
        callback.on_train_batch_end(3, {"loss": float("nan")})


# ---------------------------------------------------------------------------- TensorBoard
def test_tensorboard_without_the_package(monkeypatch):
    from layerkit.callbacks.tensorboard import TensorBoard

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard("logs")


def _scalars(run_dir, tag):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(run_dir), size_guidance={"scalars": 0,
                                                                       "histograms": 0})
    events.Reload()
    return events, [(e.step, e.value) for e in events.Scalars(tag)]


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from layerkit.callbacks.tensorboard import TensorBoard

    history = _model().fit(X, Y, epochs=3, batch_size=4, verbose=0,
                           validation_data=(X[:3], Y[:3]), callbacks=[
                               TensorBoard(tmp_path, histogram_freq=2, update_freq="batch")])
    train, loss = _scalars(tmp_path / "train", "epoch_loss")
    assert [s for s, _ in loss] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in loss], history.history["loss"], rtol=1e-6)
    _, mae = _scalars(tmp_path / "train", "epoch_mae")
    np.testing.assert_allclose([v for _, v in mae], history.history["mae"], rtol=1e-6)
    val, val_loss = _scalars(tmp_path / "validation", "epoch_loss")
    np.testing.assert_allclose([v for _, v in val_loss], history.history["val_loss"],
                               rtol=1e-6)
    assert "epoch_val_loss" not in val.Tags()["scalars"]
    _, batch_loss = _scalars(tmp_path / "train", "batch_loss")
    assert [s for s, _ in batch_loss] == [1, 2, 3, 4, 5, 6]
    assert sorted(train.Tags()["histograms"]) == ["dense/bias_0", "dense/kernel_0"]
    assert [h.step for h in train.Histograms("dense/kernel_0")] == [0, 2]


def test_tensorboard_arguments(tmp_path):
    pytest.importorskip("tensorboard")
    from layerkit.callbacks.tensorboard import TensorBoard

    with pytest.warns(UserWarning, match="write_graph"):
        TensorBoard(tmp_path, write_graph=True, profile_batch=0)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(tmp_path, update_freq="step")
    with pytest.raises(TypeError, match="log_dri"):
        TensorBoard(log_dri=tmp_path)
    assert "on_train_batch_end" not in vars(TensorBoard(tmp_path))  # no batch logs needed
    assert "on_train_batch_end" in vars(TensorBoard(tmp_path, update_freq=3))


# ---------------------------------------------------------------------------- end to end
def test_early_stopping_restores_the_best_epoch_in_a_real_fit():
    model = _model(lr=0.02)
    xv = X[:4]
    yv = 0.4 * xv.sum(axis=1, keepdims=True)  # the fit passes through this, then away
    recorded = []
    history = model.fit(X, Y, epochs=40, batch_size=8, verbose=0, shuffle=False,
                        validation_data=(xv, yv), callbacks=[
                            LambdaCallback(on_epoch_end=lambda e, logs: recorded.append(
                                model.get_weights())),
                            EarlyStopping(patience=3, restore_best_weights=True)])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert best == 5 and len(val_loss) == best + 4  # stopped after 3 worse epochs
    for restored, kept in zip(model.get_weights(), recorded[best]):
        np.testing.assert_array_equal(restored, kept)
    assert not np.allclose(recorded[-1][0], recorded[best][0])
