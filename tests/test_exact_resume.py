"""Exact resume inside an epoch: BackupAndRestore(save_freq=N) and ModelCheckpoint files.

A training subprocess is SIGKILLed in the middle of an epoch; the restarted run must end
bitwise identical to an uninterrupted one (weights, optimizer slots, History values),
with shuffling, a global-RNG Dropout, a seeded Dropout and a running metric in play.
"""

import json
import multiprocessing
import os
import signal

import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.callbacks.backup_and_restore import BackupAndRestore
from layerkit.callbacks import Callback
from layerkit.callbacks.model_checkpoint import ModelCheckpoint, latest_matching
from layerkit.saving import checkpoint, h5_format
from layerkit.training.state import TrainingState

from helpers import strip_checksums

XS = np.random.default_rng(2).normal(size=(40, 5)).astype("float32")
YS = np.random.default_rng(3).normal(size=(40, 1)).astype("float32")


class KillAt(Callback):
    """SIGKILLs its own process after batch `batch` of epoch `epoch` (0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self._now = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._now == self.epoch and batch == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)


def _model():
    from layerkit import utils

    utils.set_random_seed(7)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                               layers.Dropout(0.5), layers.Dense(6, activation="tanh"),
                               layers.Dropout(0.3, seed=11), layers.Dense(1)])
    model.compile("rmsprop", "mse", metrics=["mae"])
    return model


def _fit(callbacks=(), epochs=5):
    """5 batches of 8 per epoch, shuffled."""
    model = _model()
    history = model.fit(XS, YS, epochs=epochs, batch_size=8, shuffle=True, verbose=0,
                        callbacks=list(callbacks))
    return model, history


def _killed(callbacks, epoch=2, batch=2):
    child = multiprocessing.get_context("fork").Process(
        target=_fit, args=(list(callbacks) + [KillAt(epoch, batch)],), daemon=True)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL


def _assert_same_run(resumed, history, reference, reference_history, first_epoch=2):
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        assert np.array_equal(a, b)
    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations) == 25
    for a, b in zip(resumed.optimizer.variables, reference.optimizer.variables):
        assert torch.equal(a, b)
    assert history.epoch == list(range(first_epoch, 5))
    for key in ("loss", "mae"):
        assert history.history[key] == reference_history.history[key][first_epoch:]


@pytest.fixture(scope="module")
def reference():
    return _fit()


def test_sigkilled_run_resumes_from_the_epoch_backup_bitwise(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    _killed([BackupAndRestore(backup_dir)])
    with open(os.path.join(backup_dir, "training_metadata.json")) as handle:
        metadata = json.load(handle)
    assert (metadata["epoch"], metadata["step"]) == (2, 0)  # epochs 1 and 2 backed up
    resumed, history = _fit([BackupAndRestore(backup_dir)])
    _assert_same_run(resumed, history, *reference)


def test_backup_every_n_batches_resumes_inside_the_epoch_bitwise(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    _killed([BackupAndRestore(backup_dir, save_freq=2)])
    with open(os.path.join(backup_dir, "training_metadata.json")) as handle:
        metadata = json.load(handle)
    # batches 11 and 12 (1-based, global) are batches 1 and 2 of epoch 3; killed after 13
    assert (metadata["epoch"], metadata["step"]) == (2, 2)
    resumed, history = _fit([BackupAndRestore(backup_dir, save_freq=2)])
    _assert_same_run(resumed, history, *reference)
    assert os.listdir(backup_dir) == []


@pytest.mark.parametrize("template,save_freq,expected", [
    ("ckpt_{epoch:02d}.h5", "epoch", "ckpt_02.h5"),
    ("ckpt_{epoch:02d}.keras", "epoch", "ckpt_02.keras"),
    ("ckpt_{epoch:02d}_{batch:02d}.keras", 3, "ckpt_03_02.keras"),
    ("ckpt_{epoch:02d}_{batch:02d}.hdf5", 3, "ckpt_03_02.hdf5"),
])
def test_model_checkpoint_resumes_exactly_on_restart(tmp_path, reference, template,
                                                     save_freq, expected):
    path = str(tmp_path / template)
    _killed([ModelCheckpoint(path, monitor="loss", save_freq=save_freq)])
    assert latest_matching(path) == str(tmp_path / expected)
    checkpoint = ModelCheckpoint(path, monitor="loss", save_freq=save_freq,
                                 load_weights_on_restart=True)
    resumed, history = _fit([checkpoint])
    _assert_same_run(resumed, history, *reference)


def test_checkpoint_without_resume_state_restores_weights_only(tmp_path):
    saved = _model()
    saved.fit(XS, YS, epochs=1, verbose=0)
    saved.save(str(tmp_path / "model_07.h5"))  # a plain model file, as Keras writes them
    model = _model()
    checkpoint = ModelCheckpoint(str(tmp_path / "model_{epoch:02d}.h5"),
                                 load_weights_on_restart=True)
    history = model.fit(XS, YS, epochs=0, verbose=0, callbacks=[checkpoint])
    assert history.epoch == []
    for a, b in zip(model.get_weights(), saved.get_weights()):
        assert np.array_equal(a, b)


def test_latest_matching_uses_mtime_then_name(tmp_path):
    template = str(tmp_path / "w_{epoch:02d}-{val_loss:.2f}.h5")
    assert latest_matching(template) is None
    for name, mtime in [("w_01-0.50.h5", 100), ("w_02-0.40.h5", 300), ("w_03-0.45.h5", 200),
                        (".w_04-0.1.h5.x.tmp", 400), ("other_05.h5", 500)]:
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, (mtime, mtime))
    assert latest_matching(template) == str(tmp_path / "w_02-0.40.h5")
    os.utime(tmp_path / "w_03-0.45.h5", (300, 300))
    assert latest_matching(template) == str(tmp_path / "w_03-0.45.h5")


def test_checkpoint_files_with_resume_state_load_in_keras3(tmp_path):
    import keras

    model = _model()
    for suffix in (".h5", ".keras"):
        path = str(tmp_path / f"ckpt{suffix}")
        model.fit(XS, YS, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path,
                                                                          monitor="loss")])
        theirs = keras.saving.load_model(path, compile=False)
        np.testing.assert_allclose(theirs.predict(XS, verbose=0), model.predict(XS),
                                   rtol=1e-6, atol=1e-6)


def test_snapshot_round_trip_and_running_sums(tmp_path):
    import h5py

    model = _model()
    model.fit(XS, YS, epochs=1, batch_size=8, verbose=0)
    state = TrainingState(model)
    state.begin_epoch(4)
    state.step = 3
    snapshot = state.snapshot()
    assert int(snapshot.running["seen"]) == 40  # samples of the epoch above
    with h5py.File(tmp_path / "p.h5", "w") as handle:
        checkpoint.write_snapshot(handle.create_group("resume_state"), snapshot)
    handle, size = h5_format.open_file(str(tmp_path / "p.h5"), "p.h5")
    with handle:
        back = checkpoint.read_snapshot(h5_format.Reader(handle, size, "p.h5"), handle)
    assert (back.epoch, back.step) == (4, 3)
    fresh = _model()
    TrainingState(fresh).continue_epoch(back)
    assert fresh.compiled.results() == model.compiled.results()
    with pytest.raises(ValueError, match="step.*non-negative integer"):
        with h5py.File(tmp_path / "p.h5", "r+") as handle:
            handle["resume_state"].attrs["step"] = -1
        handle, size = h5_format.open_file(str(tmp_path / "p.h5"), "p.h5")
        with handle:
            checkpoint.read_snapshot(h5_format.Reader(handle, size, "p.h5"), handle)


def _fit_sequence(callbacks=()):
    from layerkit.utils import Sequence

    class Batches(Sequence):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            noise = np.random.normal(0, 0.1, size=(8, 5)).astype("float32")  # augmentation
            return XS[index * 8:(index + 1) * 8] + noise, YS[index * 8:(index + 1) * 8]

    model = _model()
    history = model.fit(Batches(), epochs=5, shuffle=True, verbose=0,
                        callbacks=list(callbacks))
    return model, history


def test_sequence_with_augmentation_resumes_inside_the_epoch_bitwise(tmp_path):
    reference = _fit_sequence()
    backup_dir = str(tmp_path / "backup")
    child = multiprocessing.get_context("fork").Process(
        target=_fit_sequence, args=([BackupAndRestore(backup_dir, save_freq=2),
                                     KillAt(2, 2)],), daemon=True)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    resumed, history = _fit_sequence([BackupAndRestore(backup_dir, save_freq=2)])
    _assert_same_run(resumed, history, *reference)


def test_generator_states_round_trip_through_hdf5(tmp_path):
    import random

    import h5py

    from layerkit.saving import rng_state

    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    random.gauss(0, 1), np.random.normal()  # leave a cached Gaussian in both
    state = rng_state.capture()
    expected = (random.random(), random.gauss(0, 1), np.random.normal(size=3),
                torch.rand(3))
    with h5py.File(tmp_path / "rng.h5", "w") as handle:
        rng_state.write(handle.create_group("rng_state"), state)
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    handle, size = h5_format.open_file(str(tmp_path / "rng.h5"), "rng.h5")
    with handle:
        reader = h5_format.Reader(handle, size, "rng.h5")
        rng_state.restore(rng_state.read(reader, handle["rng_state"]))
    got = (random.random(), random.gauss(0, 1), np.random.normal(size=3), torch.rand(3))
    assert got[:2] == expected[:2]
    assert np.array_equal(got[2], expected[2]) and torch.equal(got[3], expected[3])


class Interrupt(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_corrupt_generator_state_in_backup_is_a_value_error(tmp_path):
    import h5py

    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _fit([BackupAndRestore(str(backup_dir)), Interrupt()])
    with open(backup_dir / "training_metadata.json") as handle:
        name = json.load(handle)["file"]
    with h5py.File(backup_dir / name, "r+") as handle:
        strip_checksums(handle)  # else the checksums catch the edits first
        del handle["resume_state/rng/torch"]
        handle["resume_state/rng/torch"] = np.zeros(7, dtype=np.uint8)
    with pytest.raises(ValueError, match="invalid random generator state.*delete the backup"):
        _fit([BackupAndRestore(str(backup_dir))])
    with h5py.File(backup_dir / name, "r+") as handle:
        del handle["resume_state/rng/numpy"]
    with pytest.raises(ValueError, match="missing HDF5 dataset '/resume_state/rng/numpy'"):
        _fit([BackupAndRestore(str(backup_dir))])
