"""layerkit.constraints against Keras 3 (torch backend) and hand-computed values."""

import keras
import numpy as np
import pytest
import torch

from layerkit import config, constraints

KERAS_DICT = keras.src.constraints.ALL_OBJECTS_DICT
DENSE = np.random.RandomState(0).normal(scale=1.5, size=(6, 5)).astype("float32")
CONV = np.random.RandomState(1).normal(scale=0.5, size=(3, 3, 4, 8)).astype("float32")


def _keras_apply(constraint, w):
    with keras.device("cpu"):
        return constraint(keras.ops.convert_to_tensor(w)).detach().cpu().numpy()


CASES = [
    ("MaxNorm", {}, DENSE),
    ("MaxNorm", {"max_value": 1.0, "axis": 1}, DENSE),
    ("MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}, CONV),
    ("NonNeg", {}, DENSE),
    ("NonNeg", {}, CONV),
    ("UnitNorm", {}, DENSE),
    ("UnitNorm", {"axis": [0, 1, 2]}, CONV),
    ("MinMaxNorm", {}, DENSE),
    ("MinMaxNorm", {"min_value": 2.0, "max_value": 3.0, "rate": 0.5, "axis": 1}, DENSE),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "axis": (0, 1, 2)}, CONV),
]


@pytest.mark.parametrize(
    "name,kwargs,w", CASES, ids=[f"{n}{list(k.values())}-{w.ndim}d" for n, k, w in CASES]
)
def test_constraint_matches_keras(name, kwargs, w):
    x = torch.from_numpy(w.copy())
    ours = getattr(constraints, name)(**kwargs)(x)
    expected = _keras_apply(getattr(keras.constraints, name)(**kwargs), w)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert np.array_equal(x.numpy(), w)  # the input is left untouched


def test_max_norm_hand_values():
    w = torch.tensor([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    out = constraints.MaxNorm(2.0)(w)
    # (2 / (5 + eps)) rescales the first column; the second is below the limit.
    torch.testing.assert_close(out[:, 0], torch.tensor([1.2, 1.6]))
    torch.testing.assert_close(out[:, 1], torch.tensor([0.3, 0.4]))


def test_unit_norm_and_min_max_norm_hand_values():
    w = torch.tensor([[3.0], [4.0]], dtype=torch.float64)
    eps = config.epsilon()
    expected_unit = torch.tensor([[3 / (5 + eps)], [4 / (5 + eps)]], dtype=torch.float64)
    torch.testing.assert_close(constraints.UnitNorm()(w), expected_unit)
    half_way = constraints.MinMaxNorm(0.0, 1.0, rate=0.5)(w)  # desired norm 0.5*1 + 0.5*5 = 3
    assert half_way.norm().item() == pytest.approx(3.0 * 5 / (5 + eps), rel=1e-12)
    small = torch.tensor([[0.3], [0.4]], dtype=torch.float64)  # norm 0.5, lifted to 2
    lifted = constraints.MinMaxNorm(2.0, 4.0)(small).norm().item()
    assert lifted == pytest.approx(2.0 * 0.5 / (0.5 + eps), rel=1e-12)


def test_non_neg_and_base_constraint():
    w = torch.tensor([-1.0, 0.0, 2.0])
    assert constraints.NonNeg()(w).tolist() == [0.0, 0.0, 2.0]
    assert constraints.Constraint()(w) is w


# --- get / serialize / config ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(KERAS_DICT) - {"Constraint", "constraint"}))
def test_get_matches_keras_names(name):
    ours = constraints.get(name)
    theirs = keras.constraints.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == theirs.get_config()


def test_get_other_identifiers():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("maxnorm"), constraints.MaxNorm)  # tf.keras 2.x alias
    got = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}})
    assert got.get_config() == {"max_value": 3, "axis": 1}
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    clip = torch.nn.functional.relu
    assert constraints.get(clip) is clip
    with pytest.raises(ValueError, match="Unknown constraint: 'max'.*max_norm"):
        constraints.get("max")


CONFIG_CASES = [
    constraints.MaxNorm(3, axis=1), constraints.NonNeg(), constraints.UnitNorm(axis=[0, 1, 2]),
    constraints.MinMaxNorm(0.5, 2.0, rate=0.3, axis=0),
]


@pytest.mark.parametrize("constraint", CONFIG_CASES, ids=repr)
def test_config_round_trip(constraint):
    config_ = constraint.get_config()
    assert type(constraint).from_config(config_).get_config() == config_
    restored = constraints.get(constraints.serialize(constraint))
    assert type(restored) is type(constraint) and restored.get_config() == config_


@pytest.mark.parametrize("constraint", CONFIG_CASES, ids=repr)
def test_config_equals_keras_config(constraint):
    name = type(constraint).__name__
    keras_constraint = getattr(keras.constraints, name).from_config(constraint.get_config())
    assert keras_constraint.get_config() == constraint.get_config()
    assert keras.constraints.serialize(keras_constraint)["class_name"] == name


def test_serialize_functions():
    def clip_weights(w):
        return w.clamp(-1, 1)

    assert constraints.serialize(clip_weights) == "clip_weights"
    with pytest.raises(ValueError, match="named"):
        constraints.serialize(lambda w: w)
