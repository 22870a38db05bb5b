"""Loops on CPU keep freed memory in the heap (no page faults for blocks reused at every
step), give glibc its thresholds back afterwards, and compute the same numbers."""

import json
import resource
import subprocess
import sys

import numpy as np
import pytest

from layerkit import callbacks, config, cpu_heap, layers, models, utils

pytestmark = pytest.mark.skipif(not cpu_heap.available(), reason="malloc is not glibc's")


# Run in a fresh process: earlier loops in this one may have left free holes in the heap
# that a block fits into (which is what keeping the heap is for).
_PROBE = """
import json, resource, torch
from layerkit import config, cpu_heap


def faults_per_block(blocks=8, mib=48):
    faults = []
    for _ in range(blocks):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(mib << 18)  # float32: mib MiB, every page written, freed at once
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return faults


out = {"plain": faults_per_block()}
with config.cpu_heap_kept():
    out["depth"] = [cpu_heap.depth()]
    with config.cpu_heap_kept():
        out["depth"].append(cpu_heap.depth())
    out["kept"] = faults_per_block(blocks=16)
out["depth"].append(cpu_heap.depth())
out["after"] = faults_per_block(mib=96)
print(json.dumps(out))
"""


def pages(mib):
    return (mib << 20) // resource.getpagesize()


@pytest.fixture
def restore():
    yield
    config.set_keep_cpu_heap(True)


def test_kept_heap_reuses_large_blocks():
    run = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert min(out["plain"]) > pages(48) // 2            # glibc alone: every block faults
    assert out["depth"] == [1, 2, 0]                      # nested: left to the outer one
    # kept: once the heap has settled (a few blocks), blocks are reused, no faults
    assert max(out["kept"][-4:]) < pages(48) // 50
    # glibc's thresholds again (mmap 32 MiB): a block above the free top is mapped anew
    assert min(out["after"]) > pages(96) // 2


def small_model():
    utils.set_random_seed(3)
    model = models.Sequential([layers.Embedding(50, 4), layers.LSTM(3),
                               layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", metrics=["acc"])
    return model


@pytest.mark.parametrize("keep", [True, False])
def test_fit_keeps_the_heap_only_inside_its_loops(restore, keep):
    config.set_keep_cpu_heap(keep)
    x = np.random.RandomState(0).randint(0, 50, (16, 7))
    y = (x[:, -1] > 25).astype("float32")
    seen = []
    probe = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        cpu_heap.depth()))
    model = small_model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[probe])
    assert seen == [int(keep)] * 2
    assert cpu_heap.depth() == 0


def test_same_weights_with_and_without_the_kept_heap(restore):
    x = np.random.RandomState(1).randint(0, 50, (24, 9))
    y = (x[:, 0] > 25).astype("float32")
    weights = []
    for keep in (True, False):
        config.set_keep_cpu_heap(keep)
        model = small_model()
        utils.set_random_seed(5)
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        weights.append(([w.copy() for w in model.get_weights()], history.history["loss"]))
    (kept, kept_loss), (plain, plain_loss) = weights
    assert kept_loss == plain_loss
    for a, b in zip(kept, plain):
        np.testing.assert_array_equal(a, b)


def test_set_keep_cpu_heap_rejects_non_bools(restore):
    with pytest.raises(ValueError, match=r"set_keep_cpu_heap: expected True or False, "
                                         r"received 'yes'"):
        config.set_keep_cpu_heap("yes")
