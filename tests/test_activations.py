"""layerkit.activations against Keras 3 (torch backend) and hand-computed values."""

import keras
import numpy as np
import pytest
import torch

from layerkit import activations, config

# A grid with zeros, the kinks of the piecewise functions, and large magnitudes.
GRID = np.concatenate([
    np.linspace(-25.0, 25.0, 101),
    [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 21.0, -1e-4, 1e-4],
]).astype("float32")
KERAS_DICT = keras.src.activations.ALL_OBJECTS_DICT


def _keras_np(fn, x, **kwargs):
    with keras.device("cpu"):
        return fn(keras.ops.convert_to_tensor(x), **kwargs).detach().cpu().numpy()


def _ours_np(fn, x, **kwargs):
    return fn(torch.from_numpy(x), **kwargs).numpy()


ELEMENTWISE = sorted(set(KERAS_DICT) - {"threshold", "glu", "softmax", "log_softmax", "sparsemax"})


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_keras(name):
    ours = _ours_np(getattr(activations, name), GRID)
    expected = _keras_np(KERAS_DICT[name], GRID)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax", "glu"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_axis_functions_match_keras(name, axis):
    x = np.random.RandomState(1).normal(scale=3.0, size=(4, 6, 8)).astype("float32")
    ours = _ours_np(getattr(activations, name), x, axis=axis)
    expected = _keras_np(KERAS_DICT[name], x, axis=axis)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_axis_none_normalizes_over_all_elements(name):
    x = np.random.RandomState(2).normal(size=(3, 5)).astype("float32")
    ours = _ours_np(getattr(activations, name), x, axis=None)
    np.testing.assert_allclose(ours, _keras_np(KERAS_DICT[name], x, axis=None), atol=1e-6)
    if name == "softmax":
        assert ours.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 6.0},
        {"max_value": 2.5},
        {"threshold": 1.5},
        {"negative_slope": 0.3, "max_value": 4.0},
        {"negative_slope": 0.3, "threshold": -1.0},
        {"negative_slope": 0.2, "max_value": 3.0, "threshold": 0.5},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_relu_options_match_keras(kwargs):
    ours = _ours_np(activations.relu, GRID, **kwargs)
    np.testing.assert_allclose(ours, _keras_np(keras.activations.relu, GRID, **kwargs), atol=1e-6)


def test_relu_hand_values_from_keras_docs():
    x = torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert activations.relu(x).tolist() == [0, 0, 0, 5, 10]
    assert activations.relu(x, negative_slope=0.5).tolist() == [-5, -2.5, 0, 5, 10]
    assert activations.relu(x, max_value=5.0).tolist() == [0, 0, 0, 5, 5]
    assert activations.relu(x, threshold=5.0).tolist() == [0, 0, 0, 0, 10]


def test_relu_accepts_tf_keras_alpha_keyword():
    x = torch.from_numpy(GRID)
    torch.testing.assert_close(activations.relu(x, alpha=0.25), activations.relu(x, 0.25))
    assert activations.relu(torch.tensor([-2.0]), alpha=0.25).item() == -0.5


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("elu", {"alpha": 0.5}),
        ("celu", {"alpha": 2.0}),
        ("leaky_relu", {"negative_slope": 0.01}),
        ("gelu", {"approximate": True}),
        ("soft_shrink", {"threshold": 1.0}),
        ("hard_shrink", {"threshold": 1.0}),
        ("squareplus", {"b": 1.0}),
        ("threshold", {"threshold": 0.5, "default_value": -1.0}),
    ],
)
def test_keyword_variants_match_keras(name, kwargs):
    ours = _ours_np(getattr(activations, name), GRID, **kwargs)
    expected = _keras_np(KERAS_DICT[name], GRID, **kwargs)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


def test_defaults_follow_keras_3():
    x = torch.tensor([-1.0, 0.7])
    assert activations.leaky_relu(x)[0].item() == pytest.approx(-0.2)  # negative_slope=0.2
    exact = 0.7 * 0.5 * (1 + torch.erf(torch.tensor(0.7 / 2**0.5))).item()
    assert activations.gelu(x)[1].item() == pytest.approx(exact, abs=1e-7)  # approximate=False


def test_hard_sigmoid_is_keras_3_definition():
    # Keras 3: clip(x/6 + 0.5, 0, 1). tf.keras 2.x's clip(0.2x + 0.5, 0, 1) would give
    # 0.2 at -1.5, 0.8 at 1.5 and 1.0 at 2.5.
    x = torch.tensor([-4.0, -3.0, -1.5, 0.0, 1.5, 2.5, 3.0, 4.0])
    expected = [0.0, 0.0, 0.25, 0.5, 0.75, 2.5 / 6 + 0.5, 1.0, 1.0]
    np.testing.assert_allclose(activations.hard_sigmoid(x).numpy(), expected, atol=1e-7)


def test_hard_silu_and_selu_hand_values():
    x = torch.tensor([-4.0, -1.5, 1.5, 4.0])
    np.testing.assert_allclose(
        activations.hard_silu(x).numpy(), [0.0, -1.5 * 0.25, 1.5 * 0.75, 4.0], atol=1e-7
    )
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    got = activations.selu(torch.tensor([-1.0, 2.0], dtype=torch.float64)).tolist()
    assert got == pytest.approx([scale * alpha * (np.exp(-1.0) - 1), scale * 2.0], rel=1e-12)


def test_aliases_are_the_same_functions():
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu


def test_float64_and_array_inputs():
    x64 = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    assert activations.sigmoid(x64).dtype == torch.float64
    out = activations.relu([-1, 2])  # Python ints become floatx
    assert out.dtype == torch.float32 and out.tolist() == [0.0, 2.0]
    assert activations.tanh(np.array([0.0])).dtype == torch.float64


def test_functions_do_not_modify_their_input():
    x = torch.from_numpy(GRID.copy())
    for name in ELEMENTWISE:
        getattr(activations, name)(x)
    activations.relu(x, negative_slope=0.2, max_value=3.0, threshold=0.5)
    assert np.array_equal(x.numpy(), GRID)


# --- get / serialize -------------------------------------------------------------------------


def test_get_none_gives_linear():
    assert activations.get(None) is activations.linear
    x = torch.randn(3)
    assert activations.get(None)(x) is x


@pytest.mark.parametrize("name", sorted(KERAS_DICT))
def test_get_knows_every_keras_name(name):
    fn = activations.get(name)
    assert fn.__name__ == KERAS_DICT[name].__name__


def test_get_passes_callables_and_reads_dicts():
    def custom(x):
        return 2 * x

    assert activations.get(custom) is custom
    assert activations.get({"class_name": "tanh", "config": {}}) is activations.tanh
    assert activations.get("custom", custom_objects={"custom": custom}) is custom


def test_get_unknown_name_suggests_valid_names():
    with pytest.raises(ValueError, match="Unknown activation: 'relux'.*'relu' or 'relu6'"):
        activations.get("relux")
    with pytest.raises(ValueError):
        activations.get(3)


@pytest.mark.parametrize("name", sorted(KERAS_DICT))
def test_serialize_round_trip_and_matches_keras(name):
    fn = activations.get(name)
    serialized = activations.serialize(fn)
    assert serialized == keras.activations.serialize(KERAS_DICT[name])
    assert activations.get(serialized) is fn


def test_serialize_custom_functions():
    def my_act(x):
        return x

    assert activations.serialize(my_act) == "my_act"
    with pytest.raises(ValueError, match="lambda"):
        activations.serialize(lambda x: x)


def test_floatx_is_used_for_int_lists():
    config.set_floatx("float64")
    try:
        assert activations.sigmoid([0, 1]).dtype == torch.float64
    finally:
        config.set_floatx("float32")
