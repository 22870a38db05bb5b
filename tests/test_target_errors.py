"""Targets that do not fit the output or the loss fail before the first step, for every
loss family, with a message naming the loss, the output layer, both shapes and the fix —
never a torch traceback, never a silent broadcast."""

import re

import numpy as np
import pytest

from layerkit import layers, models

X = np.random.RandomState(0).rand(8, 4).astype("float32")


def _model(units, activation, loss):
    model = models.Sequential([layers.Dense(5, input_shape=(4,), name="hidden"),
                               layers.Dense(units, activation=activation, name="out")])
    model.compile(optimizer="sgd", loss=loss)
    return model


# id -> (units, activation, loss, targets, message pieces)
CASES = {
    "binary_ce_two_columns": (1, "sigmoid", "binary_crossentropy", np.eye(2)[[0, 1] * 4], [
        "binary_crossentropy on output 'out': expected targets of shape (batch_size, 1)",
        "received targets of shape (8, 2)", "Dense(2, activation='softmax')",
        "categorical_crossentropy"]),
    "categorical_ce_labels": (3, "softmax", "categorical_crossentropy", np.arange(8) % 3, [
        "categorical_crossentropy on output 'out' expects one-hot targets of shape "
        "(batch_size, 3)", "(8,)", "utils.to_categorical(y, num_classes)",
        "sparse_categorical_crossentropy"]),
    "categorical_ce_width": (3, "softmax", "categorical_crossentropy", np.eye(4)[[0] * 8], [
        "categorical_crossentropy on output 'out'", "3 columns", "(8, 4)"]),
    "sparse_ce_one_hot": (3, "softmax", "sparse_categorical_crossentropy",
                          np.eye(3)[[0, 1] * 4], [
        "sparse_categorical_crossentropy on output 'out' expects integer class labels",
        "(8, 3)", "categorical_crossentropy"]),
    "mse_width": (1, None, "mse", np.ones((8, 3)), [
        "mean_squared_error on output 'out': expected targets of shape (batch_size, 1)",
        "(8, 3)", "Give the last layer 3 units"]),
    "mae_rank": (2, None, "mae", np.ones(8), [
        "mean_absolute_error on output 'out'", "(batch_size, 2)", "(8,)"]),
    "hinge": (1, "tanh", "hinge", np.ones((8, 2)), [
        "hinge on output 'out'", "(batch_size, 1)", "(8, 2)"]),
    "kld": (3, "softmax", "kld", np.ones((8, 4)) / 4, [
        "kl_divergence on output 'out'", "(batch_size, 3)", "(8, 4)"]),
    "poisson": (2, "softplus", "poisson", np.ones((8, 3)), [
        "poisson on output 'out'", "(batch_size, 2)", "(8, 3)"]),
    "cosine": (3, None, "cosine_similarity", np.ones((8, 2)), [
        "cosine_similarity on output 'out'", "(batch_size, 3)", "(8, 2)"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mismatched_targets_fail_before_training(case, capsys):
    units, activation, loss, y, pieces = CASES[case]
    model = _model(units, activation, loss)
    before = model.get_weights()
    for run in (lambda: model.fit(X, y, epochs=1, verbose=0),
                lambda: model.train_on_batch(X, y),
                lambda: model.evaluate(X, y, verbose=0)):
        with pytest.raises(ValueError) as info:
            run()
        message = str(info.value)
        for piece in pieces:
            assert piece in message, (piece, message)
        assert "torch" not in message and "Target size" not in message
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("units,loss,y", [
    (1, "binary_crossentropy", np.ones(8)),            # (N,) for (None, 1)
    (1, "mse", np.ones((8, 1))),
    (3, "categorical_crossentropy", np.eye(3)[[0] * 8]),
    (3, "sparse_categorical_crossentropy", np.zeros((8, 1))),
    (2, "hinge", -np.ones((8, 2))),
], ids=["bce_rank1", "mse", "cce", "sparse_ce_column", "hinge"])
def test_fitting_targets_pass(units, loss, y):
    activation = "sigmoid" if loss == "binary_crossentropy" else (
        "softmax" if "categorical" in loss else None)
    _model(units, activation, loss).fit(X, y, epochs=1, verbose=0)


def test_generator_targets_are_checked_on_the_first_batch():
    model = _model(1, "sigmoid", "binary_crossentropy")

    def batches():
        while True:
            yield X, np.eye(2)[[0, 1] * 4]

    with pytest.raises(ValueError, match=re.escape("received targets of shape (8, 2)")):
        model.fit(batches(), steps_per_epoch=2, verbose=0)


def test_custom_loss_functions_are_not_second_guessed():
    def my_loss(y_true, y_pred):  # may take targets of any shape
        return (y_pred - y_true[:, :1]) ** 2

    model = _model(1, None, my_loss)
    model.fit(X, np.ones((8, 2)), epochs=1, verbose=0)
