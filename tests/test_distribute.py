"""Data parallelism on 2 CPU processes (gloo, one thread each) against one process.

One `launch` runs every equivalence check (spawning torch costs seconds per process); the
failure tests each need their own. Every launch has a hard timeout, so nothing hangs.
"""

import numpy as np
import pytest
import torch

import distribute_workers as workers
from layerkit import distribute

SIZES, EPOCHS, BATCH = (64, 65, 70), 3, 32


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ranks")


@pytest.fixture(scope="module")
def two_ranks(shared_folder):
    return distribute.launch(workers.equivalence_checks, 2,
                             args=(SIZES, EPOCHS, BATCH, workers.FIT_CASES,
                                   str(shared_folder)), timeout=300)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("n", SIZES)
def test_two_ranks_equal_one_process(two_ranks, float64, n, optimizer):
    """2 ranks x global batch 32 == 1 process x batch 32 (3 epochs, float64, sample
    weights, uneven tails): weights, loss, AUC and Precision."""
    torch.set_num_threads(1)
    x, y, w = workers.dataset(n)
    history, weights = workers.train_manually(workers.build_model(optimizer), x, y, w,
                                              EPOCHS, BATCH)
    for result in two_ranks:
        ranked_history, ranked_weights = result["runs"][(n, optimizer)]
        for a, b in zip(ranked_weights, weights):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        for epoch, (ranked, single) in enumerate(zip(ranked_history, history)):
            # the same numbers under the same metric order (names carry unique suffixes)
            np.testing.assert_allclose(list(ranked.values()), list(single.values()),
                                       rtol=1e-10, err_msg=f"epoch {epoch}: {ranked}")


@pytest.mark.parametrize("case", workers.FIT_CASES, ids=str)
def test_fit_and_evaluate_on_two_ranks_equal_one_process(two_ranks, float64, case):
    """Model.fit under MirroredStrategy.scope(): 2 ranks x global batch 32 == 1 process x
    batch 32 over 3 epochs (float64; sample weights, validation data; N=65 also with
    shuffling, class weights and Adam): weights, History and evaluate, on both ranks."""
    torch.set_num_threads(1)
    history, weights, evaluated = workers.fit_and_evaluate(*case)
    index = workers.FIT_CASES.index(case)
    for result in two_ranks:
        ranked_history, ranked_weights, ranked_evaluated = result["fits"][index]
        for a, b in zip(ranked_weights, weights):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        assert len(ranked_history) == len(history) == 6  # loss, 2 metrics, their val_
        for (key, values), single in zip(ranked_history.items(), history.values()):
            np.testing.assert_allclose(values, single, rtol=1e-10, err_msg=key)
        np.testing.assert_allclose(list(ranked_evaluated.values()), list(evaluated.values()),
                                   rtol=1e-10)


def test_early_stop_on_one_rank_stops_both(two_ranks):
    assert [r["early_stop"] for r in two_ranks] == [2, 2]


def test_freeze_and_recompile_under_ddp(two_ranks, float64):
    weights, losses = workers.freeze_and_recompile()
    for result in two_ranks:
        ranked_weights, ranked_losses = result["freeze"]
        for a, b in zip(ranked_weights, weights):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ranked_losses, losses, rtol=1e-10)


def test_only_rank_zero_writes_and_its_files_load_in_one_process(two_ranks, shared_folder):
    from layerkit import models

    assert [r["writers"][0] for r in two_ranks] == [2, 0]  # CSVLogger epochs written
    lines = (shared_folder / "log.csv").read_text().strip().splitlines()
    assert lines[0].split(",")[0] == "epoch" and len(lines) == 3
    loaded = models.load_model(shared_folder / "model.keras")
    for a, b in zip(loaded.get_weights(), two_ranks[1]["writers"][1]):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in shared_folder.iterdir()) == ["log.csv", "model.keras"]


def test_predict_shards_gathers_and_keeps_the_input_order(two_ranks, float64):
    torch.manual_seed(7)  # the workers' models start from the same draws (DDP-free predict)
    single, double, rows = workers.predictions()
    assert rows == 65
    for result in two_ranks:
        ranked_single, ranked_double, ranked_rows = result["predict"]
        assert ranked_rows == 33  # 16 + 16 + 1 (rank 1's last part is a ghost)
        assert ranked_single.shape == single.shape == (65, 1)
        np.testing.assert_allclose(ranked_single, single, rtol=1e-12)
        assert [a.shape for a in ranked_double] == [(65, 2), (65, 1)]
        for a, b in zip(ranked_double, double):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_batchnorm_statistics_equal_across_ranks(two_ranks):
    first, second = (r["batchnorm"] for r in two_ranks)
    assert len(first) == 8  # Dense 2, BatchNormalization 4 (moving mean, variance), Dense 2
    assert np.abs(first[4]).min() > 0  # the moving mean moved (each rank saw other data)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", workers.SYNC_SIZES)
def test_synchronized_batchnorm_on_two_ranks_equals_one_process(two_ranks, float64, n):
    """BatchNormalization(synchronized=True): 2 ranks x global batch 32 == 1 process x batch
    32 over 2 epochs (float64, Adam, sample weights; uneven last batches and a ghost shard):
    weights, moving statistics and History, on both ranks."""
    torch.set_num_threads(1)
    weights, losses = workers.synchronized_batchnorm(n)
    assert len(weights) == 14  # Dense 2, BN 4, Dense 2, BN 4, Dense 2
    for result in two_ranks:
        ranked_weights, ranked_losses = result["synchronized"][n]
        for a, b in zip(ranked_weights, weights):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ranked_losses, losses, rtol=1e-10)


@pytest.mark.parametrize("n", workers.SYNC_SIZES[1:])
def test_synchronized_batchnorm_with_a_mask_on_two_ranks_equals_one_process(two_ranks,
                                                                           float64, n):
    """The same on masked sequences: the mask weighs the global moments (N = 69, 65)."""
    torch.set_num_threads(1)
    weights, losses = workers.synchronized_masked_batchnorm(n)
    assert np.abs(weights[4]).min() > 0  # BN's moving mean moved
    for result in two_ranks:
        ranked_weights, ranked_losses = result["synchronized_masked"][n]
        for a, b in zip(ranked_weights, weights):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ranked_losses, losses, rtol=1e-10)


def test_stop_flag_is_or_reduced(two_ranks):
    assert [r["stops"] for r in two_ranks] == [(True, False), (True, False)]
    assert [(r["rank"], r["replicas"]) for r in two_ranks] == [(0, 2), (1, 2)]


def test_exception_on_rank_one_ends_both_with_its_message():
    with pytest.raises(distribute.WorkerError, match="rank 1 failed: ValueError: rank one "
                                                     "cannot go on: bad batch 17") as info:
        distribute.launch(workers.raise_on_rank_one, 2, timeout=60)
    assert info.value.rank == 1
    assert "in raise_on_rank_one" in info.value.remote_traceback


def test_collective_timeout_names_rank_and_operation():
    with pytest.raises(distribute.WorkerError, match=r"rank 0 failed: .*CollectiveError: "
                                                     r"rank 0 of 2: synchronising "
                                                     r"stop_training failed or timed out"):
        distribute.launch(workers.skip_collective_on_rank_one, 2, timeout=60)


def test_launch_stops_workers_after_its_timeout():
    with pytest.raises(TimeoutError, match=r"ranks \[0\] did not finish within 3 s"):
        distribute.launch(workers.sleep_forever, 1, timeout=3)


def test_the_same_script_under_torchrun_and_alone(tmp_path):
    """One real `torchrun --nproc_per_node=2` run of an unchanged single-process script."""
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "distribute_script.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TF_CONFIG"):
        env.pop(key, None)
    alone, ranked = tmp_path / "alone.npz", tmp_path / "torchrun.npz"
    subprocess.run([sys.executable, script, str(alone)], env=env, check=True, timeout=300)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node=2", script, str(ranked)], env=env, check=True,
                   timeout=300, capture_output=True)
    one, two = np.load(alone), np.load(ranked)
    assert (int(one["replicas"]), int(two["replicas"])) == (1, 2)
    assert sorted(os.listdir(tmp_path)) == ["alone.npz", "torchrun.npz"]  # no temp debris
    for key in [k for k in one.files if k != "replicas"]:  # weights, History's loss
        np.testing.assert_allclose(two[key], one[key], rtol=1e-10, atol=1e-13, err_msg=key)
