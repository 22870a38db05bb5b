"""BackupAndRestore and jit_compile under data parallelism, on 2 CPU processes (gloo, one
thread each). One `launch` runs every check (spawning torch costs seconds per process), with
a hard timeout, so nothing hangs.

Resume: a 2-rank fit with Dropout and shuffling, killed during epoch 3 (both ranks raise)
and resumed from its BackupAndRestore folder, ends bitwise equal to the uninterrupted
2-rank fit (weights and History) on both ranks. The callbacks draw a different amount from
every global generator on each rank, so the ranks' generators part ways: a backup that
restored rank 0's generators on every rank would give rank 1 other Dropout masks.
"""

import numpy as np
import pytest
import torch

import distribute_resume_workers as workers
from layerkit import callbacks, distribute
from layerkit.saving import checkpoint


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("resume")


@pytest.fixture(scope="module")
def two_ranks(folder):
    return distribute.launch(workers.resume_checks, 2, args=(str(folder),), timeout=240)


@pytest.mark.parametrize("backups", ["epoch", "batches"])
def test_killed_run_resumes_bitwise_on_every_rank(two_ranks, backups):
    """Backups at epoch ends (the kill leaves epoch 2's) and every 2 batches (it leaves
    one after batch 2 of epoch 3: every rank's running sums too)."""
    for result in two_ranks:
        history, weights, _ = result["uninterrupted"]
        resumed_history, resumed_weights, _ = result[backups]["resumed"]
        assert len(history["loss"]) == workers.EPOCHS
        assert len(resumed_history["loss"]) == 2  # epochs 3 and 4
        assert resumed_history.keys() == history.keys()
        for key, values in resumed_history.items():
            assert values == history[key][2:], key  # bitwise
        assert len(weights) == len(resumed_weights) == 8  # BatchNormalization's 4 too
        for a, b in zip(resumed_weights, weights):
            np.testing.assert_array_equal(a, b)
    # the ranks' weights are one model, and every rank reports the global History
    for a, b in zip(two_ranks[0][backups]["resumed"][1], two_ranks[1][backups]["resumed"][1]):
        np.testing.assert_array_equal(a, b)
    assert two_ranks[0][backups]["resumed"][0] == two_ranks[1][backups]["resumed"][0]


@pytest.mark.parametrize("backups, name, step", [("epoch", "ckpt-2.weights.h5", 0),
                                                 ("batches", "ckpt-2-2.weights.h5", 2)])
def test_only_rank_zero_writes_one_backup_with_every_ranks_generators(two_ranks, folder,
                                                                      backups, name, step):
    # one backup per epoch in the uninterrupted fit, on rank 0 only
    assert [r["uninterrupted"][2] for r in two_ranks] == [workers.EPOCHS, 0]
    # the resumed fit's: 2 epoch ends (and every 2nd of the 4 batches it trains)
    writes = 2 if backups == "epoch" else 4
    assert [r[backups]["resumed"][2] for r in two_ranks] == [writes, 0]
    assert two_ranks[0][backups]["left"] == [name, "training_metadata.json"]
    assert sorted(p.name for p in (folder / "whole").iterdir()) == []  # deleted at the end
    snapshot = checkpoint.read_backup(folder / f"kept-{backups}" / name)
    assert (snapshot.epoch, snapshot.step, snapshot.world_size) == (2, step, 2)
    first, second = (part["rng"] for part in snapshot.ranks)
    assert not np.array_equal(first["torch"], second["torch"])  # the ranks' own generators
    assert first["numpy"]["pos"] != second["numpy"]["pos"]
    assert not np.array_equal(first["python"]["words"], second["python"]["words"])
    np.testing.assert_array_equal(first["generators"]["data-parallel loading"],
                                  second["generators"]["data-parallel loading"])
    if step:  # each rank's running sums of its own parts of the epoch's first 2 batches
        sums = [part["running"] for part in snapshot.ranks]
        assert sums[0].keys() == sums[1].keys() and "seen" in sums[0]
        assert not all(np.array_equal(sums[0][k], sums[1][k]) for k in sums[0])
        # and its BatchNormalization moving statistics (averaged only at the epoch's end)
        means = [part["statistics"][0] for part in snapshot.ranks]
        assert means[0].shape == (8,) and not np.array_equal(*means)


def test_the_backup_loads_in_one_process_but_resumes_only_on_two(two_ranks, folder, float64):
    torch.set_num_threads(1)
    path = folder / "kept-epoch" / "ckpt-2.weights.h5"
    model = workers.build_model(regularized=True)
    model.load_weights(path)  # an ordinary Keras weights file
    assert [w.shape for w in model.get_weights()] == [(5, 8), (8,)] + [(8,)] * 4 + [(8, 1),
                                                                                   (1,)]
    x, y = workers.dataset(70)
    with pytest.raises(ValueError, match=r"ckpt-2\.weights\.h5 was written by a run on 2 "
                                         r"process\(es\) and this run has 1.*resume with 2"):
        model.fit(x, y, batch_size=32, epochs=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(folder / "kept-epoch")])


def test_jit_compile_on_two_ranks_equals_eager_and_one_process(two_ranks, float64):
    """compile(jit_compile=True) under MirroredStrategy: the forward runs through
    torch.compile and DDP still averages the gradients (N=65: an uneven last batch and a
    ghost part on rank 1): weights and History equal the eager 2-rank fit and the
    1-process fit (float64, Adam, 3 epochs), and nothing recompiles after the first epoch."""
    torch.set_num_threads(1)
    x, y = workers.dataset(65)
    model = workers.build_model(regularized=False)
    single = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0).history
    for result in two_ranks:
        jit = result["jit"]
        for name in ("eager", "jit"):
            history, weights = jit[name]
            for a, b in zip(weights, model.get_weights()):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13, err_msg=name)
            for key, values in single.items():
                np.testing.assert_allclose(history[key], values, rtol=1e-10, err_msg=key)
        first_epoch, *later = jit["graphs"]
        assert len(later) == 2 and set(later) == {first_epoch}  # no recompiles
        assert 1 <= first_epoch <= 4 and jit["breaks"] == 0


def test_a_one_process_backup_does_not_resume_on_two_ranks():
    """The other direction of the world-size check (no launch needed: each rank asks
    `Snapshot.for_rank` with its own rank and the run's number of processes)."""
    from layerkit.training import rng
    from layerkit.training.state import Snapshot

    alone = Snapshot(3, 0, rng.capture())
    assert alone.world_size == 1 and alone.for_rank(0, 1) is alone
    for rank in (0, 1):
        with pytest.raises(ValueError, match=r"backup.h5 was written by a run on 1 "
                                             r"process\(es\) and this run has 2"):
            alone.for_rank(rank, 2, "backup.h5")
    parts = [{"rng": rng.capture(), "epoch_rng": None, "running": None, "statistics": None}
             for _ in range(2)]
    both = alone.gathered(parts)
    assert both.world_size == 2 and both.for_rank(1, 2).rng is parts[1]["rng"]
