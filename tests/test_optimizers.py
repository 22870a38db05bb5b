"""Optimizers against the Keras 3 oracle (torch backend): N-step trajectories, configs, state."""

import copy

import keras
import numpy as np
import pytest
import torch

from layerkit import optimizers
from layerkit.optimizers import schedules

SHAPES = [(3, 4), (4,), (2, 1, 3)]
STEPS = 8

# (id, class name, kwargs, optional (schedule class name, schedule kwargs) for learning_rate)
CASES = [
    ("sgd", "SGD", {"learning_rate": 0.1}, None),
    ("sgd-momentum", "SGD", {"learning_rate": 0.1, "momentum": 0.9}, None),
    ("sgd-nesterov", "SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, None),
    ("sgd-clipvalue", "SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipvalue": 0.3}, None),
    ("sgd-wd-clipnorm", "SGD",
     {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1, "clipnorm": 0.5}, None),
    ("rmsprop", "RMSprop", {}, None),
    ("rmsprop-lr", "RMSprop", {"learning_rate": 0.01, "rho": 0.8}, None),
    ("rmsprop-momentum", "RMSprop", {"learning_rate": 0.01, "momentum": 0.9}, None),
    ("rmsprop-centered", "RMSprop", {"learning_rate": 0.01, "centered": True}, None),
    ("rmsprop-centered-momentum", "RMSprop",
     {"learning_rate": 0.01, "centered": True, "momentum": 0.5, "epsilon": 1e-6}, None),
    ("rmsprop-global-clipnorm", "RMSprop", {"learning_rate": 0.01, "global_clipnorm": 0.7}, None),
    ("adam", "Adam", {"learning_rate": 0.01}, None),
    ("adam-amsgrad", "Adam", {"learning_rate": 0.01, "amsgrad": True, "beta_1": 0.8}, None),
    ("adam-clipnorm", "Adam", {"learning_rate": 0.01, "clipnorm": 0.5}, None),
    ("adam-weight-decay", "Adam", {"learning_rate": 0.01, "weight_decay": 0.05}, None),
    ("adamw", "AdamW", {"learning_rate": 0.01}, None),
    ("adamw-amsgrad", "AdamW", {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True},
     None),
    ("adagrad", "Adagrad", {"learning_rate": 0.1}, None),
    ("adagrad-init", "Adagrad",
     {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-5}, None),
    ("adadelta", "Adadelta", {"learning_rate": 1.0}, None),
    ("adadelta-rho", "Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}, None),
    ("adamax", "Adamax", {"learning_rate": 0.01}, None),
    ("adamax-clipvalue", "Adamax", {"learning_rate": 0.01, "clipvalue": 0.2}, None),
    ("nadam", "Nadam", {"learning_rate": 0.01}, None),
    ("nadam-wd", "Nadam", {"learning_rate": 0.01, "beta_2": 0.99, "weight_decay": 0.1}, None),
    ("sgd-exponential", "SGD", {"momentum": 0.9},
     ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5})),
    ("sgd-exponential-staircase", "SGD", {},
     ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5,
                           "staircase": True})),
    ("rmsprop-inverse-time", "RMSprop", {},
     ("InverseTimeDecay", {"initial_learning_rate": 0.01, "decay_steps": 2, "decay_rate": 1.0})),
    ("sgd-piecewise", "SGD", {"momentum": 0.5},
     ("PiecewiseConstantDecay", {"boundaries": [2, 5], "values": [0.1, 0.05, 0.01]})),
    ("adam-cosine-warmup", "Adam", {"weight_decay": 0.1},
     ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 5, "alpha": 0.1,
                      "warmup_target": 0.01, "warmup_steps": 3})),
    ("adagrad-cosine", "Adagrad", {},
     ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5})),
    ("nadam-polynomial", "Nadam", {},
     ("PolynomialDecay", {"initial_learning_rate": 0.01, "decay_steps": 4, "power": 2.0,
                          "cycle": True})),
]


def _inits():
    rng = np.random.default_rng(1)
    return [rng.normal(size=s).astype("float32") for s in SHAPES]


def _grad_sequence():
    """Gradients of mixed magnitudes; the last parameter only ever sees tiny ones, which
    exposes epsilon placement. One gradient is None (skipped by both libraries)."""
    rng = np.random.default_rng(2)
    seq = []
    for step in range(STEPS):
        scales = [1.0, 1e-5 if step % 3 == 1 else 1.0, 1e-5]
        grads = [(rng.normal(size=s) * c).astype("float32") for s, c in zip(SHAPES, scales)]
        if step == 4:
            grads[1] = None
        seq.append(grads)
    return seq


def _full_grad_steps():
    return [g for g in _grad_sequence() if all(x is not None for x in g)]


def _make(module, class_name, kwargs, schedule):
    kwargs = dict(kwargs)
    if schedule is not None:
        sched_cls = getattr(module.schedules, schedule[0])
        kwargs["learning_rate"] = sched_cls(**schedule[1])
    return getattr(module, class_name)(**kwargs)


def _keras_trajectory(opt, inits, grad_seq):
    variables = [keras.Variable(x) for x in inits]
    out = []
    for grads in grad_seq:
        pairs = [(None if g is None else torch.tensor(g), v) for g, v in zip(grads, variables)]
        opt.apply_gradients(pairs)
        out.append([np.array(v.numpy()) for v in variables])
    return out


def _layerkit_run(opt, params, grad_seq):
    out = []
    for grads in grad_seq:
        for p, g in zip(params, grads):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _params(inits):
    return [torch.nn.Parameter(torch.tensor(x)) for x in inits]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_keras(case):
    _, class_name, kwargs, schedule = case
    inits, grad_seq = _inits(), _grad_sequence()
    expected = _keras_trajectory(_make(keras.optimizers, class_name, kwargs, schedule),
                                 inits, grad_seq)
    params = _params(inits)
    opt = _make(optimizers, class_name, kwargs, schedule)
    opt.build(params)
    got = _layerkit_run(opt, params, grad_seq)
    assert opt.iterations == STEPS
    for step, (exp_step, got_step) in enumerate(zip(expected, got)):
        for exp, out in zip(exp_step, got_step):
            np.testing.assert_allclose(out, exp, rtol=0, atol=1e-6, err_msg=f"step {step}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_dict_resumes_exactly(case):
    _, class_name, kwargs, schedule = case
    inits, grad_seq = _inits(), _grad_sequence()
    params = _params(inits)
    opt = _make(optimizers, class_name, kwargs, schedule)
    opt.build(params)
    _layerkit_run(opt, params, grad_seq[:4])
    state = copy.deepcopy(opt.state_dict())
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    expected = _layerkit_run(opt, params, grad_seq[4:])

    resumed = _make(optimizers, class_name, kwargs, schedule)
    resumed.load_state_dict(state)  # before build: slots are restored by build
    resumed.build(resumed_params)
    assert resumed.iterations == 4
    got = _layerkit_run(resumed, resumed_params, grad_seq[4:])
    for exp_step, got_step in zip(expected, got):
        for exp, out in zip(exp_step, got_step):
            np.testing.assert_array_equal(out, exp)


def test_load_state_dict_after_build_copies_slots():
    params = _params(_inits())
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build(params)
    _layerkit_run(opt, params, _grad_sequence()[:2])
    other = optimizers.RMSprop(momentum=0.5, centered=True)
    other.build(_params(_inits()))
    other.load_state_dict(opt.state_dict())
    assert other.iterations == 2
    for a, b in zip(other.variables, opt.variables):
        assert torch.equal(a, b) and a is not b


def test_load_state_dict_rejects_other_slots():
    opt = optimizers.RMSprop(momentum=0.5)
    opt.build(_params(_inits()))
    other = optimizers.RMSprop()
    other.build(_params(_inits()))
    with pytest.raises(ValueError, match="expected slots"):
        other.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("class_name", sorted(optimizers._OPTIMIZERS))
def test_variables_match_keras_slot_shapes(class_name):
    inits = _inits()
    kopt = getattr(keras.optimizers, class_name)()
    kopt.build([keras.Variable(x) for x in inits])
    opt = optimizers.get(class_name)
    opt.build(_params(inits))
    # Keras 3 lists `iteration` and `learning_rate` first (Nadam adds its u_product at the end).
    keras_slots = [tuple(v.shape) for v in kopt.variables[2:] if tuple(v.shape) != ()]
    assert [tuple(v.shape) for v in opt.variables] == keras_slots


def test_learning_rate_setter_matches_keras():
    inits, grad_seq = _inits(), _full_grad_steps()[:4]
    kopt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    params = _params(inits)
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt.build(params)
    variables = [keras.Variable(x) for x in inits]
    for i, grads in enumerate(grad_seq):
        if i == 2:
            kopt.learning_rate = 0.02
            opt.learning_rate = 0.02
        kopt.apply_gradients(zip([torch.tensor(g) for g in grads], variables))
        _layerkit_run(opt, params, [grads])
    for p, v in zip(params, variables):
        np.testing.assert_allclose(p.detach().numpy(), v.numpy(), atol=1e-6)
    assert opt.learning_rate == opt.lr == 0.02
    opt.lr = 0.5
    assert opt.learning_rate == 0.5


def test_schedule_learning_rate_is_evaluated_and_not_settable():
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5))
    params = _params(_inits())
    opt.build(params)
    assert opt.learning_rate == pytest.approx(0.1)
    _layerkit_run(opt, params, _grad_sequence()[:2])
    assert opt.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.01


def test_legacy_lr_and_decay_follow_tf_keras():
    # tf.keras 2.x: lr_t = lr / (1 + decay * iterations), iterations = completed updates.
    w = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    opt.build([w])
    for _ in range(3):
        w.grad = torch.ones(1)
        opt.step()
    expected = -(0.1 + 0.1 / 1.5 + 0.1 / 2.0)
    assert w.item() == pytest.approx(expected, abs=1e-7)
    assert opt.lr == 0.1  # un-decayed, like K.get_value(opt.lr) in tf.keras
    config = opt.get_config()
    assert config["learning_rate"] == 0.1 and config["decay"] == 0.5
    assert optimizers.SGD.from_config(config).get_config() == config


def test_legacy_decay_with_momentum_hand_computed():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    opt = optimizers.SGD(lr=0.1, momentum=0.5, decay=1.0)
    opt.build([w])
    v, expected = 0.0, 1.0
    for it in range(3):
        w.grad = torch.tensor([2.0])
        opt.step()
        v = 0.5 * v - 0.1 / (1 + it) * 2.0
        expected += v
    assert w.item() == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("class_name", sorted(optimizers._OPTIMIZERS))
def test_config_round_trip(class_name):
    opt = optimizers.get(class_name)
    config = opt.get_config()
    rebuilt = type(opt).from_config(config)
    assert rebuilt.get_config() == config
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config


def test_config_with_schedule_and_options_round_trips():
    opt = optimizers.Adam(
        learning_rate=schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=2),
        amsgrad=True, clipnorm=1.5, weight_decay=0.01, name="my_adam",
    )
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    rebuilt = optimizers.get({"class_name": "adam", "config": config})
    assert rebuilt.get_config() == config
    assert isinstance(rebuilt._learning_rate, schedules.CosineDecay)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("class_name", sorted(optimizers._OPTIMIZERS))
def test_reads_keras3_configs(class_name):
    kopt = getattr(keras.optimizers, class_name)(
        learning_rate=schedules_keras_exponential(), clipvalue=0.5)
    opt = optimizers.deserialize(keras.optimizers.serialize(kopt))
    kconfig = kopt.get_config()
    for key, value in opt.get_config().items():
        if key not in ("name", "learning_rate"):
            assert value == kconfig[key], key
    assert isinstance(opt._learning_rate, schedules.ExponentialDecay)
    assert opt._learning_rate.get_config() == kconfig["learning_rate"]["config"]


def schedules_keras_exponential():
    return keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)


@pytest.mark.parametrize("name, cls", [
    ("RMSprop", optimizers.RMSprop), ("rmsprop", optimizers.RMSprop),
    ("RMSProp", optimizers.RMSprop), ("Adam", optimizers.Adam), ("adam", optimizers.Adam),
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("AdaGrad", optimizers.Adagrad),
    ("adadelta", optimizers.Adadelta), ("adamax", optimizers.Adamax),
    ("nadam", optimizers.Nadam), ("adamw", optimizers.AdamW),
])
def test_get_names_case_insensitive_with_keras3_defaults(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    kconfig = getattr(keras.optimizers, cls.__name__)().get_config()
    for key, value in opt.get_config().items():
        if key != "name":
            assert value == pytest.approx(kconfig[key]) if isinstance(value, float) else (
                value == kconfig[key]), key


def test_get_passes_instances_and_rejects_others():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get(optimizers.Nadam), optimizers.Nadam)
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="torch.optim"):
        optimizers.get(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(learning_rate=-0.1), r"SGD\(learning_rate=-0.1\).*>= 0"),
    (lambda: optimizers.Adam(lr=-1.0), r"Adam\(learning_rate=-1.0\)"),
    (lambda: optimizers.SGD(momentum=1.5), r"SGD\(momentum=1.5\).*\[0.0, 1.0\]"),
    (lambda: optimizers.RMSprop(momentum=-0.1), r"RMSprop\(momentum=-0.1\)"),
    (lambda: optimizers.RMSprop(rho=2.0), r"RMSprop\(rho=2.0\)"),
    (lambda: optimizers.Adam(beta_1=1.0), r"Adam\(beta_1=1.0\)"),
    (lambda: optimizers.Adam(foo=1), r"Adam: argument\(s\) not recognized: \{'foo': 1\}"),
    (lambda: optimizers.SGD(nesterov="yes"), r"SGD\(nesterov='yes'\)"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), "only one of clipnorm"),
    (lambda: optimizers.SGD(clipnorm=-1.0), r"SGD\(clipnorm=-1.0\)"),
    (lambda: optimizers.Adam(weight_decay=-0.1), r"Adam\(weight_decay=-0.1\)"),
    (lambda: optimizers.SGD(decay=-1.0), r"SGD\(decay=-1.0\)"),
    (lambda: optimizers.AdamW(weight_decay=None), r"AdamW\(weight_decay=None\)"),
    (lambda: optimizers.Adam(use_ema=True), "use_ema=True is not supported"),
    (lambda: optimizers.Adam(learning_rate="fast"), r"Adam\(learning_rate='fast'\)"),
])
def test_bad_arguments_are_rejected_clearly(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_integer_hyperparameters_are_accepted_like_tf_keras():
    opt = optimizers.SGD(learning_rate=1, momentum=0)
    assert opt.get_config()["learning_rate"] == 1.0 and opt.momentum == 0.0


def test_keras3_off_options_are_accepted():
    opt = optimizers.Adam(use_ema=False, ema_momentum=0.99, loss_scale_factor=None,
                          gradient_accumulation_steps=None)
    assert opt.get_config()["learning_rate"] == 0.001


def test_step_requires_build_and_some_gradient():
    opt = optimizers.Adam()
    with pytest.raises(RuntimeError, match="build"):
        opt.step()
    opt.build(_params(_inits()))
    with pytest.raises(ValueError, match="no gradients"):
        opt.step()
    assert opt.iterations == 0


def test_step_does_not_modify_gradients_and_runs_without_autograd_history():
    params = _params(_inits())
    grads = [torch.full_like(p, 3.0) for p in params]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    opt = optimizers.RMSprop(learning_rate=0.1, momentum=0.9, clipnorm=0.1, weight_decay=0.1)
    opt.build(params)
    opt.step()
    for p, g in zip(params, grads):
        assert torch.equal(p.grad, g)
        assert p.grad_fn is None and p.requires_grad


def test_apply_gradients_matches_step():
    inits, grad_seq = _inits(), _full_grad_steps()[:3]
    a_params, b_params = _params(inits), _params(inits)
    a, b = optimizers.Nadam(learning_rate=0.01), optimizers.Nadam(learning_rate=0.01)
    a.build(a_params)
    _layerkit_run(a, a_params, grad_seq)
    for grads in grad_seq:
        b.apply_gradients(zip([torch.tensor(g) for g in grads], b_params))
    for p, q in zip(a_params, b_params):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="not passed to build"):
        b.apply_gradients([(torch.ones(1), torch.nn.Parameter(torch.zeros(1)))])


def test_step_flushes_denormal_accumulators_then_restores():
    """Decaying RMSprop accumulators go denormal; the step flushes them (unless the
    policy is False) and leaves the process's flag as it was."""
    from layerkit import config

    w = torch.nn.Parameter(torch.ones(3))
    opt = optimizers.RMSprop()
    opt.build([w])
    opt.variables[0].fill_(1e-39)  # a denormal second moment
    w.grad = torch.zeros(3)
    opt.step()  # v = 0.9 * 1e-39 stays denormal unless flushed
    assert torch.all(opt.variables[0] == 0)
    assert float(torch.tensor([1e-38]) / 100.0) != 0.0  # flag restored after the step
    config.set_flush_denormal(False)
    try:
        opt.variables[0].fill_(1e-39)
        opt.step()
        assert torch.all(opt.variables[0] > 0)
    finally:
        config.set_flush_denormal("auto")
