"""The tf.keras 2.x console output: ProgbarLogger lines during fit/evaluate/predict and the
Progbar formatting rules (values, ETA, time per step, bar, redraws on a terminal)."""

import io
import re

import numpy as np
import pytest

from layerkit import layers, models, optimizers
from layerkit.utils.progbar import Progbar, format_eta, format_time_per_unit, format_value

X = np.random.RandomState(0).rand(16, 3).astype("float32")
Y = (X.sum(axis=1) > 1.5).astype("float32")
XV, YV = X[:6] + 0.1, Y[:6]
NUM = r"\d\.\d{4}"
TIMING = r"\d+s \d+(us|ms|s)/step"


def _model():
    model = models.Sequential([layers.Dense(2, activation="relu", input_shape=(3,)),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=["acc"])
    return model


def _fmt(value):
    return f"{value:.4f}"


def test_fit_verbose_1_lines(capsys):
    history = _model().fit(X, Y, batch_size=4, epochs=2, validation_data=(XV, YV), verbose=1,
                           shuffle=False)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    pattern = (rf"^4/4 \[==============================\] - {TIMING} - loss: {NUM} - "
               rf"acc: {NUM} - val_loss: {NUM} - val_acc: {NUM}$")
    for epoch, line in ((0, lines[1]), (1, lines[3])):
        assert re.match(pattern, line), line
        h = history.history
        assert line.endswith(
            f" - loss: {_fmt(h['loss'][epoch])} - acc: {_fmt(h['acc'][epoch])} - "
            f"val_loss: {_fmt(h['val_loss'][epoch])} - val_acc: {_fmt(h['val_acc'][epoch])}")


def test_fit_verbose_2_lines(capsys):
    history = _model().fit(X, Y, batch_size=4, epochs=2, verbose=2, shuffle=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0::2] == ["Epoch 1/2", "Epoch 2/2"]
    for epoch, line in enumerate(lines[1::2]):
        assert re.match(rf"^4/4 - \d+s - loss: {NUM} - acc: {NUM}$", line), line
        assert line.endswith(f"loss: {_fmt(history.history['loss'][epoch])} - "
                             f"acc: {_fmt(history.history['acc'][epoch])}")


def test_fit_step_count_is_right_aligned_and_initial_epoch_numbering(capsys):
    _model().fit(X, Y, batch_size=1, epochs=3, initial_epoch=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 3/3"
    assert lines[1].startswith("16/16 [==============================] - ")


def test_verbose_0_prints_nothing(capsys):
    model = _model()
    model.fit(X, Y, batch_size=4, epochs=2, validation_split=0.25, verbose=0)
    model.evaluate(X, Y, verbose=0)
    model.predict(X)  # predict defaults to verbose=0 (tf.keras)
    model.train_on_batch(X, Y)
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_verbose_1(capsys):
    model = _model()
    loss, acc = model.evaluate(X, Y, batch_size=8, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert re.match(rf"^2/2 \[==============================\] - {TIMING} - loss: {NUM} - "
                    rf"acc: {NUM}$", lines[0]), lines[0]
    assert lines[0].endswith(f"loss: {_fmt(loss)} - acc: {_fmt(acc)}")
    model.evaluate(X, Y, batch_size=8)  # verbose='auto' is 1 for evaluate
    assert len(capsys.readouterr().out.splitlines()) == 1
    model.predict(X, batch_size=8, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert re.match(rf"^2/2 \[==============================\] - {TIMING}$", lines[0])


# ------------------------------------------------------------------------ formatting
@pytest.mark.parametrize("value,text", [
    (0.5, "0.5000"), (1.23456, "1.2346"), (-2.0, "-2.0000"), (123.0, "123.0000"),
    (0.0011, "0.0011"), (1e-3, "1.0000e-03"), (1e-4, "1.0000e-04"), (-3.2e-5, "-3.2000e-05"),
    (0.0, "0.0000e+00"),
])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("seconds,text", [
    (42, "42s"), (60, "60s"), (61, "1:01"), (125.7, "2:05"), (3600, "60:00"),
    (3725, "1:02:05"), (36000 + 5, "10:00:05"),
])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


@pytest.mark.parametrize("seconds,text", [
    (2.4, "2s/step"), (1.0, "1s/step"), (0.02, "20ms/step"), (0.001, "1ms/step"),
    (2e-5, "20us/step"), (0.0, "0s/step"),
])
def test_format_time_per_unit(seconds, text):
    assert format_time_per_unit(seconds) == text


class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def _frames(stream):
    return stream.getvalue().split("\r")[1:]


def test_terminal_bar_redraws_in_place():
    stream = _FakeTTY()
    bar = Progbar(100, interval=0, stream=stream)
    bar.update(5, [("loss", 0.25)])
    bar.update(50, [("loss", 0.125)])
    bar.update(100, [("loss", 0.0625)])
    frames = _frames(stream)
    assert len(frames) == 3
    assert frames[0].startswith("  5/100 [>.............................] - ETA: ")
    assert frames[0].rstrip().endswith(" - loss: 0.2500")
    assert frames[1].startswith(" 50/100 [==============>...............] - ETA: ")
    assert re.match(rf"^100/100 \[==============================\] - {TIMING} - "
                    r"loss: 0\.0625\n$", frames[2]), frames[2]
    assert stream.getvalue().count("\n") == 1


def test_terminal_bar_pads_a_shorter_line():
    stream = _FakeTTY()
    bar = Progbar(10, interval=0, stream=stream)
    bar.update(1, [("loss", 0.5), ("a_long_metric_name", 0.5)])
    bar.update(2, [("loss", 0.5)])
    first, second = _frames(stream)
    assert len(second) == len(first)
    assert second.endswith(" " * len(" - a_long_metric_name: 0.5000"))


def test_terminal_bar_respects_interval():
    stream = _FakeTTY()
    bar = Progbar(10, interval=3600, stream=stream)
    bar.update(1)
    bar.update(2)
    bar.update(9)
    assert len(_frames(stream)) == 1
    bar.update(10)  # the final line is always drawn
    assert len(_frames(stream)) == 2 and stream.getvalue().endswith("\n")


def test_default_bar_redraws_at_most_ten_times_a_second(monkeypatch):
    """A batch_size=1 epoch: 1000 steps over 0.5 s (fake clock) draw 5 frames and the
    final line, not a frame per step."""
    from layerkit.utils import progbar

    clock = [1000.0]
    monkeypatch.setattr(progbar.time, "time", lambda: clock[0])
    stream = _FakeTTY()
    bar = Progbar(1000, stream=stream)
    for step in range(1, 1001):
        clock[0] += 0.0005
        bar.update(step)
    assert len(_frames(stream)) == 6


def test_bar_with_unknown_target():
    stream = _FakeTTY()
    bar = Progbar(None, interval=0, stream=stream)
    bar.update(3, [("loss", 0.5)])
    (frame,) = _frames(stream)
    assert re.match(rf"^      3/Unknown - {TIMING} - loss: 0\.5000$", frame), frame


def test_non_terminal_writes_only_the_final_line():
    stream = io.StringIO()
    bar = Progbar(4, stream=stream)
    for step in (1, 2, 3):
        bar.update(step, [("loss", 1.0)])
    assert stream.getvalue() == ""
    bar.update(4, [("loss", 1.0), ("acc", 0.75)])
    out = stream.getvalue()
    assert re.match(rf"^4/4 \[==============================\] - {TIMING} - loss: 1\.0000 - "
                    r"acc: 0\.7500\n$", out), out


def test_verbose_2_progbar_line():
    stream = _FakeTTY()  # verbose=2 never redraws, even on a terminal
    bar = Progbar(30, verbose=2, stream=stream)
    bar.update(10, [("loss", 0.5)])
    assert stream.getvalue() == ""
    bar.update(30, [("loss", 0.5)])
    assert re.match(r"^30/30 - \d+s - loss: 0\.5000\n$", stream.getvalue())


@pytest.mark.parametrize("current,target,bar", [
    (0, 10, "[..............................]"),
    (1, 10, "[==>...........................]"),
    (3, 7, "[===========>..................]"),  # int(30 * 3 / 7) = 12 cells
    (7, 7, "[==============================]"),
])
def test_bar_fill(current, target, bar):
    stream = _FakeTTY()
    Progbar(target, interval=0, stream=stream).update(current)
    frame = _frames(stream)[0]
    width = len(str(target))
    assert frame.startswith(f"{current:{width}d}/{target} {bar} - ")
