"""Streams (generators, Sequences, DataLoaders) under data parallelism: 2 CPU processes (gloo,
one thread each) against one process, in float64.

One `launch` runs every case on both ranks (spawning torch costs seconds per process); the
single-process references run here. The launch has a hard timeout, so nothing hangs.
"""

import re

import numpy as np
import pytest
import torch

import distribute_stream_workers as workers
from layerkit import config, distribute


@pytest.fixture(scope="module")
def two_ranks():
    return distribute.launch(workers.stream_checks, 2, timeout=240)


@pytest.fixture
def float64():
    previous = config.floatx()
    config.set_floatx("float64")
    torch.set_num_threads(1)
    yield
    config.set_floatx(previous)


def _assert_same_history(ranked, single):
    """The same numbers under the same names (metric names may carry unique suffixes:
    `auc_3`, as each process built another number of models)."""
    assert [_base(k) for k in ranked] == [_base(k) for k in single]
    for (key, values), expected in zip(ranked.items(), single.values()):
        np.testing.assert_allclose(values, expected, rtol=1e-10, err_msg=key)


def _base(name):
    return re.sub(r"_\d+$", "", name)


@pytest.mark.parametrize("n", workers.SIZES)
@pytest.mark.parametrize("form", workers.FORMS)
def test_fit_on_a_stream_on_two_ranks_equals_one_process(two_ranks, float64, form, n):
    """2 ranks x global batch 32 == 1 process x batch 32 over 3 epochs: weights, History
    (loss, AUC, Precision and their val_ from a validation generator with validation_steps)
    and evaluate on a one-pass generator; sample weights in the batches; the Sequence
    shuffled by fit and by its on_epoch_end, the DataLoader shuffled, with class weights."""
    history, weights, evaluated = workers.fit_stream(form, n)
    assert len(history) == 6 and len(history["loss"]) == workers.EPOCHS
    for result in two_ranks:
        ranked_history, ranked_weights, ranked_evaluated = result["fits"][(form, n)]
        for a, b in zip(ranked_weights, weights, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        _assert_same_history(ranked_history, history)
        _assert_same_history(ranked_evaluated, evaluated)


def test_the_shuffled_streams_really_shuffle(float64):
    """The Sequence and DataLoader cases train on another order than the plain one (so the
    equality above covers shuffling): their weights differ from an unshuffled fit's."""
    from distribute_workers import build_model

    x, y, w = workers.dataset(70)
    plain = build_model("adam")
    plain.fit(workers.Batches(x, y, w), epochs=workers.EPOCHS, verbose=0, shuffle=False)
    _, shuffled, _ = workers.fit_stream("sequence", 70)
    assert not np.allclose(plain.get_weights()[0], shuffled[0])


def test_predict_on_a_sequence_gathers_in_order(two_ranks, float64):
    single = workers.predict_sequence()
    assert single.shape == (65, 1)
    for result in two_ranks:
        np.testing.assert_allclose(result["predict"], single, rtol=1e-12)


def test_a_batch_stop_on_rank_one_stops_both_at_that_batch(two_ranks, float64):
    """on_train_batch_end sets stop_training on rank 1 only after batch 2 of epoch 1: both
    ranks end that batch last, and equal one process stopping there (weights, History)."""
    history, weights, seen = workers.stop_at_batch()
    last = (workers.STOP_EPOCH, workers.STOP_BATCH)
    assert seen[-1] == last and len(seen) == 5 + 3
    for result in two_ranks:
        ranked_history, ranked_weights, ranked_seen = result["stop"]
        assert ranked_seen == seen
        _assert_same_history(ranked_history, history)
        for a, b in zip(ranked_weights, weights, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case, expected", [
    ("values", r"at epoch 0 rank 1's first batch's values \(checksum\) differs from rank 0's"),
    ("length", r"at epoch 0 rank 1's number of batches per epoch differs from rank 0's: 3 vs 2"),
    ("end", r"rank 0's generator ended after 2 batches while rank 1's yielded another"),
])
def test_streams_that_differ_across_ranks_raise_on_both(two_ranks, case, expected):
    messages = [result["mismatches"][case] for result in two_ranks]
    assert messages[0] == messages[1]
    assert messages[0] is not None
    assert "MirroredStrategy: every rank must iterate the same" in messages[0]
    assert "seed its random generators alike" in messages[0]
    assert re.search(expected, messages[0]), messages[0]


def test_take_rows_cuts_every_tensor_of_a_batch_and_keeps_its_structure():
    """A stream's batch as the step takes it: dense, sparse CSR and COO tensors in tuples,
    lists and dicts; each rank's rows are the dense rows."""
    import scipy.sparse as sp

    from layerkit.distribute import streams
    from layerkit.training.data_adapters.arrays import csr_to_torch

    dense = np.arange(30.0).reshape(6, 5)
    csr = csr_to_torch(sp.random(6, 4, density=0.5, format="csr", random_state=1),
                       torch.device("cpu"))
    batch = ({"a": torch.as_tensor(dense), "b": csr}, [csr.to_sparse_coo()],
             torch.arange(6.0))
    assert streams.batch_len(batch) == 6
    part = streams.take_rows(batch, 2, 5)
    assert isinstance(part, tuple) and isinstance(part[0], dict) and isinstance(part[1], list)
    np.testing.assert_array_equal(part[0]["a"].numpy(), dense[2:5])
    np.testing.assert_array_equal(part[0]["b"].to_dense().numpy(), csr.to_dense()[2:5].numpy())
    np.testing.assert_array_equal(part[1][0].to_dense().numpy(), csr.to_dense()[2:5].numpy())
    np.testing.assert_array_equal(part[2].numpy(), [2.0, 3.0, 4.0])
    assert streams.signature(batch, 3) == streams.signature(batch, 3)
    assert streams.signature(batch, 3).checksum != streams.signature(part, 3).checksum
