"""layerkit.regularizers against Keras 3 (torch backend) and hand-computed values."""

import keras
import numpy as np
import pytest
import torch

from layerkit import regularizers

KERAS_DICT = keras.src.regularizers.ALL_OBJECTS_DICT
WEIGHTS = {
    "dense": np.random.RandomState(0).normal(size=(12, 7)).astype("float32"),
    "conv": np.random.RandomState(1).normal(size=(3, 3, 4, 8)).astype("float32"),
}


def _assert_same_config(ours, theirs):
    """Keras 3 keeps L1's `l1` and the orthogonal `factor` as float32 tensors, so its configs
    hold float32-rounded values (0.019999999552965164 for 0.02); layerkit keeps the floats."""
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        expected = theirs[key]
        if isinstance(value, float):
            expected = pytest.approx(expected, rel=1e-7)
        assert value == expected


def _keras_value(regularizer, w):
    with keras.device("cpu"):
        return float(regularizer(keras.ops.convert_to_tensor(w)).detach().cpu())


CASES = [
    ("L1", {"l1": 0.003}),
    ("L2", {"l2": 0.01}),
    ("L2", {"l2": 0.001}),
    ("L1L2", {"l1": 0.002, "l2": 0.005}),
    ("L1L2", {"l2": 0.1}),
    ("L1L2", {}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0] + str(list(c[1].values())))
@pytest.mark.parametrize("kind", sorted(WEIGHTS))
def test_penalty_matches_keras(case, kind):
    name, kwargs = case
    w = WEIGHTS[kind]
    ours = getattr(regularizers, name)(**kwargs)(torch.from_numpy(w))
    assert ours.shape == () and ours.dtype == torch.float32
    expected = _keras_value(getattr(keras.regularizers, name)(**kwargs), w)
    assert ours.item() == pytest.approx(expected, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_keras(mode):
    w = WEIGHTS["dense"].copy()
    w[3] = 0.0  # a zero row exercises the 1/epsilon cap of the normalization
    ours = regularizers.OrthogonalRegularizer(0.05, mode)(torch.from_numpy(w)).item()
    expected = _keras_value(keras.regularizers.OrthogonalRegularizer(0.05, mode), w)
    assert ours == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="2-D"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 2, 2))


def test_l2_has_no_half_and_l1_is_absolute():
    w = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    assert regularizers.L2(0.5)(w).item() == pytest.approx(0.5 * (1 + 4 + 0.25))
    assert regularizers.L1(0.5)(w).item() == pytest.approx(0.5 * 3.5)


def test_seed_style_calls():
    w = torch.ones(2, 3)
    assert regularizers.l2(0.001)(w).item() == pytest.approx(0.006)
    assert regularizers.l2()(w).item() == pytest.approx(0.06)
    assert regularizers.l1(0.001)(w).item() == pytest.approx(0.006)
    # tf.keras 2.x keyword `l=` (Keras 3 raises TypeError for it).
    assert regularizers.l2(l=0.5)(w).item() == pytest.approx(3.0)
    assert regularizers.l1(l=0.25).get_config() == {"l1": 0.25}


def test_l1_l2_function_has_tf_keras_defaults():
    w = torch.tensor([1.0, -2.0])
    # tf.keras 2.x l1_l2(): l1 = l2 = 0.01 -> 0.01 * 3 + 0.01 * 5 = 0.08; L1L2() is zero.
    assert regularizers.l1_l2()(w).item() == pytest.approx(0.08)
    assert regularizers.l1_l2(l1=0.001, l2=0.001)(w).item() == pytest.approx(0.008)
    assert regularizers.L1L2()(w).item() == 0.0
    assert regularizers.L1L2(l1=None, l2=None).get_config() == {"l1": 0.0, "l2": 0.0}


def test_penalty_is_differentiable_and_keeps_dtype():
    w = torch.tensor([1.0, -3.0], dtype=torch.float64, requires_grad=True)
    penalty = regularizers.L1L2(l1=0.1, l2=0.2)(w)
    assert penalty.dtype == torch.float64
    penalty.backward()
    torch.testing.assert_close(w.grad, torch.tensor([0.1 + 0.4, -0.1 - 1.2], dtype=torch.float64))


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_factor_validation(bad):
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(bad)


def test_base_regularizer():
    base = regularizers.Regularizer()
    assert base(torch.ones(3)).item() == 0.0
    with pytest.raises(NotImplementedError, match="get_config"):
        base.get_config()


# --- get / serialize / config ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(KERAS_DICT) - {"Regularizer", "regularizer"}))
def test_get_matches_keras_names(name):
    ours = regularizers.get(name)
    theirs = keras.regularizers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    _assert_same_config(ours.get_config(), theirs.get_config())


def test_get_other_identifiers():
    assert regularizers.get(None) is None
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    reg = regularizers.get({"class_name": "L2", "config": {"l2": 0.001}})
    assert isinstance(reg, regularizers.L2) and reg.l2 == 0.001
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)

    def custom(w):
        return w.sum()

    assert regularizers.get(custom) is custom
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'. Did you mean 'l2' or 'l1'"):
        regularizers.get("l3")


CONFIG_CASES = [
    regularizers.L1(0.02), regularizers.L2(0.003), regularizers.L1L2(0.1, 0.2),
    regularizers.L1L2(l2=0.4), regularizers.OrthogonalRegularizer(0.3, "columns"),
]


@pytest.mark.parametrize("reg", CONFIG_CASES, ids=repr)
def test_config_round_trip(reg):
    config = reg.get_config()
    assert type(reg).from_config(config).get_config() == config
    restored = regularizers.get(regularizers.serialize(reg))
    assert type(restored) is type(reg) and restored.get_config() == config


@pytest.mark.parametrize("reg", CONFIG_CASES, ids=repr)
def test_config_equals_keras_config(reg):
    keras_reg = getattr(keras.regularizers, type(reg).__name__).from_config(reg.get_config())
    _assert_same_config(reg.get_config(), keras_reg.get_config())
    keras_serialized = keras.regularizers.serialize(keras_reg)
    assert regularizers.serialize(reg)["class_name"] == keras_serialized["class_name"]


def test_serialize_functions():
    def my_penalty(w):
        return w.sum()

    assert regularizers.serialize(my_penalty) == "my_penalty"
    with pytest.raises(ValueError, match="named"):
        regularizers.serialize(lambda w: w.sum())
