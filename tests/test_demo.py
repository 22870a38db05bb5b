"""`layerkit demo --quick` runs end to end and writes plots, models and scores."""

import json

import numpy as np

from layerkit.__main__ import main
from layerkit.models import load_model


def test_quick_demo_writes_everything(tmp_path, capsys):
    assert main(["demo", "--quick", "--output", str(tmp_path), "--verbose", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "val_loss" in out and "\r" not in out
    names = {p.name for p in tmp_path.iterdir()}
    for family in ("breast_cancer", "digits", "digits_cnn"):
        assert f"{family}.h5" in names and f"{family}_curves.png" in names
    assert {"diabetes.h5", "diabetes_kfold_mae.png", "breast_cancer_best.h5"} <= names
    assert {"digits_cnn_activations.png", "digits_cnn_filters.png",
            "digits_cnn_grad_cam.png"} <= names
    results = json.loads((tmp_path / "results.json").read_text())
    assert 0.5 < results["breast_cancer"]["test_acc"] <= 1.0
    assert 0.0 < results["digits"]["test_accuracy"] <= 1.0
    assert np.isfinite(results["diabetes"]["test_mse"])
    assert results["diabetes"]["best_epoch"] in (1, 2)   # the final model's epoch count
    model = load_model(tmp_path / "digits.h5")
    assert model.predict(np.zeros((1, 64))).shape == (1, 10)


def test_cli_usage_and_unknown_command(capsys):
    assert main([]) == 2
    assert main(["train"]) == 2
    assert "layerkit demo [--quick]" in capsys.readouterr().err
