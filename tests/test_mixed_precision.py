"""Mixed precision: dtype policies and layers under them, LossScaleOptimizer against Keras 3."""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, mixed_precision, models, optimizers
from layerkit.mixed_precision import LossScaleOptimizer, Policy

NAMES = ["float32", "float64", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16"]


@pytest.fixture
def policy():
    """Sets a global policy for one test and always resets it."""
    yield mixed_precision.set_global_policy
    mixed_precision.set_global_policy(None)


@pytest.mark.parametrize("name", NAMES)
def test_policy_dtypes_match_keras(name):
    ours, theirs = Policy(name), keras.mixed_precision.Policy(name)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == \
        (theirs.name, theirs.compute_dtype, theirs.variable_dtype)


def test_global_policy_set_and_reset(policy):
    assert mixed_precision.global_policy() == Policy("float32")
    policy("mixed_bfloat16")
    assert mixed_precision.global_policy().compute_dtype == "bfloat16"
    policy(None)
    assert mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="received 'mixed_float64'"):
        Policy("mixed_float64")


# ------------------------------------------------------------------ LossScaleOptimizer
GRADIENTS = [[8, 8], [16, 0], [np.inf, 1], [4, 4], [np.nan, 0], [2, 2], [2, 2], [2, 2], [2, 2],
             [-np.inf, 3], [1, 1]]


def keras_schedule(gradients, initial_scale, growth_steps):
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1),
                                              initial_scale=initial_scale,
                                              dynamic_growth_steps=growth_steps)
    v = keras.Variable(np.array([1.0, 2.0], "float32"))
    opt.build([v])
    trace = []
    for g in gradients:
        opt.apply([keras.ops.convert_to_tensor(np.array(g, "float32"))], [v])
        trace.append((float(opt.dynamic_scale), int(keras.ops.convert_to_numpy(
            opt.step_counter)), keras.ops.convert_to_numpy(v).copy(),
            int(keras.ops.convert_to_numpy(opt.iterations))))
    return trace


@pytest.mark.parametrize("how", ["apply", "step"])
def test_loss_scale_schedule_matches_keras(how):
    """Scripted gradients (some inf/NaN): scale, counter, weights and iterations per step."""
    expected = keras_schedule(GRADIENTS, 8.0, 3)
    v = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=3)
    opt.build([v])
    for g, (scale, counter, weights, iterations) in zip(GRADIENTS, expected):
        grad = torch.tensor(g, dtype=torch.float32)
        if how == "apply":
            opt.apply([grad], [v])
        else:
            v.grad = grad
            opt.step()
        assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == \
            (scale, counter, iterations)
        np.testing.assert_allclose(v.detach().numpy(), weights, rtol=1e-6)
    # the script halves, doubles and halves again
    assert [t[0] for t in expected] == [8, 8, 4, 4, 2, 2, 2, 4, 4, 2, 2]


def test_loss_scale_defaults_match_keras():
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    ours = LossScaleOptimizer(optimizers.SGD())
    assert (ours.initial_scale, ours.dynamic_growth_steps, ours.dynamic_scale) == \
        (theirs.initial_scale, theirs.dynamic_growth_steps, 2.0**15)


def test_loss_scale_doubles_after_2000_finite_steps():
    v = torch.nn.Parameter(torch.zeros(3))
    opt = LossScaleOptimizer(optimizers.SGD(0.0))
    opt.build([v])
    for _ in range(1999):
        opt.apply([torch.ones(3)], [v])
    assert (opt.dynamic_scale, opt.step_counter) == (2.0**15, 1999)
    opt.apply([torch.ones(3)], [v])
    assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == (2.0**16, 0, 2000)


def test_scale_loss_unscale_round_trip_on_a_model():
    """backward on scale_loss(loss) then step == the plain optimizer's step."""
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    plain, scaled = (models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
                     for _ in range(2))
    scaled.set_weights(plain.get_weights())
    sgd, lso = optimizers.SGD(0.05), LossScaleOptimizer(optimizers.SGD(0.05))
    for model, opt, scale in ((plain, sgd, lambda l: l), (scaled, lso, lso.scale_loss)):
        opt.build(model.trainable_weights)
        for _ in range(3):
            for p in model.trainable_weights:
                p.grad = None
            scale(((model(x) - y) ** 2).mean()).backward()
            opt.step()
    for a, b in zip(plain.get_weights(), scaled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_loss_scale_config_round_trip_and_state():
    opt = LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=64.0, dynamic_growth_steps=5)
    again = LossScaleOptimizer.from_config(opt.get_config())
    assert (again.initial_scale, again.dynamic_growth_steps) == (64.0, 5)
    assert isinstance(again.inner_optimizer, optimizers.Adam)
    assert again.learning_rate == pytest.approx(0.01)
    v = torch.nn.Parameter(torch.ones(2))
    opt.build([v])
    opt.apply([torch.tensor([np.inf, 0.0])], [v])
    state = opt.state_dict()
    again.build([torch.nn.Parameter(torch.ones(2))])
    again.load_state_dict(state)
    assert (again.dynamic_scale, again.step_counter) == (32.0, 0)


def test_loss_scale_errors_name_the_argument():
    with pytest.raises(ValueError, match="dynamic_growth_steps must be an int >= 1, received 0"):
        LossScaleOptimizer(optimizers.SGD(), dynamic_growth_steps=0)
    with pytest.raises(TypeError, match="inner_optimizer must be a layerkit optimizer"):
        LossScaleOptimizer("sgd")
