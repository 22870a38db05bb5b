"""Functions tests/test_distribute_resume.py runs on each rank (a module of its own: spawned
workers import it by name). Every worker uses one thread and float64."""

import os
import random
import shutil

import numpy as np
import torch

N_FEATURES = 5
EPOCHS, BATCH = 4, 32


class Killed(Exception):
    """What the "kill" raises on every rank during epoch 3."""


def dataset(n, seed=3):
    """A float64 binary task: x `(n, 5)`, y `(n, 1)`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    y = (x[:, :1] + 0.3 * rng.normal(size=(n, 1)) > 0).astype("float64")
    return x, y


def build_model(regularized, jit_compile=False):
    """A small float64 MLP (with BatchNormalization and Dropout when `regularized`), the
    same initial weights on every rank and every run, compiled with Adam and AUC."""
    from layerkit import layers, metrics, models, optimizers

    torch.manual_seed(7)
    stack = [layers.Dense(8, activation="tanh", input_shape=(N_FEATURES,), dtype="float64")]
    if regularized:
        stack += [layers.BatchNormalization(dtype="float64"),
                  layers.Dropout(0.3, dtype="float64")]
    stack.append(layers.Dense(1, activation="sigmoid", dtype="float64"))
    model = models.Sequential(stack)
    model.compile(optimizers.Adam(0.01), "binary_crossentropy", jit_compile=jit_compile,
                  metrics=[metrics.AUC(num_thresholds=50, name="auc", dtype="float64")])
    return model


def _fresh_process(rank):
    """The generators as a restarted script would find them: the same seeds every run, a
    different numpy/Python stream per rank."""
    torch.manual_seed(100)
    np.random.seed(11 + rank)
    random.seed(23 + rank)


def _callbacks():
    """Callbacks that draw from every global generator a different amount per rank (as
    per-rank augmentation would), so the ranks' generators part ways: restoring rank 0's
    generators on rank 1 gives rank 1 other Dropout masks."""
    from layerkit import callbacks

    class RankNoise(callbacks.Callback):
        def __init__(self, rank):
            super().__init__()
            self.rank = rank

        def on_epoch_begin(self, epoch, logs=None):
            torch.rand(self.rank + 1)
            np.random.rand(self.rank + 1)
            for _ in range(self.rank + 1):
                random.random()

    class CountingBackup(callbacks.BackupAndRestore):
        writes = 0

        def _write(self, snapshot):
            type(self).writes += 1
            super()._write(snapshot)

    class KillDuringEpoch(callbacks.Callback):
        """Raises on every rank after batch 1 of epoch 2 (the third): a killed run."""

        def on_train_batch_end(self, batch, logs=None):
            if self.training_state.epoch == 2 and batch == 1:
                raise Killed("killed during epoch 3")

    return RankNoise, CountingBackup, KillDuringEpoch


def _fit(strategy, folder, kill=False, save_freq="epoch"):
    from layerkit import config

    config.set_floatx("float64")
    RankNoise, CountingBackup, KillDuringEpoch = _callbacks()
    _fresh_process(strategy.rank)
    x, y = dataset(70)
    with strategy.scope():
        model = build_model(regularized=True)
    backup = CountingBackup(folder, save_freq=save_freq)
    extra = [KillDuringEpoch()] if kill else []
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0,
                        callbacks=[RankNoise(strategy.rank), backup] + extra)
    return history.history, model.get_weights(), CountingBackup.writes


def resume_checks(folder):
    """On each rank: an uninterrupted 4-epoch fit; the same fit killed during epoch 3 with
    backups at epoch ends, its backup folder as the kill left it (copied to `folder/kept-epoch` by
    rank 0) and the resumed fit; the same with a backup every 2 batches (the kill leaves
    one after batch 2 of epoch 3); then the jit_compile checks."""
    torch.set_num_threads(1)
    from layerkit import distribute

    strategy = distribute.MirroredStrategy(timeout=60)
    result = {"rank": strategy.rank,
              "uninterrupted": _fit(strategy, os.path.join(folder, "whole"))}
    for name, save_freq in (("epoch", "epoch"), ("batches", 2)):
        backup = os.path.join(folder, name)
        try:
            _fit(strategy, backup, kill=True, save_freq=save_freq)
            raise AssertionError("the kill did not stop fit")
        except Killed:
            pass
        result[name] = {"left": sorted(os.listdir(backup))}
        if strategy.rank == 0:
            shutil.copytree(backup, os.path.join(folder, "kept-" + name))
        result[name]["resumed"] = _fit(strategy, backup, save_freq=save_freq)
    result["jit"] = jit_checks(strategy)
    return result


def jit_checks(strategy):
    """fit with jit_compile=True and eagerly (N=65: an uneven last batch and a ghost part),
    the numbers of compiled graphs after the first epoch and at the end, and graph breaks."""
    import torch._inductor.config as inductor

    from layerkit import callbacks, config

    config.set_floatx("float64")
    inductor.compile_threads = 1  # no pool of compile workers on 2 busy cores
    x, y = dataset(65)
    runs = {}
    graphs = []
    for jit in (False, True):
        with strategy.scope():
            model = build_model(regularized=False, jit_compile=jit)
        count = callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: graphs.append(_compiled_graphs()))
        history = model.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0,
                            callbacks=[count] if jit else [])
        runs[jit] = history.history, model.get_weights()
    return {"eager": runs[False], "jit": runs[True], "graphs": graphs,
            "breaks": sum(_dynamo_counters()["graph_break"].values())}


def _compiled_graphs():
    return _dynamo_counters()["stats"]["unique_graphs"]


def _dynamo_counters():
    from torch._dynamo.utils import counters

    return counters
