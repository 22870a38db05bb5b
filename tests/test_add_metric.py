"""tf.keras 2's `add_metric`: metric tensors in `call` and on functional models, reported as
running means in the logs of fit (`name`, `val_name`) and evaluate; hand-computed values
(Keras 3 has no add_metric, so tf.keras 2's documented `Mean` aggregation is the reference:
each step adds the sum and the element count of the value)."""

import numpy as np
import pytest
import torch

from layerkit import Input, Model, layers, models, optimizers
from layerkit import backend as K

X = np.arange(12, dtype="float32").reshape(6, 2) / 10
Y = np.ones((6, 1), "float32")


class Probe(layers.Layer):
    def __init__(self, reduce=True, **kwargs):
        super().__init__(**kwargs)
        self.reduce = reduce

    def call(self, x):
        self.add_metric(torch.mean(x) if self.reduce else x, name="act_mean")
        return x


def _frozen_model(reduce=True):
    model = models.Sequential([
        layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros", input_shape=(2,)),
        Probe(reduce)])
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    return model


def test_fit_reports_the_mean_over_steps_and_validation_with_val_prefix():
    model = _frozen_model()
    history = model.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False,
                        validation_data=(X, Y))
    out = X.sum(axis=1)  # the Dense output with unit kernel
    per_step = (out[:4].mean() + out[4:].mean()) / 2  # scalar values: one count per step
    np.testing.assert_allclose(history.history["act_mean"], [per_step] * 2, rtol=1e-6)
    np.testing.assert_allclose(history.history["val_act_mean"], [per_step] * 2, rtol=1e-6)
    assert list(history.history) == ["loss", "act_mean", "val_loss", "val_act_mean"]


def test_tensor_values_average_over_their_elements():
    model = _frozen_model(reduce=False)
    logs = model.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["act_mean"], X.sum(axis=1).mean(), rtol=1e-6)
    assert model.metrics_names == ["loss", "act_mean"]


def test_symbolic_metric_on_a_functional_model():
    inputs = Input((2,))
    outputs = layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(inputs)
    model = Model(inputs, outputs)
    model.add_metric(K.mean(outputs), name="mean_out")
    model.compile("sgd", "mse")
    logs = model.evaluate(X, Y, batch_size=6, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["mean_out"], X.sum(axis=1).mean(), rtol=1e-6)


def test_running_state_round_trip_keeps_added_metrics():
    model = _frozen_model()
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    state = model.compiled.running_state()
    assert "metric_added_act_mean" in state
    before = model.compiled.results()
    model.compiled.restore_running_state(state)
    assert model.compiled.results() == before


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs a name"),
    ({"name": "m", "aggregation": "sum"}, "aggregation"),
])
def test_bad_arguments_are_named(kwargs, message):
    class Bad(layers.Layer):
        def call(self, x):
            self.add_metric(torch.mean(x), **kwargs)
            return x

    with pytest.raises(ValueError, match=message):  # at the build's traced call
        models.Sequential([layers.Dense(1, input_shape=(2,)), Bad()]).predict(X, verbose=0)
