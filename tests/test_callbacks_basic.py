"""Callback hooks: order during fit/evaluate/predict, batch and epoch logs, LambdaCallback,
History, CallbackList checks and stopping from a callback."""

import numpy as np
import pytest

from layerkit import callbacks, layers, models, optimizers
from layerkit.callbacks import Callback, CallbackList, History, LambdaCallback

X = np.random.RandomState(0).rand(8, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)
XV, YV = X[:3] * 2, Y[:3] * 2


def _model(lr=0.05):
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.set_weights([np.array([[0.1], [0.2], [-0.3]], "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


_HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end"]


class Recorder(Callback):
    """Records every hook (overridden in the class, as a user callback would) with its
    index argument (epoch or batch), if any."""

    def __init__(self):
        super().__init__()
        self.calls = []


def _recording_hook(name):
    def hook(self, *args):
        assert len(args) in (1, 2) and isinstance(args[-1], dict)  # logs: always a dict
        self.calls.append((name,) + tuple(args[:-1]))

    return hook


for _name in _HOOKS:
    setattr(Recorder, _name, _recording_hook(_name))


def _epoch(epoch, train_batches, val_batches):
    calls = [("on_epoch_begin", epoch)]
    for b in range(train_batches):
        calls += [("on_train_batch_begin", b), ("on_train_batch_end", b)]
    if val_batches:
        calls.append(("on_test_begin",))
        for b in range(val_batches):
            calls += [("on_test_batch_begin", b), ("on_test_batch_end", b)]
        calls.append(("on_test_end",))
    return calls + [("on_epoch_end", epoch)]


def test_hook_order_during_fit_with_validation():
    recorder = Recorder()
    _model().fit(X, Y, batch_size=4, epochs=2, validation_data=(XV, YV),
                 validation_batch_size=2, verbose=0, callbacks=[recorder])
    assert recorder.calls == ([("on_train_begin",)] + _epoch(0, 2, 2) + _epoch(1, 2, 2)
                              + [("on_train_end",)])


def test_hook_order_during_evaluate_and_predict():
    model = _model()
    recorder = Recorder()
    model.evaluate(X, Y, batch_size=4, verbose=0, callbacks=[recorder])
    assert recorder.calls == [("on_test_begin",), ("on_test_batch_begin", 0),
                              ("on_test_batch_end", 0), ("on_test_batch_begin", 1),
                              ("on_test_batch_end", 1), ("on_test_end",)]
    recorder.calls.clear()
    model.predict(X, batch_size=5, callbacks=[recorder])
    assert recorder.calls[0] == ("on_predict_begin",)
    assert recorder.calls[-1] == ("on_predict_end",)
    assert [c for c in recorder.calls if c[0] == "on_predict_batch_end"] == [
        ("on_predict_batch_end", 0), ("on_predict_batch_end", 1)]


def test_predict_calls_batch_begin_hooks():
    recorder = Recorder()
    _model().predict(X, batch_size=5, callbacks=[recorder])
    assert recorder.calls == [("on_predict_begin",), ("on_predict_batch_begin", 0),
                              ("on_predict_batch_end", 0), ("on_predict_batch_begin", 1),
                              ("on_predict_batch_end", 1), ("on_predict_end",)]


class _LogKeeper(Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test, self.epochs, self.begin = [], [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.begin.append(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.train.append(dict(logs))

    def on_test_batch_end(self, batch, logs=None):
        self.test.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


def test_batch_logs_hold_the_running_epoch_means():
    keeper = _LogKeeper()
    model = _model(lr=0.0)  # frozen weights: the running means are plain prefix means
    model.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0, callbacks=[keeper],
              validation_data=(XV, YV))
    assert keeper.begin == [0, 1, 2]
    assert [sorted(logs) for logs in keeper.train] == [["loss", "mae"]] * 3
    for logs, stop in zip(keeper.train, (3, 6, 8)):
        loss, mae = model.evaluate(X[:stop], Y[:stop], verbose=0)
        np.testing.assert_allclose([logs["loss"], logs["mae"]], [loss, mae], rtol=1e-6)
    np.testing.assert_allclose(keeper.epochs[0]["loss"], keeper.train[-1]["loss"], rtol=1e-7)
    val_loss, val_mae = model.evaluate(XV, YV, verbose=0)
    np.testing.assert_allclose([keeper.test[-1]["loss"], keeper.test[-1]["mae"]],
                               [val_loss, val_mae], rtol=1e-6)
    assert list(keeper.epochs[0]) == ["loss", "mae", "val_loss", "val_mae"]
    np.testing.assert_allclose(keeper.epochs[0]["val_loss"], val_loss, rtol=1e-6)


def test_old_batch_hook_names_are_called_once_per_batch():
    class Old(Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch, round(logs["loss"], 6)))

    class Both(Old):
        def on_train_batch_end(self, batch, logs=None):
            self.seen.append(("train_end", batch))

    old, both = Old(), Both()
    _model(lr=0.0).fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0,
                       callbacks=[old, both])
    assert [s[:2] for s in old.seen] == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1)]
    # like Keras, overriding on_train_batch_end replaces the old name's hook
    assert both.seen == [("begin", 0), ("train_end", 0), ("begin", 1), ("train_end", 1)]


def test_lambda_callback():
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_batch_end=lambda batch, logs: events.append(("batch_end", batch, "loss" in logs)),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, logs["loss"])),
        on_train_end=lambda logs: events.append("train_end"),
    )
    history = _model().fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                           callbacks=[cb])
    loss = history.history["loss"]
    assert events == ["train_begin",
                      ("epoch_begin", 0), ("batch_end", 0, True), ("batch_end", 1, True),
                      ("epoch_end", 0, loss[0]),
                      ("epoch_begin", 1), ("batch_end", 0, True), ("batch_end", 1, True),
                      ("epoch_end", 1, loss[1]), "train_end"]
    with pytest.raises(ValueError, match=r"LambdaCallback: unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)


def test_lambda_callback_test_hooks_through_kwargs():
    seen = []
    cb = LambdaCallback(on_test_batch_end=lambda batch, logs: seen.append(batch))
    _model().evaluate(X, Y, batch_size=3, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 2]


def test_history():
    model = _model()
    history = model.fit(X, Y, batch_size=4, epochs=3, verbose=0, shuffle=False,
                        validation_data=(XV, YV))
    assert isinstance(history, History)
    assert model.history is history
    assert history.epoch == [0, 1, 2]
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]  # tf.keras order
    assert all(len(v) == 3 and all(isinstance(x, float) for x in v)
               for v in history.history.values())
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 2}
    assert history.history["loss"][2] < history.history["loss"][0]
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(XV, YV, verbose=0)[0], rtol=1e-6)
    # a second fit returns a new History
    again = model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    assert again is not history and again.epoch == [0] and list(again.history) == ["loss", "mae"]


def test_callback_gets_model_and_params():
    keeper = []

    class Peek(Callback):
        def on_train_begin(self, logs=None):
            keeper.append((self.model, dict(self.params)))

    model = _model()
    model.fit(X, Y, batch_size=3, epochs=2, verbose=0, callbacks=[Peek()])
    assert keeper == [(model, {"verbose": 0, "epochs": 2, "steps": 3})]


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="callbacks must be layerkit.callbacks.Callback "
                                        "instances, received function"):
        CallbackList([Recorder(), lambda: None])
    with pytest.raises(TypeError, match="Callback instances, received type"):
        _model().fit(X, Y, verbose=0, callbacks=[History])  # the class, not an instance


def test_callback_list_forwards_hooks_in_order():
    order = []

    class Named(Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def on_epoch_end(self, epoch, logs=None):
            order.append((self.name, epoch, logs))

    cbs = CallbackList([Named("a"), Named("b")], model="m", params={"epochs": 1})
    cbs.on_epoch_end(4, {"loss": 1.0})
    assert order == [("a", 4, {"loss": 1.0}), ("b", 4, {"loss": 1.0})]
    assert all(cb.model == "m" and cb.params == {"epochs": 1} for cb in cbs.callbacks)


def test_stop_training_in_on_epoch_end_stops_after_that_epoch():
    class StopAt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    recorder = Recorder()
    model = _model()
    history = model.fit(X, Y, batch_size=4, epochs=5, verbose=0, callbacks=[StopAt(), recorder])
    assert history.epoch == [0, 1]
    assert len(history.history["loss"]) == 2
    assert [c for c in recorder.calls if c[0] == "on_epoch_end"] == [("on_epoch_end", 0),
                                                                     ("on_epoch_end", 1)]
    assert recorder.calls[-1] == ("on_train_end",)
    # the next fit starts afresh
    assert model.fit(X, Y, batch_size=4, epochs=3, verbose=0).epoch == [0, 1, 2]


def test_public_names():
    assert callbacks.Callback is Callback and callbacks.History is History
    assert callbacks.LambdaCallback is LambdaCallback
