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


# ------------------------------------------------------------------ layers under a policy
def small_model(**last):
    return models.Sequential([
        layers.Conv1D(4, 3, activation="relu", input_shape=(10, 1)), layers.Flatten(),
        layers.BatchNormalization(), layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid", **last)])


def output_dtypes(model, x):
    seen = {}
    for layer in model.layers:
        layer.register_forward_hook(lambda m, a, o: seen.__setitem__(m.name, o.dtype))
    return model(x).dtype, seen


def test_mixed_policy_computes_low_keeps_float32_weights_and_outputs(policy):
    policy("mixed_bfloat16")
    model = small_model()
    out, inside = output_dtypes(model, torch.randn(4, 10, 1))
    assert out == torch.float32  # the model's output leaves the autocast region in float32
    assert inside["conv1d"] == inside["dense"] == torch.bfloat16
    assert {w.dtype for w in model.weights} == {torch.float32}
    first = model.layers[0]
    assert (first.compute_dtype, first.variable_dtype, first.dtype_policy.name) == \
        ("bfloat16", "float32", "mixed_bfloat16")


def test_a_float32_layer_inside_a_mixed_model_computes_in_float32(policy):
    policy("mixed_bfloat16")
    model = models.Sequential([layers.Dense(6, input_shape=(5,)),
                               layers.Dense(6, dtype="float32"), layers.Dense(2)])
    _, inside = output_dtypes(model, torch.randn(3, 5))
    assert [inside[n] for n in ("dense", "dense_1", "dense_2")] == \
        [torch.bfloat16, torch.float32, torch.bfloat16]
    assert model.layers[1].compute_dtype == "float32"


def test_a_mixed_layer_in_a_float32_model_is_an_autocast_island():
    """dtype='mixed_bfloat16' on one layer: bfloat16 math (exactly what autocast gives),
    float32 output; its neighbours are untouched."""
    dense = layers.Dense(3, dtype="mixed_bfloat16")
    x = torch.randn(4, 5)
    out = dense(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.nn.functional.linear(x, dense.kernel.T, dense.bias)
    assert out.dtype == torch.float32 and dense.kernel.dtype == torch.float32
    assert torch.equal(out, expected.float())
    assert not torch.equal(out, x @ dense.kernel + dense.bias)  # bfloat16 did round
    assert layers.Dense(3).compute_dtype == "float32"


def test_mixed_layer_config_round_trip_and_keras_names():
    dense = layers.Dense(3, dtype="mixed_float16")
    assert dense.get_config()["dtype"] == "mixed_float16"
    again = layers.Dense.from_config(dense.get_config())
    theirs = keras.layers.Dense(3, dtype="mixed_float16")
    assert (again.compute_dtype, again.variable_dtype) == \
        (theirs.compute_dtype, theirs.variable_dtype) == ("float16", "float32")


def fit_under(policy, name, epochs):
    """The small convnet trained under policy `name` from the same start: (losses, model)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 10, 1)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("float32")
    policy(name)
    torch.manual_seed(1)
    model = small_model()
    model.compile(optimizers.Adam(1e-3), "binary_crossentropy")
    history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0)
    return history.history["loss"], model


def test_bfloat16_on_cpu_trains_and_matches_float32(policy):
    loss32, plain = fit_under(policy, "float32", 4)
    loss16, mixed = fit_under(policy, "mixed_bfloat16", 4)
    assert loss16[-1] < loss16[0]  # it trains
    np.testing.assert_allclose(loss16, loss32, rtol=2e-3)
    for a, b in zip(mixed.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-2)
    assert loss16 != loss32  # and it did compute in bfloat16


def test_mixed_float16_compile_wraps_loss_scaling_and_trains(policy):
    """Keras 3's compile wraps the optimizer in a LossScaleOptimizer under mixed_float16;
    fit trains through the scaled loss and matches float32 within float16's precision."""
    loss32, plain = fit_under(policy, "float32", 3)
    loss16, mixed = fit_under(policy, "mixed_float16", 3)
    assert not isinstance(plain.optimizer, LossScaleOptimizer)
    assert isinstance(mixed.optimizer, LossScaleOptimizer)
    assert (mixed.optimizer.iterations, mixed.optimizer.dynamic_scale) == (12, 2.0**15)
    assert mixed.layers[0].compute_dtype == "float16"
    np.testing.assert_allclose(loss16, loss32, rtol=5e-3)
    assert loss16 != loss32


def test_loss_scale_optimizer_serializes_through_the_registry():
    opt = LossScaleOptimizer(optimizers.SGD(0.5), dynamic_growth_steps=7)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, LossScaleOptimizer) and again.dynamic_growth_steps == 7
    assert again.learning_rate == pytest.approx(0.5)


def test_loss_scale_state_in_keras_order_and_through_a_saved_model(policy, tmp_path):
    policy("mixed_float16")
    torch.manual_seed(0)
    model = models.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.1, momentum=0.9), "mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), epochs=2, verbose=0)
    model.optimizer._finite_after_unscaling([torch.tensor([np.inf])])  # one overflow
    names = [name for name, _ in model.optimizer.state_arrays()]
    assert names[:4] == ["loss_scale_optimizer/iteration", "loss_scale_optimizer/learning_rate",
                         "loss_scale_optimizer/step_counter", "loss_scale_optimizer/dynamic_scale"]
    assert names[4:6] == ["sgd/iteration", "sgd/learning_rate"]  # then the inner's, as Keras 3
    model.save(tmp_path / "m.keras")
    again = models.load_model(tmp_path / "m.keras")
    assert isinstance(again.optimizer, LossScaleOptimizer)
    assert model.optimizer.dynamic_scale <= 2.0**14  # halved at least once
    assert (again.optimizer.dynamic_scale, again.optimizer.iterations,
            again.optimizer.step_counter) == (model.optimizer.dynamic_scale,
                                              model.optimizer.iterations, 0)
    for (_, a), (_, b) in zip(again.optimizer.state_arrays(), model.optimizer.state_arrays()):
        np.testing.assert_array_equal(a, b)


def test_a_keras3_mixed_model_loads_with_its_policies(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                   keras.layers.Dense(1, dtype="float32")])
        theirs.save(tmp_path / "k.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    ours = models.load_model(tmp_path / "k.keras")
    assert [(l.compute_dtype, l.variable_dtype) for l in ours.layers] == \
        [("float16", "float32"), ("float32", "float32")]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=2e-3, atol=2e-3)
