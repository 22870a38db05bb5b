"""The shared-memory all-reduce of CPU ranks on one host (`distribute.shared_memory`): the
same sums on every rank bit for bit, gloo's sums within float rounding, DDP's gradients, the
agreement to fall back, no hang when a peer stalls, dies or leaves, nothing left in /dev/shm.
Every launch has a hard timeout."""

import json

import numpy as np
import pytest
import torch

import distribute_shm_workers as workers
from layerkit import distribute
from layerkit.distribute import shared_memory


@pytest.fixture(scope="module")
def sums():
    return distribute.launch(workers.reduce_checks, 2, timeout=120)


@pytest.mark.parametrize("n", workers.SIZES)
@pytest.mark.parametrize("dtype", workers.DTYPES, ids=str)
def test_sums_bitwise_equal_on_both_ranks_and_close_to_gloo(sums, n, dtype):
    expected = sum(workers._values(rank, n, dtype, seed) for rank, seed in
                   [(r, _seed(n, dtype)) for r in (0, 1)]).numpy()
    shared0, gloo0 = sums[0]["results"][(n, str(dtype))]
    shared1, _ = sums[1]["results"][(n, str(dtype))]
    assert shared0.tobytes() == shared1.tobytes()  # bitwise, not just close
    np.testing.assert_array_equal(shared0, expected)  # a + b in rank order
    np.testing.assert_allclose(shared0, gloo0, rtol=1e-6 if dtype == torch.float32 else 1e-14)


def _seed(n, dtype):
    cases = [(m, d) for m in workers.SIZES for d in workers.DTYPES]
    return cases.index((n, dtype))


def test_divided_and_mixed_sums(sums):
    halves = [workers._values(r, 999, torch.float64, 7) / 2 for r in (0, 1)]
    for result in sums:
        np.testing.assert_array_equal(result["divided"], (halves[0] + halves[1]).numpy())
        block, count, ramp = result["mixed"]
        np.testing.assert_array_equal(block, np.full((3, 2), 4.0, dtype=np.float32))
        assert count == 9 and count.dtype == np.int64
        np.testing.assert_array_equal(ramp, 2 * np.arange(5.0))


def test_all_gather_stacks_by_rank(sums):
    expected = np.stack([np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3) + 10])
    for result in sums:
        np.testing.assert_array_equal(result["gathered"], expected.astype(np.float32))


def test_segment_unlinked_as_soon_as_every_rank_mapped_it(sums):
    assert [r["files_while_open"] for r in sums] == [[], []]


def test_ddp_hook_gradients_equal_gloo_with_uneven_buckets(sums):
    by_rank = [result["gradients"] for result in sums]
    for step in range(3):
        for name in ("gloo", "shared memory"):  # every rank holds the same gradients
            for a, b in zip(by_rank[0][name][step], by_rank[1][name][step]):
                assert a.tobytes() == b.tobytes()
        for hooked, default in zip(by_rank[0]["shared memory"][step],
                                   by_rank[0]["gloo"][step]):
            np.testing.assert_allclose(hooked, default, rtol=1e-13, atol=1e-15)


def test_replica_uses_shared_memory_on_cpu_ranks_and_closes_it(sums):
    """(mode, OR of the stop flags, no group left open) on each rank."""
    assert [result["modes"][0] for result in sums] == [("shared memory", True, True)] * 2


def test_ranks_agree_to_fall_back_when_one_cannot_take_part(sums):
    assert [result["modes"][1] for result in sums] == [("ddp", True, True)] * 2


def test_world_of_one_has_no_ddp():
    assert distribute.launch(workers.world_of_one_mode, 1, timeout=120) == ["none"]


STALLS = {"close": ("rank 1 left the group", 1.0),
          "sleep": ("did not arrive within the timeout of 3 s", 5.0),
          "exit": ("exited", 1.0)}


@pytest.fixture(scope="module")
def stalls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stalls")
    try:
        distribute.launch(workers.peer_stalls, 2, args=(str(folder), list(STALLS)),
                          timeout=120)
    except distribute.WorkerError as e:  # rank 1's exit, last, is reported
        assert e.rank == 1 and "exited with code 3" in str(e)
    else:
        raise AssertionError("rank 1 exited: launch must report it")
    return folder


@pytest.mark.parametrize("how", list(STALLS))
def test_stalled_peer_raises_collective_error_without_hanging(stalls, how):
    expected, limit = STALLS[how]
    found = json.loads((stalls / f"{how}.json").read_text())
    assert found["outcome"].startswith(
        "CollectiveError: rank 0 of 2: synchronising the test's values through shared "
        "memory failed"), found
    assert expected in found["outcome"]
    assert found["elapsed"] < limit
    assert found["again"] == found["outcome"]  # failed for good: no second wait


def test_fit_with_and_without_the_hook_agree_and_leave_nothing():
    by_rank = distribute.launch(workers.fit_results, 2, timeout=120)
    assert ([w.tobytes() for w in by_rank[0][0][1]] ==
            [w.tobytes() for w in by_rank[1][0][1]])  # the ranks' weights: bitwise equal
    for hooked, plain in by_rank:
        (history, weights, files), (plain_history, plain_weights, _) = hooked, plain
        assert files == []
        for key in plain_history:
            np.testing.assert_allclose(history[key], plain_history[key], rtol=1e-5)
        for a, b in zip(weights, plain_weights):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_nothing_left_in_dev_shm():
    """Runs last in this file: every segment created above was unlinked."""
    assert workers.leftovers() == []
    assert shared_memory.current() is None
