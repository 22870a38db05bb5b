"""Flush-to-zero reaches torch's pool threads for the whole loop, and is undone after."""

import numpy as np
import pytest
import torch

from layerkit import callbacks, config, denormals, layers, models

pytestmark = pytest.mark.skipif(not denormals.available(),
                                reason="torch's thread pool is not OpenMP on glibc here")


def flushed_fraction():
    """Fraction of 2M products that come out as exact zeros instead of denormals; the
    multiplication is split across the intra-op pool."""
    a = torch.full((2_000_000,), 1e-30)
    return ((a * 1e-10) == 0).float().mean().item()


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)
    config.set_flush_denormal("auto")


def test_pool_flush_reaches_every_thread(two_threads):
    import sklearn.cluster  # noqa: F401  (loads scikit-learn's own libgomp beside torch's)

    assert flushed_fraction() == 0.0
    torch.set_flush_denormal(True)                   # torch's own call: this thread only
    assert flushed_fraction() < 1.0
    assert denormals.set_pool_flush(True)
    assert flushed_fraction() == 1.0
    denormals.set_pool_flush(False)
    assert flushed_fraction() == 0.0


@pytest.mark.parametrize("policy, model_kind, inside", [
    (True, "dense", 1.0), (False, "dense", 0.0), ("auto", "lstm", 1.0), ("auto", "dense", 0.0),
])
def test_flush_policy_holds_on_the_pool_during_fit(two_threads, policy, model_kind, inside):
    config.set_flush_denormal(policy)
    if model_kind == "lstm":
        model = models.Sequential([layers.LSTM(2, input_shape=(3, 2)), layers.Dense(1)])
        x = np.random.rand(8, 3, 2).astype("float32")
    else:
        model = models.Sequential([layers.Dense(1, input_shape=(2,))])
        x = np.random.rand(8, 2).astype("float32")
    model.compile("sgd", "mse")
    seen = []
    probe = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        flushed_fraction()))
    model.fit(x, np.zeros((8, 1)), epochs=1, verbose=0, callbacks=[probe])
    assert seen == [inside]
    assert flushed_fraction() == 0.0                 # restored after the loop
