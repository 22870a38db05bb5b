"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot)
against the Keras 3 oracle: functional helpers, masks, two-input models trained side by side,
errors. Outputs, shapes, configs and save/load of every case: tests/test_layer_contract.py
(the cases below are the same)."""

import keras
import numpy as np
import pytest
import torch

import layerkit
from layerkit import Input
from layerkit.graph.symbolic import KerasTensor
from layerkit.layers import merging
from layerkit.layers.core.embedding import Embedding

from helpers import to_numpy

ATOL = 1e-5

# id -> (class name, kwargs, input shapes with batch 2)
CASES = {
    "add_three": ("Add", {}, [(2, 3), (2, 3), (2, 3)]),
    "add_rank_broadcast": ("Add", {}, [(2, 3), (2, 4, 3)]),
    "subtract": ("Subtract", {}, [(2, 4, 3), (2, 4, 3)]),
    "subtract_broadcast_ones": ("Subtract", {}, [(2, 1, 3), (2, 4, 1)]),
    "multiply_broadcast": ("Multiply", {}, [(2, 1, 3), (2, 4, 3)]),
    "average_three": ("Average", {}, [(2, 5), (2, 5), (2, 5)]),
    "maximum": ("Maximum", {}, [(2, 3, 2), (2, 3, 2)]),
    "minimum": ("Minimum", {}, [(2, 3, 2), (2, 3, 2)]),
    "concatenate_last": ("Concatenate", {}, [(2, 3, 4), (2, 3, 2)]),
    "concatenate_axis1": ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 1, 4), (2, 2, 4)]),
    "concatenate_negative_axis": ("Concatenate", {"axis": -2}, [(2, 3, 4), (2, 5, 4)]),
    "dot_vectors": ("Dot", {"axes": 1}, [(2, 5), (2, 5)]),
    "dot_cosine": ("Dot", {"axes": 1, "normalize": True}, [(2, 5), (2, 5)]),
    "dot_pair_axes": ("Dot", {"axes": [2, 1]}, [(2, 3, 4), (2, 4, 5)]),
    "dot_negative_axes": ("Dot", {"axes": [-2, 1]}, [(2, 3, 4, 2), (2, 4, 5)]),
    "dot_2d_with_3d": ("Dot", {"axes": 1}, [(2, 3), (2, 3, 5)]),
    "dot_3d_with_2d": ("Dot", {"axes": [2, 1]}, [(2, 3, 4), (2, 4)]),
    "dot_cosine_3d": ("Dot", {"axes": [1, 1], "normalize": True}, [(2, 3, 4), (2, 3, 2)]),
}
HELPERS = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Average": "average",
           "Maximum": "maximum", "Minimum": "minimum", "Concatenate": "concatenate",
           "Dot": "dot"}


def _inputs(shapes, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randn(*s).astype("float32") for s in shapes]


@pytest.mark.parametrize("case", ["add_three", "concatenate_axis1", "dot_pair_axes"])
def test_functional_helper_builds_the_layer(case):
    name, kwargs, shapes = CASES[case]
    helper = getattr(merging, HELPERS[name])
    out = helper([Input(shape=s[1:]) for s in shapes], **kwargs)
    assert isinstance(out, KerasTensor)
    assert type(out.node.layer).__name__ == name
    assert out.node.layer.name == name.lower()
    xs = _inputs(shapes)
    eager = helper([torch.from_numpy(x) for x in xs], **kwargs)
    np.testing.assert_allclose(to_numpy(eager), to_numpy(getattr(keras.layers, HELPERS[name])(xs,
                                                                                   **kwargs)),
                               atol=ATOL)


def _two_input_model(lib, name, kwargs, shapes):
    a, b = lib.Input(shape=shapes[0][1:]), lib.Input(shape=shapes[1][1:])
    x = lib.layers.Dense(4, activation="tanh")(a)
    y = lib.layers.Dense(4)(b)
    merged = getattr(lib.layers if lib is keras else merging, name)(**kwargs)([x, y])
    out = lib.layers.Dense(1)(lib.layers.Flatten()(merged) if len(shapes[0]) > 2 else merged)
    return lib.Model([a, b], out)


FUNCTIONAL = {
    "Add": {}, "Subtract": {}, "Multiply": {}, "Average": {}, "Maximum": {}, "Minimum": {},
    "Concatenate": {}, "Dot": {"axes": 1, "normalize": True},
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_two_input_model_predicts_and_trains_like_keras(name):
    shapes = [(2, 3), (2, 5)]
    ours = _two_input_model(layerkit, name, FUNCTIONAL[name], shapes)
    theirs = _two_input_model(keras, name, FUNCTIONAL[name], shapes)
    ours.set_weights(theirs.get_weights())
    rng = np.random.RandomState(1)
    x = [rng.randn(8, 3).astype("float32"), rng.randn(8, 5).astype("float32")]
    y = rng.randn(8, 1).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=ATOL)
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    before = ours.get_weights()
    ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert any(not np.allclose(b, a) for b, a in zip(before, ours.get_weights()))
    for mine, ref in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, ref, atol=ATOL)


def test_three_dimensional_merge_in_a_model_matches_keras():
    shapes = [(2, 3, 2), (2, 3, 2)]
    ours = _two_input_model(layerkit, "Concatenate", {"axis": 1}, shapes)
    theirs = _two_input_model(keras, "Concatenate", {"axis": 1}, shapes)
    assert ours.layers[-3].output.shape == (None, 6, 4)
    ours.set_weights(theirs.get_weights())
    x = _inputs([(4, 3, 2), (4, 3, 2)], seed=3)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=ATOL)


# ----------------------------------------------------------------- masks
MASKED = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
IDS = [np.array([[1, 2, 0, 0], [3, 0, 0, 0]]), np.array([[1, 0, 0, 0], [3, 2, 1, 0]])]


def _masked_embeddings(second_masked=True):
    """Two masked embeddings (or one) in layerkit and Keras with the same weights."""
    ours, theirs = [], []
    for i, ids in enumerate(IDS):
        mask_zero = i == 0 or second_masked
        k = keras.layers.Embedding(5, 3, mask_zero=mask_zero)
        o = Embedding(5, 3, mask_zero=mask_zero)
        k.build((None, 4))
        o.build((None, 4))
        o.set_weights(k.get_weights())
        ours.append(o(torch.from_numpy(ids)))
        theirs.append(k(ids))
    return ours, theirs


@pytest.mark.parametrize("second_masked", [True, False], ids=["both_masked", "one_masked"])
@pytest.mark.parametrize("name", MASKED)
def test_masked_inputs_match_keras_values_and_mask(name, second_masked):
    ours_in, theirs_in = _masked_embeddings(second_masked)
    ours = getattr(merging, name)()(ours_in)
    theirs = getattr(keras.layers, name)()(theirs_in)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=ATOL)
    their_mask = getattr(theirs, "_keras_mask", None)
    our_mask = getattr(ours, "_keras_mask", None)
    assert (our_mask is None) == (their_mask is None)
    if their_mask is not None:
        np.testing.assert_array_equal(to_numpy(our_mask), to_numpy(their_mask))


def test_merge_mask_is_the_or_of_the_input_masks():
    # Keras 3 ORs the masks (tf.keras 2.x ANDed them): a step is kept if any input has it.
    ours_in, _ = _masked_embeddings()
    out = merging.Add()(ours_in)
    np.testing.assert_array_equal(to_numpy(out._keras_mask), [[1, 1, 0, 0], [1, 1, 1, 0]])


def test_concatenate_along_time_concatenates_the_masks():
    ours_in, theirs_in = _masked_embeddings()
    ours = merging.Concatenate(axis=1)(ours_in)
    theirs = keras.layers.Concatenate(axis=1)(theirs_in)
    np.testing.assert_array_equal(to_numpy(ours._keras_mask),
                                  [[1, 1, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 1, 1, 1, 0]])
    np.testing.assert_array_equal(to_numpy(ours._keras_mask), to_numpy(theirs._keras_mask))


def test_dot_drops_the_mask():
    ours_in, _ = _masked_embeddings()
    out = merging.Dot(axes=2)(ours_in)
    assert tuple(out.shape) == (2, 4, 4) and getattr(out, "_keras_mask", None) is None


# ----------------------------------------------------------------- errors
def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match=r"'subtract' \(Subtract\).*exactly 2 inputs"):
        merging.Subtract()([Input(shape=(3,))] * 3)


def test_concatenate_mismatch_names_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"Layer 'concatenate' \(Concatenate, axis=-1\).*"
                       r"\(None, 3, 4\) and \(None, 2, 5\).*axis 1 is 3 vs 2"):
        merging.Concatenate()([Input(shape=(3, 4)), Input(shape=(2, 5))])


def test_concatenate_rank_mismatch_and_bad_axis():
    with pytest.raises(ValueError, match=r"\(None, 3\) and \(None, 3, 4\).*ranks differ"):
        merging.Concatenate()([Input(shape=(3,)), Input(shape=(3, 4))])
    with pytest.raises(ValueError, match="axis=3 is out of range"):
        merging.Concatenate(axis=3)([Input(shape=(3,)), Input(shape=(3,))])
    with pytest.raises(ValueError, match=r"Concatenate\(axis='x'\): axis must be an integer"):
        merging.Concatenate(axis="x")


def test_elementwise_shape_mismatch_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'add' \(Add\): inputs have incompatible shapes "
                       r"\[\(None, 3\), \(None, 4\)\]"):
        merging.Add()([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match=r"incompatible shapes"):
        merging.Multiply()([torch.ones(2, 3), torch.ones(2, 4)])


def test_different_batch_sizes_are_rejected():
    with pytest.raises(ValueError, match=r"different batch sizes.*\(2, 3\), \(3, 3\)"):
        merging.Add()([torch.ones(2, 3), torch.ones(3, 3)])


def test_merge_needs_a_list():
    with pytest.raises(ValueError, match=r"'maximum' \(Maximum\) should be called on a list"):
        merging.Maximum()(torch.ones(2, 3))


def test_dot_errors():
    with pytest.raises(ValueError, match=r"Dot\(axes='a'\): axes must be an int or a pair"):
        merging.Dot(axes="a")
    with pytest.raises(ValueError, match=r"Dot\(axes=\(1, 2, 3\)\)"):
        merging.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"'dot.*' \(Dot, axes=1\): the dot axes have "
                       r"different sizes, 3 .* vs 4"):
        merging.Dot(axes=1)([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="axis 0 is the batch axis"):
        merging.Dot(axes=0)([Input(shape=(3,)), Input(shape=(3,))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        merging.Dot(axes=1)([Input(shape=(3,))] * 3)


def test_dot_normalize_of_a_zero_vector_is_zero_not_nan():
    out = merging.Dot(axes=1, normalize=True)([torch.zeros(1, 3), torch.ones(1, 3)])
    assert out.item() == 0.0
