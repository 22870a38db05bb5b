"""Smoke test of benchmarks/bench_speed.py's pieces, in-process and on tiny data (~3 s):
the torch loop and layerkit train on the same workload, layerkit's per-call seconds are
split into epoch and outside, and the tokenizer rows compare identical outputs."""

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))

import speed_data  # noqa: E402
import speed_systems  # noqa: E402


def test_data_looks_like_the_real_thing():
    x, y = speed_data.digits(200)
    assert x.shape == (200, 28, 28, 1) and 0.6 < (x == 0).mean() < 0.95
    assert 0.05 < x.mean() < 0.2 and x.max() <= 1.0
    x, y = speed_data.padded(50, maxlen=500)
    assert (x[:, 0] == 0).mean() > 0.5          # short reviews are padded in front
    assert (x[:, -1] > 0).all()                  # ... and end with a word
    counts = np.bincount(x[x > 0], minlength=10000)
    assert counts[1] > 20 * max(counts[5000:].max(), 1)  # Zipf: small ids are frequent


@pytest.mark.parametrize("workload", ["boston", "imdb-kfold"])
def test_torch_loop_and_layerkit_rounds(workload):
    spec = dict(speed_systems.SPECS[workload], quick=64)
    for session_class in (speed_systems.TorchSession, speed_systems.LayerkitSession):
        session = session_class(spec, quick=True)
        result = session.round(session.variants[0])
        assert result["seconds"] > 0 and math.isfinite(result["metric"])
        assert 0 <= result["outside"] < result["call"]
        assert result["epoch"] <= result["call"]


def test_tokenizer_rows_check_identical_outputs():
    pytest.importorskip("keras_preprocessing")
    spec = dict(speed_systems.SPECS["text"], quick=40)
    ours = speed_systems.TextSession(spec, True, "layerkit").round()
    theirs = speed_systems.TextSession(spec, True, "keras-preprocessing").round()
    assert ours["metric"] == theirs["metric"]
