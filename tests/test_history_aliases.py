"""History keys stay as spelled (tf.keras 2.x) and also answer Keras 2.0–2.2's spellings:
Keras 2.2 `keras/engine/training.py` named `metrics=['accuracy']` 'acc' and `['mae']`
'mean_absolute_error' (the function's __name__); tf.keras 2.x `compile_utils.py` keeps the
string the user passed; Keras 3 callbacks log 'learning_rate' where tf.keras logged 'lr'."""

import json

import numpy as np
import pytest

from layerkit import callbacks, layers, models
from layerkit.training.history import HistoryDict, other_spellings


def _fit(metrics, loss="binary_crossentropy", **kwargs):
    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="rmsprop", loss=loss, metrics=metrics)
    rng = np.random.RandomState(0)
    x, y = rng.rand(16, 3), rng.randint(0, 2, (16, 1))
    return model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_data=(x, y),
                     **kwargs)


@pytest.mark.parametrize("written,read", [
    ("accuracy", "acc"), ("acc", "accuracy"), ("mae", "mean_absolute_error"),
    ("mean_absolute_error", "mae"), ("mse", "mean_squared_error"),
    ("mean_squared_error", "mse"),
])
def test_other_spelling_answers_with_val_form(written, read):
    history = _fit([written]).history
    assert list(history) == ["loss", written, "val_loss", "val_" + written]
    assert history[read] is history[written]
    assert history["val_" + read] is history["val_" + written]
    assert history.get("val_" + read) is history["val_" + written]


def test_only_real_keys_show():
    history = _fit(["accuracy"]).history
    real = ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert list(history.keys()) == real and list(history) == real and len(history) == 4
    assert "acc" not in history
    assert list(json.loads(json.dumps(history))) == real
    pd = pytest.importorskip("pandas")
    assert list(pd.DataFrame(history).columns) == real


def test_lr_and_learning_rate():
    history = _fit(["acc"], callbacks=[callbacks.ReduceLROnPlateau(patience=5)]).history
    assert history["learning_rate"] is history["lr"]


def test_unknown_key_names_the_real_ones():
    history = _fit(["acc"]).history
    with pytest.raises(KeyError, match=r"'val_auc'.*\['loss', 'acc', 'val_loss', 'val_acc'\]"):
        history["val_auc"]
    assert history.get("val_auc", 7) == 7


def test_output_prefixed_keys():
    h = HistoryDict(dense_1_accuracy=[1.0], val_dense_1_mae=[2.0])
    assert h["dense_1_acc"] == [1.0]
    assert h["val_dense_1_mean_absolute_error"] == [2.0]
    assert other_spellings("val_kld") == ["val_kullback_leibler_divergence",
                                          "val_kl_divergence"]
    assert other_spellings("lacc") == []  # a spelling only counts as a whole word
