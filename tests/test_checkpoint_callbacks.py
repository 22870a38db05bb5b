"""ModelCheckpoint and BackupAndRestore, driven by scripted metric values and by kills."""

import json
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.callbacks.backup_and_restore import BackupAndRestore
from layerkit.callbacks import Callback
from layerkit.callbacks.model_checkpoint import ModelCheckpoint
from layerkit.saving import checkpoint as checkpoint_module
from layerkit.saving import load_model

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(16, 1)).astype("float32")


def _model():
    torch.manual_seed(0)
    model = models.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,)),
                               layers.Dense(1)])
    model.compile("adam", "mse")
    return model


class Script(Callback):
    """Overwrites logs[key] with scripted values (runs before the checkpoint)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.weights = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_save_best_only_with_template_and_messages(tmp_path, capsys):
    script = Script("val_loss", [0.9, 0.5, 0.7, 0.4, 0.45])
    template = str(tmp_path / "model_{epoch:02d}_{val_loss:.2f}.hdf5")
    checkpoint = ModelCheckpoint(template, monitor="val_loss", save_best_only=True, verbose=1)
    model = _model()
    model.fit(X, Y, epochs=5, verbose=0, callbacks=[script, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["model_01_0.90.hdf5", "model_02_0.50.hdf5",
                                            "model_04_0.40.hdf5"]
    out = capsys.readouterr().out
    assert f"Epoch 00001: val_loss improved from inf to 0.90000, saving model to " \
           f"{tmp_path / 'model_01_0.90.hdf5'}" in out
    assert "Epoch 00003: val_loss did not improve from 0.50000" in out
    best = load_model(tmp_path / "model_04_0.40.hdf5")
    for saved, expected in zip(best.get_weights(), script.weights[3]):
        np.testing.assert_array_equal(saved, expected)
    assert checkpoint.best == 0.4


def test_mode_auto_maximises_accuracy_and_initial_threshold(tmp_path, monkeypatch):
    script = Script("val_acc", [0.5, 0.7, 0.6, 0.8])
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(str(path), monitor="val_acc", save_best_only=True,
                                 initial_value_threshold=0.65)
    model = _model()
    saves = []
    monkeypatch.setattr(checkpoint_module, "save",
                        lambda model, p, write: saves.append(os.path.basename(p)))
    model.fit(X, Y, epochs=4, verbose=0, callbacks=[script, checkpoint])
    assert checkpoint.monitor_op == "max" and saves == ["best.keras", "best.keras"]
    assert checkpoint.best == 0.8


def test_every_epoch_period_and_batch_frequency(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=3, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "e{epoch}.keras"))])
    with pytest.warns(DeprecationWarning):
        legacy = ModelCheckpoint(str(tmp_path / "p{epoch}.h5"), period=2)
    model.fit(X, Y, epochs=4, verbose=0, callbacks=[legacy])
    # 16 samples, batch 4 -> 4 batches per epoch; save after every 3rd batch
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}-{loss:.1f}.weights.h5"),
                        save_freq=3, save_weights_only=True)])
    names = sorted(os.listdir(tmp_path))
    assert [n for n in names if n.startswith("e")] == ["e1.keras", "e2.keras", "e3.keras"]
    assert [n for n in names if n.startswith("p")] == ["p2.h5", "p4.h5"]
    batches = [n.split("-")[:2] for n in names if n.startswith("b")]
    assert batches == [["b1", "3"], ["b2", "2"]]


def test_weights_only_files_and_argument_errors(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)])
    other = _model()
    other.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    with pytest.raises(ValueError, match=r"\.keras, \.h5, \.hdf5"):
        ModelCheckpoint(str(tmp_path / "model.ckpt"))
    with pytest.raises(ValueError, match="save_weights_only"):
        ModelCheckpoint(str(tmp_path / "model.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(str(tmp_path / "m.h5"), save_freq=0)
    with pytest.raises(KeyError, match="val_acc.*Available keys"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[
            ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.h5"))])


# ------------------------------------------------------------------ BackupAndRestore
class Interrupt(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_backup_restores_and_resumes_at_the_next_epoch(tmp_path):
    reference = _model()
    reference.fit(X, Y, epochs=4, batch_size=4, shuffle=False, verbose=0)

    backup = BackupAndRestore(str(tmp_path / "backup"))
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=4, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[backup, Interrupt(2)])
    with open(tmp_path / "backup" / "training_metadata.json") as handle:
        assert json.load(handle)["epoch"] == 2
    resumed = _model()
    history = resumed.fit(X, Y, epochs=4, batch_size=4, shuffle=False, verbose=0,
                          callbacks=[BackupAndRestore(str(tmp_path / "backup"))])
    assert len(history.history["loss"]) == 2  # epochs 3 and 4 only
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path / "backup") == []  # deleted after a normal end


class Slow(Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.03)


def _train(backup_dir, epochs):
    model = _model()
    model.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0,
              callbacks=[BackupAndRestore(backup_dir), Slow()])
    return model


def test_killed_training_resumes_to_the_same_weights(tmp_path):
    reference = _model()
    reference.fit(X, Y, epochs=12, batch_size=4, shuffle=False, verbose=0)
    context = multiprocessing.get_context("fork")
    rng = random.Random(1)
    for attempt in range(3):
        backup_dir = str(tmp_path / f"backup{attempt}")
        child = context.Process(target=_train, args=(backup_dir, 12), daemon=True)
        child.start()
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(backup_dir, "training_metadata.json")):
            assert time.time() < deadline and child.is_alive()
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        with open(os.path.join(backup_dir, "training_metadata.json")) as handle:
            assert 1 <= json.load(handle)["epoch"] < 12  # killed mid-training
        finished = _train(backup_dir, 12)
        for a, b in zip(finished.get_weights(), reference.get_weights()):
            np.testing.assert_array_equal(a, b)
