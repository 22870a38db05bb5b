"""layerkit.utils.numerical against keras.utils (Keras 3) and hand-computed tf.keras 2.x values."""

import keras
import numpy as np
import pytest
import torch

from layerkit.utils.numerical import normalize, to_categorical

LABEL_CASES = {
    "vector": ([0, 2, 1, 2], None),
    "column": (np.array([[1], [0], [3]]), None),
    "num_classes": ([0, 1], 5),
    "matrix": (np.array([[0, 1, 2], [2, 1, 0]]), 4),
    "3d_trailing_one": (np.arange(6).reshape(2, 3, 1) % 3, None),
    "scalar_like": ([[2]], 3),
}


@pytest.mark.parametrize("y,num_classes", LABEL_CASES.values(), ids=LABEL_CASES)
def test_to_categorical_matches_keras(y, num_classes):
    expected = keras.utils.to_categorical(y, num_classes=num_classes)
    got = to_categorical(y, num_classes=num_classes)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_dtype_is_float32_by_default():
    # tf.keras 2.x surface: float32 default and a dtype argument (Keras 3 returns float64).
    got = to_categorical([0, 2], num_classes=3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 0, 1]])
    assert keras.utils.to_categorical([0, 2], num_classes=3).dtype == np.float64
    assert to_categorical([1], 2, dtype="int64").dtype == np.int64
    assert to_categorical([1], 2, dtype="float64").tolist() == [[0.0, 1.0]]


def test_to_categorical_shapes_hand_computed():
    assert to_categorical(np.zeros((4, 1)), 3).shape == (4, 3)
    assert to_categorical(np.zeros((2, 5)), 3).shape == (2, 5, 3)
    assert to_categorical(np.zeros((2, 1, 1)), 3).shape == (2, 1, 3)
    assert to_categorical(np.array([], dtype=int), 3).shape == (0, 3)
    np.testing.assert_array_equal(to_categorical(torch.tensor([1, 0])), [[0, 1], [1, 0]])


@pytest.mark.parametrize("y,num_classes,match", [
    ([0, 3], 3, "labels must be < num_classes=3, received 3"),
    ([0, -1], 3, "labels must be >= 0, received -1"),
    ([-2], None, "labels must be >= 0"),
    ([], None, "cannot infer num_classes"),
])
def test_to_categorical_errors(y, num_classes, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(y, num_classes)


@pytest.mark.parametrize("order", [1, 2, 3, np.inf])
@pytest.mark.parametrize("axis", [-1, 1])
def test_normalize_matches_keras(order, axis):
    x = np.random.default_rng(1).normal(size=(4, 5, 3)).astype("float32")
    x[0, 0] = 0.0  # a zero row stays zero
    expected = keras.utils.normalize(x, axis=axis, order=order)
    got = normalize(x, axis=axis, order=order)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    torch_got = normalize(torch.from_numpy(x), axis=axis, order=order)
    assert isinstance(torch_got, torch.Tensor)
    np.testing.assert_allclose(torch_got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_normalize_axis0_hand_computed():
    # tf.keras 2.x divides by the column norms; Keras 3's numpy path maps axis=0 to -1.
    x = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
    expected = [[0.6, 0.0, 1 / np.sqrt(2)], [0.8, 0.0, 1 / np.sqrt(2)]]
    np.testing.assert_allclose(normalize(x, axis=0), expected, rtol=1e-12)
    np.testing.assert_allclose(normalize(torch.tensor(x), axis=0).numpy(), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(normalize([[1, 1], [0, 2]], order=1), [[0.5, 0.5], [0, 1]])
    np.testing.assert_allclose(normalize(torch.tensor([[0, 2]])).numpy(), [[0, 1]])
