"""Learning-rate schedules against Keras 3 (torch backend): values, configs, errors."""

import keras
import numpy as np
import pytest

from layerkit.optimizers import schedules

CASES = [
    ("exponential", "ExponentialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    ("exponential-staircase", "ExponentialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": True}),
    ("inverse-time", "InverseTimeDecay",
     {"initial_learning_rate": 0.01, "decay_steps": 2, "decay_rate": 1.5}),
    ("inverse-time-staircase", "InverseTimeDecay",
     {"initial_learning_rate": 0.01, "decay_steps": 2, "decay_rate": 1.5, "staircase": True}),
    ("piecewise", "PiecewiseConstantDecay",
     {"boundaries": [2, 5, 9], "values": [0.1, 0.05, 0.01, 0.001]}),
    ("polynomial", "PolynomialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 6, "end_learning_rate": 0.01, "power": 0.5}),
    ("polynomial-cycle", "PolynomialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 4, "power": 2.0, "cycle": True}),
    ("cosine", "CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 7}),
    ("cosine-alpha", "CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "alpha": 0.2}),
    ("cosine-warmup", "CosineDecay",
     {"initial_learning_rate": 0.0, "decay_steps": 6, "alpha": 0.1, "warmup_target": 0.05,
      "warmup_steps": 4}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_match_keras(case):
    _, class_name, kwargs = case
    ours = getattr(schedules, class_name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, class_name)(**kwargs)
    got = [ours(step) for step in range(15)]
    expected = [float(theirs(step)) for step in range(15)]
    assert all(isinstance(v, float) for v in got)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_round_trip_and_keras_config(case):
    _, class_name, kwargs = case
    ours = getattr(schedules, class_name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, class_name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    rebuilt = schedules.deserialize(schedules.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    from_keras = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert from_keras.get_config() == ours.get_config()


def test_piecewise_boundaries_are_inclusive_hand_computed():
    schedule = schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in range(8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), r"ExponentialDecay\(decay_steps=0\)"),
    (lambda: schedules.InverseTimeDecay(0.1, -2, 0.5), r"InverseTimeDecay\(decay_steps=-2\)"),
    (lambda: schedules.CosineDecay(0.1, 0), r"CosineDecay\(decay_steps=0\)"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]), "1 less than the length"),
    (lambda: schedules.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3]), "strictly increasing"),
    (lambda: schedules.deserialize({"class_name": "Nope", "config": {}}),
     "Unknown learning rate schedule"),
    (lambda: schedules.deserialize("ExponentialDecay"), "expected a dict with .class_name."),
])
def test_bad_arguments_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_custom_schedule_deserializes_with_custom_objects():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, lr):
            self.lr = lr

        def __call__(self, step):
            return self.lr / (step + 1)

        def get_config(self):
            return {"lr": self.lr}

    config = schedules.serialize(Halving(0.4))
    rebuilt = schedules.deserialize(config, custom_objects={"Halving": Halving})
    assert rebuilt(3) == pytest.approx(0.1)
