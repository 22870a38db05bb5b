"""The single-process parts of layerkit.distribute: sharding arithmetic, the launcher's
environment, the fallback strategy, rank-0 writing."""

import json
import os

import numpy as np
import pytest

from layerkit import distribute
from layerkit.distribute import environment, sharding


@pytest.mark.parametrize("n", [64, 65, 70])
def test_shards_cover_every_sample_once_in_order(n):
    order = sharding.epoch_order(n, seed=5, epoch=2, shuffle=True)
    per_rank = [sharding.epoch_shards(order, 32, 2, rank) for rank in range(2)]
    assert len(per_rank[0]) == len(per_rank[1]) == -(-n // 32)  # same step count
    seen = []
    for step in zip(*per_rank):
        real = [s.indices for s in step if not s.ghost]
        seen.extend(np.concatenate(real).tolist())
        assert sum(s.factor for s in step) == pytest.approx(2.0)
    assert seen == order.tolist()  # rank order == global order, nothing padded


def test_split_sizes_and_factors_for_70_samples():
    shards = [sharding.epoch_shards(np.arange(70), 32, 2, r) for r in range(2)]
    assert [[len(s.indices) for s in ss] for ss in shards] == [[16, 16, 3], [16, 16, 3]]
    assert [s.factor for s in shards[0]] == [1.0, 1.0, 1.0]
    assert [s.batch_size for s in shards[1]] == [32, 32, 6]


def test_last_batch_of_65_gives_rank_one_a_ghost():
    rank0 = sharding.epoch_shards(np.arange(65), 32, 2, 0)
    rank1 = sharding.epoch_shards(np.arange(65), 32, 2, 1)
    assert rank0[-1].indices.tolist() == [64] and rank0[-1].factor == 2.0
    assert rank1[-1].ghost and rank1[-1].factor == 0.0 and rank1[-1].indices.tolist() == [64]
    assert not any(s.ghost for s in rank0)


@pytest.mark.parametrize("n,world", [(64, 2), (65, 2), (70, 2), (70, 3), (7, 4)])
def test_factors_make_averaged_gradients_exact(n, world):
    """DDP's mean of the factor-scaled per-rank mean gradients == the global batch's mean
    gradient, for a least-squares model (gradients written out in NumPy)."""
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(n, 3)), rng.normal(size=(n,)), rng.normal(size=(3,))

    def mean_gradient(rows):
        return (2 * (x[rows] @ w - y[rows])[:, None] * x[rows]).mean(axis=0)

    order = sharding.epoch_order(n, seed=1, shuffle=True)
    steps = zip(*[sharding.epoch_shards(order, 32, world, r) for r in range(world)])
    for (start, stop), step in zip(sharding.global_batches(n, 32), steps):
        averaged = sum(s.factor * mean_gradient(s.indices) for s in step) / world
        np.testing.assert_allclose(averaged, mean_gradient(order[start:stop]), rtol=1e-12)


def test_epoch_order_is_shared_and_changes_with_epoch():
    a = sharding.epoch_order(50, seed=9, epoch=0, shuffle=True)
    assert a.tolist() == sharding.epoch_order(50, seed=9, epoch=0, shuffle=True).tolist()
    assert a.tolist() != sharding.epoch_order(50, seed=9, epoch=1, shuffle=True).tolist()
    assert sorted(a.tolist()) == list(range(50))
    assert sharding.epoch_order(4).tolist() == [0, 1, 2, 3]


def test_sharding_errors_name_the_argument():
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, received 0"):
        sharding.global_batches(10, 0)
    with pytest.raises(ValueError, match=r"rank must be an int in \[0, 2\), received 2"):
        sharding.epoch_shards(np.arange(4), 2, 2, 2)
    with pytest.raises(ValueError, match="seed"):
        sharding.epoch_order(4, shuffle=True)


def test_environment_from_torchrun_variables():
    env = environment.detect({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1",
                              "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1",
                              "MASTER_PORT": "1234"})
    assert env == environment.ProcessEnvironment(3, 4, 1, 2, "10.0.0.1", 1234, "torchrun")


def test_environment_from_tf_config():
    spec = {"cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", "host1:2223"]},
            "task": {"type": "worker", "index": 1}}
    env = environment.detect({"TF_CONFIG": json.dumps(spec)})
    assert env == environment.ProcessEnvironment(2, 3, 1, 2, "host0", 2222, "TF_CONFIG")


def test_environment_errors_name_the_variable():
    with pytest.raises(ValueError, match=r"\['MASTER_ADDR', 'MASTER_PORT'\] are not"):
        environment.detect({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="WORLD_SIZE must be an int >= 1, received 'two'"):
        environment.detect({"RANK": "0", "WORLD_SIZE": "two", "MASTER_ADDR": "a",
                            "MASTER_PORT": "1"})
    with pytest.raises(ValueError, match="'ps'"):
        environment.detect({"TF_CONFIG": json.dumps({"cluster": {"ps": ["a:1"]},
                                                     "task": {"type": "ps", "index": 0}})})


def test_single_process_fallback_and_scope():
    strategy = distribute.MirroredStrategy(environ={})
    assert strategy.num_replicas_in_sync == 1 and strategy.is_chief
    assert distribute.get_strategy().num_replicas_in_sync == 1 and not distribute.has_strategy()
    with strategy.scope() as inner:
        assert inner is strategy and distribute.get_strategy() is strategy
    assert not distribute.has_strategy()
    assert distribute.should_stop(True) is True and distribute.should_stop(False) is False
    assert strategy.shared_seed(11) == 11


def test_mirrored_devices_must_match_local_processes():
    with pytest.raises(ValueError, match="one process per device"):
        distribute.MirroredStrategy(devices=["/gpu:0", "/gpu:1"], environ={})


def test_write_atomically_replaces_the_file(tmp_path):
    target = tmp_path / "log.csv"
    target.write_text("old")
    distribute.write_atomically(target, lambda p: open(p, "w").write("new"))
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["log.csv"]

    def failing(path):
        open(path, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        distribute.write_atomically(target, failing)
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["log.csv"]


def test_chief_only_runs_on_rank_zero():
    assert distribute.chief_only(lambda: 5)() == 5
