"""`layerkit demo --quick` runs end to end and writes plots, models and scores."""

import json

import numpy as np
import pytest

from layerkit import demo
from layerkit.__main__ import main
from layerkit.models import load_model


def _texts(fig):
    """Every title, axis label, legend entry and tick label of a figure's axes."""
    out = []
    for ax in fig.axes:
        legend = ax.get_legend()
        out.append({
            "title": ax.get_title(),
            "xlabel": ax.get_xlabel(),
            "ylabel": ax.get_ylabel(),
            "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
            "xticks": [float(t) for t in ax.get_xticks()],
        })
    return out


@pytest.fixture
def figures(monkeypatch):
    """{file name: [axes texts]} of every curve figure the demo saves."""
    seen = {}
    save = demo.save_figure

    def recording(fig, path):
        seen[path.rsplit("/", 1)[-1]] = _texts(fig)
        # The text must fit: every axes (and its title) inside the figure.
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        for ax in fig.axes:
            box = ax.get_tightbbox(renderer)
            assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and \
                box.y1 <= height + 1, (path, box, width, height)
        save(fig, path)

    monkeypatch.setattr(demo, "save_figure", recording)
    return seen


def test_quick_demo_writes_everything(tmp_path, capsys, figures):
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

    # The plots' words, read from the figure objects before they were saved.
    loss, acc = figures["breast_cancer_curves.png"]
    assert loss["title"] == "breast_cancer: loss" and acc["title"] == "breast_cancer: acc"
    assert loss["legend"] == ["Training loss", "Validation loss"]
    assert acc["legend"] == ["Training acc", "Validation acc"]
    assert loss["xlabel"] == "Epochs" and loss["ylabel"] == "loss"
    assert figures["digits_curves.png"][1]["legend"] == ["Training accuracy",
                                                         "Validation accuracy"]
    assert figures["digits_cnn_curves.png"][0]["title"] == "digits convnet: loss"
    (kfold,) = figures["diabetes_kfold_mae.png"]
    best = results["diabetes"]["best_epoch"]
    assert kfold["title"] == "diabetes: 4-fold validation"
    assert kfold["legend"] == ["Training MAE (mean of 4 folds)",
                               "Validation MAE (mean of 4 folds)",
                               f"lowest validation MAE: epoch {best}"]
    assert (kfold["xlabel"], kfold["ylabel"]) == ("Epochs", "mean absolute error")
    for name, axes in figures.items():  # epochs are whole numbers
        assert all(t == int(t) for ax in axes for t in ax["xticks"]), name


def test_bundled_data_equals_scikit_learn():
    from sklearn import datasets

    for name in ("breast_cancer", "digits", "diabetes"):
        ours = demo.load_bundled(name)
        theirs = getattr(datasets, f"load_{name}")(return_X_y=True)
        for a, b in zip(ours, theirs, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_cli_usage_and_unknown_command(capsys):
    assert main([]) == 2
    assert main(["train"]) == 2
    assert "layerkit demo [--quick]" in capsys.readouterr().err
