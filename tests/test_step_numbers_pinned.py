"""Speed work on the step must not move a number: the built-in `train_step` and the Keras
guide's overridden step (torch idiom) train a model with weight and activity penalties and
an `add_loss` term for 3 epochs on a fixed seed to the same weights, bit for bit, and to
the pinned weights and metric values below (recorded from this tree before the per-step
overhead work of issue 17 item 4; CPU float32, one thread)."""

import numpy as np
import pytest
import torch

import layerkit as lk
from layerkit import layers


class AddsLoss(layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-3 * inputs.square().mean())
        return inputs


class GuideStep(lk.Sequential):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _train(cls):
    lk.utils.set_random_seed(0)
    model = cls([layers.Dense(16, activation="relu", input_shape=(6,),
                              kernel_regularizer="l2", activity_regularizer="l1"),
                 AddsLoss(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_categorical_crossentropy"])
    rng = np.random.RandomState(1)
    x = rng.rand(96, 6).astype("float32")
    y = rng.randint(0, 3, size=96)
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return model, history.history


pytestmark = pytest.mark.usefixtures("one_thread")


def _fingerprint(model):
    return [float(w.detach().double().sum()) for w in model.weights]


PINNED_WEIGHT_SUMS = [-0.6971735085826367, -0.05026087863370776, -0.954890095628798,
                      -0.001878887414932251]
PINNED_HISTORY = {
    "loss": [1.2494302888711293, 1.2259088059266408, 1.2076288362344105],
    "accuracy": [0.3229166567325592, 0.3333333432674408, 0.375],
    "sparse_categorical_crossentropy": [1.135567545890808, 1.1149271726608276,
                                        1.099298357963562],
}


@pytest.mark.parametrize("cls", [lk.Sequential, GuideStep], ids=["builtin", "overridden"])
def test_three_epochs_give_the_pinned_weights_and_history(cls):
    model, history = _train(cls)
    assert _fingerprint(model) == PINNED_WEIGHT_SUMS
    assert history == PINNED_HISTORY


def test_builtin_and_overridden_steps_train_bitwise_alike():
    builtin, _ = _train(lk.Sequential)
    custom, _ = _train(GuideStep)
    assert len(builtin.weights) == len(custom.weights) == 4
    for a, b in zip(builtin.weights, custom.weights):
        assert torch.equal(a, b)


def test_divide_no_nan_is_zero_exactly_where_the_denominator_is():
    from layerkit.metrics.metric import divide_no_nan
    num = torch.tensor([[1.0, -2.0, 3.0]])
    den = torch.tensor([[0.0], [4.0]])
    out = divide_no_nan(num, den)
    assert out.shape == (2, 3) and out.dtype == torch.float32
    assert torch.equal(out, torch.tensor([[0.0, 0.0, 0.0], [0.25, -0.5, 0.75]]))
    assert not torch.signbit(out[0]).any()  # +0, never -0 (num / +-inf or -num * 0)
    assert divide_no_nan(torch.tensor(3), torch.tensor(0)).dtype == torch.float32
