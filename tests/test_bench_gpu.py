"""benchmarks/gpu.py runs in one command: a smoke run on the CPU (`--quick --device cpu`,
tiny shapes) prints the machine, one row per workload and precision with layerkit's and
the torch loop's ms/step and their ratio, and mixed / fp32 per workload."""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu.py")
NUMBER = r"(\d+\.\d+) \[(\d+\.\d+)-(\d+\.\d+)\]"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "rows.json"
    run = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--device", "cpu", "--rounds", "2",
         "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout, json.loads(out.read_text())


def test_prints_the_machine_and_a_row_per_workload_and_precision(smoke):
    stdout, _ = smoke
    lines = stdout.splitlines()
    assert lines[0].startswith("device: cpu (1 threads) | torch ")
    assert "QUICK" in lines[1] and "load before" in lines[1]
    for workload in ("convnet", "lstm", "vgg16"):
        for precision in ("fp32", "mixed"):
            row = [l for l in lines if l.split()[:2] == [workload, precision]]
            assert len(row) == 1, (workload, precision, stdout)
            cells = re.findall(NUMBER, row[0])
            assert len(cells) == 4, row  # layerkit epoch, layerkit call, torch, ratio
            for median, low, high in cells:
                assert 0 < float(low) <= float(median) <= float(high)
        assert re.search(rf"^{workload} +mixed/fp32: layerkit {NUMBER} +torch {NUMBER}$",
                         stdout, re.M), stdout
    assert lines[-1].startswith("load after: ")


def test_ratios_are_layerkit_over_torch_round_by_round(smoke):
    _, rows = smoke
    assert rows["environment"].startswith("device: cpu")
    assert [(r["workload"], r["precision"]) for r in rows["rows"]] == [
        (w, p) for w in ("convnet", "lstm", "vgg16") for p in ("fp32", "mixed")]
    for row in rows["rows"]:
        assert len(row["ratio"]) == len(row["torch_ms"]) == 2
        for ratio, mine, theirs, call in zip(row["ratio"], row["layerkit_ms"],
                                              row["torch_ms"], row["layerkit_call_ms"]):
            assert ratio == pytest.approx(mine / theirs)
            assert call >= mine > 0  # the call holds the epoch


def test_cuda_without_a_gpu_says_so():
    if _cuda_available():
        pytest.skip("this machine has CUDA")
    run = subprocess.run([sys.executable, SCRIPT, "--device", "cuda"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 2
    assert "torch sees no CUDA device here; pass --device cpu" in run.stderr


def _cuda_available():
    import torch

    return torch.cuda.is_available()
