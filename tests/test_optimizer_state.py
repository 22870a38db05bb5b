"""Optimizer state through public methods: save_own_variables / load_own_variables (Keras 3's
names and order, checked against Keras 3 on the torch backend) and bitwise round trips."""

import keras
import numpy as np
import pytest
import torch

from layerkit import optimizers

SHAPES = [(3, 4), (4,), (2, 1, 3)]
CASES = [
    ("sgd-momentum", "SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01}),
    ("rmsprop-centered-momentum", "RMSprop",
     {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    ("adam", "Adam", {"learning_rate": 0.01}),
    ("adam-amsgrad", "Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("adamw-amsgrad", "AdamW", {"learning_rate": 0.01, "amsgrad": True}),
    ("adagrad", "Adagrad", {"learning_rate": 0.1}),
    ("adadelta", "Adadelta", {"learning_rate": 1.0}),
    ("adamax", "Adamax", {"learning_rate": 0.01}),
    ("nadam", "Nadam", {"learning_rate": 0.01}),
]
IDS = [c[0] for c in CASES]


def _inits():
    rng = np.random.default_rng(7)
    return [rng.normal(size=s).astype("float32") for s in SHAPES]


def _grads(steps, seed=8):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]


def _params(inits):
    return [torch.nn.Parameter(torch.tensor(x)) for x in inits]


def _run(opt, params, grad_steps):
    for grads in grad_steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_save_own_variables_matches_keras_order_and_values(case):
    _, class_name, kwargs = case
    inits, steps = _inits(), _grads(3)
    kopt = getattr(keras.optimizers, class_name)(**kwargs)
    variables = [keras.Variable(x) for x in inits]
    kopt.build(variables)
    for grads in steps:
        kopt.apply_gradients([(torch.tensor(g), v) for g, v in zip(grads, variables)])
    expected = {}
    kopt.save_own_variables(expected)

    opt = getattr(optimizers, class_name)(**kwargs)
    params = _params(inits)
    opt.build(params)
    _run(opt, params, steps)
    store = {}
    opt.save_own_variables(store)

    assert list(store) == [str(i) for i in range(len(expected))]
    for key, value in expected.items():
        value = np.asarray(value)
        assert store[key].shape == value.shape, key
        np.testing.assert_allclose(store[key], value, rtol=2e-5, atol=1e-7, err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_load_own_variables_resumes_bitwise(case):
    _, class_name, kwargs = case
    inits, steps = _inits(), _grads(5)
    reference_params = _params(inits)
    reference = getattr(optimizers, class_name)(**kwargs)
    reference.build(reference_params)
    _run(reference, reference_params, steps)

    first_params = _params(inits)
    first = getattr(optimizers, class_name)(**kwargs)
    first.build(first_params)
    _run(first, first_params, steps[:2])
    store = {}
    first.save_own_variables(store)

    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in first_params]
    resumed = getattr(optimizers, class_name)(**kwargs)
    resumed.build(resumed_params)
    resumed.load_own_variables(store)
    assert resumed.iterations == 2
    _run(resumed, resumed_params, steps[2:])
    for got, want in zip(resumed_params, reference_params):
        assert torch.equal(got, want)
    for (name, got), (_, want) in zip(resumed.state_arrays(), reference.state_arrays()):
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_state_arrays_names_and_slot_groups():
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    params = _params(_inits())
    opt.build(params)
    names = [name for name, _ in opt.state_arrays({id(params[0]): "dense_kernel"})]
    # Keras 3's RMSprop builds every velocity, then every momentum, then every average
    assert names[:5] == ["rmsprop/iteration", "rmsprop/learning_rate",
                         "rmsprop/dense_kernel_velocity", "rmsprop/variable_1_velocity",
                         "rmsprop/variable_2_velocity"]
    assert names[5] == "rmsprop/dense_kernel_momentum"
    assert names[-1] == "rmsprop/variable_2_average_gradient"
    assert opt.slot_names == ["velocity", "momentum", "average_gradient"]
    assert opt.trainable_variables == params


def test_learning_rate_changed_after_compile_is_restored():
    params = _params(_inits())
    opt = optimizers.Adam(learning_rate=0.01)
    opt.build(params)
    _run(opt, params, _grads(1))
    opt.learning_rate = 0.002  # as ReduceLROnPlateau does
    store = {}
    opt.save_own_variables(store)
    other = optimizers.Adam(learning_rate=0.01)
    other.build(_params(_inits()))
    other.load_own_variables(store)
    assert np.float32(other.learning_rate) == np.float32(0.002)


def test_unused_keras_optimizer_state_sets_the_iterations_only():
    other = optimizers.Adam()
    other.build(_params(_inits()))
    other.load_own_variables({"0": np.int64(7), "1": np.float32(0.001)})
    assert other.iterations == 7
    assert all(not torch.any(v) for v in other.variables)


def test_wrong_slot_shape_names_slot_and_weight():
    params = _params(_inits())
    opt = optimizers.SGD(momentum=0.9)
    opt.build(params)
    store = {}
    opt.save_own_variables(store)
    store["3"] = np.zeros((5,), "float32")  # variable_1's momentum
    other = optimizers.SGD(momentum=0.9)
    other.build(_params(_inits()))
    with pytest.raises(ValueError, match=r"slot 'momentum' of weight 1 has shape \(5,\)"):
        other.load_own_variables(store)


def test_wrong_count_warns_and_starts_fresh():
    opt = optimizers.Adam()
    opt.build(_params(_inits()))
    with pytest.warns(UserWarning, match="holds 3 arrays but Adam needs 8"):
        opt.load_own_variables({"0": np.int64(3), "1": np.float32(0.1),
                                "2": np.zeros((3, 4), "float32")})
    assert opt.iterations == 0


def test_loading_before_build_is_refused():
    with pytest.raises(ValueError, match="build the optimizer first"):
        optimizers.Adam().load_own_variables({"0": np.int64(1), "1": np.float32(0.1)})
