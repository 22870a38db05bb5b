"""The shared-memory all-reduce of CPU ranks on one host (`distribute.shared_memory`): the
same sums on every rank bit for bit, gloo's sums within float rounding, DDP's gradients, the
agreement to fall back, no hang when a peer stalls, dies or leaves, nothing left in /dev/shm.
Every launch has a hard timeout."""

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


def test_segment_unlinked_as_soon_as_every_rank_mapped_it(sums):
    assert [r["files_while_open"] for r in sums] == [[], []]


def test_ddp_hook_gradients_equal_gloo_with_uneven_buckets():
    by_rank = distribute.launch(workers.ddp_gradients, 2, timeout=120)
    for step in range(3):
        for name in ("gloo", "shared memory"):  # every rank holds the same gradients
            for a, b in zip(by_rank[0][name][step], by_rank[1][name][step]):
                assert a.tobytes() == b.tobytes()
        for hooked, default in zip(by_rank[0]["shared memory"][step],
                                   by_rank[0]["gloo"][step]):
            np.testing.assert_allclose(hooked, default, rtol=1e-13, atol=1e-15)


def test_replica_uses_shared_memory_on_cpu_ranks_and_closes_it():
    results = distribute.launch(workers.replica_modes, 2, timeout=120)
    assert results == [("shared memory", True, True)] * 2  # stop on rank 1 stops both


def test_ranks_agree_to_fall_back_when_one_cannot_take_part():
    results = distribute.launch(workers.replica_modes, 2, args=(False,), timeout=120)
    assert results == [("ddp", True, True)] * 2


def test_world_of_one_has_no_ddp():
    assert distribute.launch(workers.world_of_one_mode, 1, timeout=120) == ["none"]


@pytest.mark.parametrize("how, expected, limit", [
    ("sleep", "did not arrive within the timeout of 3 s", 6.0),
    ("close", "rank 1 left the group", 1.0),
    ("exit", "exited", 1.0)])
def test_stalled_peer_raises_collective_error_without_hanging(tmp_path, how, expected, limit):
    try:
        results = distribute.launch(workers.peer_stalls, 2, args=(str(tmp_path), how),
                                    timeout=60)
    except distribute.WorkerError as e:  # the exiting rank 1 is reported first
        assert how == "exit" and e.rank == 1
        results = None
    elapsed, outcome = (tmp_path / f"{how}.txt").read_text().split("\n", 1)
    assert outcome.startswith("CollectiveError: rank 0 of 2: synchronising the test's "
                              "values through shared memory failed"), outcome
    assert expected in outcome
    assert float(elapsed) < limit
    if results is not None:
        assert "rank 0 of 2: synchronising the test's values" in results[0][2]


def test_fit_with_and_without_the_hook_agree_and_leave_nothing():
    hooked = distribute.launch(workers.fit_results, 2, args=(True,), timeout=120)
    plain = distribute.launch(workers.fit_results, 2, args=(False,), timeout=120)
    for (history, weights, files), (plain_history, plain_weights, _) in zip(hooked, plain):
        assert files == []
        for key in plain_history:
            np.testing.assert_allclose(history[key], plain_history[key], rtol=1e-5)
        for a, b in zip(weights, plain_weights):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [w.tobytes() for w in hooked[0][1]] == [w.tobytes() for w in hooked[1][1]]


def test_nothing_left_in_dev_shm():
    """Runs last in this file: every segment created above was unlinked."""
    assert workers.leftovers() == []
    assert shared_memory.current() is None
