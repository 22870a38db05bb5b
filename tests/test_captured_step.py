"""`compile(jit_compile=True)`: the built-in train step as one compiled graph
(`layerkit.training.captured_step`) computes what the eager step computes.

Each case trains twins from the same weights and the same seed (shuffling and dropout
masks draw from torch's generator in both), one eager and one captured, for 3 epochs and
compares weights and History. Not bitwise: Inductor fuses the element-wise update and
may contract `a + b * c` into a fused multiply-add (see the module docstring), so the
comparison is at float32 rounding (rtol 1e-5). Graph counts come from TorchDynamo's own
counters: a learning rate that changes every step (schedule) and every epoch
(ReduceLROnPlateau) must not recompile. The fallback cases need no compile at all, or
only a refused trace.
"""

import warnings

import numpy as np
import pytest
import torch

from layerkit import callbacks, layers, models, optimizers, utils

OPTIMIZERS = {
    "rmsprop": lambda: optimizers.RMSprop(learning_rate=1e-2),
    "sgd_nesterov": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(learning_rate=1e-2),
}


def _data(kind, n=48):
    rng = np.random.RandomState(3)
    if kind == "boston":
        x = rng.randn(n, 13).astype("float32")
        return x, (x[:, :3].sum(1) + 0.1 * rng.randn(n)).astype("float32")
    return rng.rand(n, 28, 28).astype("float32"), rng.randint(0, 10, n).astype("int64")


def _model(kind, dropout):
    """A small Boston-like regressor (mse + mae) or Fashion-like classifier."""
    drop = [layers.Dropout(0.3)] if dropout else []
    if kind == "boston":
        stack = [layers.Input((13,)), layers.Dense(16, activation="relu")] + drop + [
            layers.Dense(16, activation="relu"), layers.Dense(1)]
        return models.Sequential(stack), "mse", ["mae"]
    stack = [layers.Input((28, 28)), layers.Flatten(), layers.Dense(24, activation="relu")]
    stack += drop + [layers.Dense(10, activation="softmax")]
    return models.Sequential(stack), "sparse_categorical_crossentropy", ["accuracy"]


def _twins(kind, dropout, optimizer):
    utils.set_random_seed(0)
    eager, loss, metrics = _model(kind, dropout)
    jit, _, _ = _model(kind, dropout)
    jit.set_weights(eager.get_weights())
    eager.compile(OPTIMIZERS[optimizer](), loss, metrics=metrics)
    jit.compile(OPTIMIZERS[optimizer](), loss, metrics=metrics, jit_compile=True)
    return eager, jit


def _fit(model, x, y, **kwargs):
    utils.set_random_seed(1)  # the same shuffles and dropout masks for both twins
    return model.fit(x, y, batch_size=16, epochs=3, verbose=0, **kwargs).history


def _graphs():
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def _assert_same(eager, jit, history_eager, history_jit):
    assert history_jit.keys() == history_eager.keys()
    for key in history_eager:
        np.testing.assert_allclose(history_jit[key], history_eager[key], rtol=1e-5,
                                   atol=1e-7, err_msg=key)
    for a, b in zip(jit.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _no_fallback_warning(record):
    messages = [str(w.message) for w in record if "runs eagerly" in str(w.message)]
    assert not messages, messages


# each optimizer, both models, with and without dropout (each case compiles a graph)
CASES = [("boston", False, "rmsprop"), ("boston", True, "adam"),
         ("fashion", True, "sgd_nesterov")]


@pytest.mark.parametrize("kind,dropout,optimizer", CASES,
                         ids=[f"{k}-{'dropout' if d else 'plain'}-{o}" for k, d, o in CASES])
def test_captured_step_trains_like_eager(kind, dropout, optimizer):
    x, y = _data(kind)
    eager, jit = _twins(kind, dropout, optimizer)
    history_eager = _fit(eager, x, y)
    draw_eager = torch.rand(1).item()
    graphs = _graphs()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        history_jit = _fit(jit, x, y)
    draw_jit = torch.rand(1).item()
    _no_fallback_warning(record)
    assert _graphs() - graphs == 1  # equal batches: one graph for all 8 captured steps
    _assert_same(eager, jit, history_eager, history_jit)
    assert jit.optimizer.iterations == eager.optimizer.iterations == 9
    # the generator where eager left it: the graph drew exactly eager's random numbers
    assert draw_jit == draw_eager


def test_learning_rate_changes_without_recompiling():
    # An ExponentialDecay schedule changes the rate at every step, tf.keras's `decay` on
    # top of it; ReduceLROnPlateau cannot set a scheduled rate, so a second pair of twins
    # with a float rate gets it (min_delta huge: it reduces after the second and third
    # epochs). 40 samples in batches of 16: the last batch of each epoch is smaller, which
    # may add one graph (a symbolic batch size).
    x, y = _data("boston", n=40)
    schedule = dict(initial_learning_rate=0.05, decay_steps=2, decay_rate=0.7)
    eager, jit = _twins("boston", False, "rmsprop")
    for model in (eager, jit):
        model.compile(optimizers.SGD(optimizers.schedules.ExponentialDecay(**schedule),
                                     momentum=0.9), "mse", metrics=["mae"],
                      jit_compile=model is jit)
    graphs = _graphs()
    _assert_same(eager, jit, _fit(eager, x, y), _fit(jit, x, y))
    assert _graphs() - graphs <= 2  # 8 captured steps, 8 different rates
    plateau = lambda: callbacks.ReduceLROnPlateau(  # noqa: E731
        monitor="loss", factor=0.5, patience=0, min_delta=1e9, verbose=0)
    x, y = _data("boston", n=48)
    eager, jit = _twins("boston", True, "rmsprop")
    graphs = _graphs()
    _assert_same(eager, jit, _fit(eager, x, y, callbacks=[plateau()]),
                 _fit(jit, x, y, callbacks=[plateau()]))
    assert _graphs() - graphs == 1
    assert float(jit.optimizer.learning_rate) == pytest.approx(1e-2 / 4)  # two reductions
    # building another model moves layerkit's structure clock (the accessor caches'): the
    # graph is guarded on its own model's structure, not on that clock
    models.Sequential([layers.Input((3,)), layers.Dense(2)])
    graphs = _graphs()
    jit.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert _graphs() == graphs


def test_jit_compile_auto_is_eager():
    # Keras 3 on the torch backend resolves jit_compile="auto" to eager; so does layerkit:
    # compiling costs seconds that a small model's fit rarely wins back.
    x, y = _data("boston")
    model, loss, metrics = _model("boston", False)
    model.compile("rmsprop", loss, metrics=metrics, jit_compile="auto")
    assert model.jit_compile is False
    graphs = _graphs()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert _graphs() == graphs
    with pytest.raises(ValueError, match="jit_compile='yes'"):
        model.compile("rmsprop", loss, jit_compile="yes")


def _eager_twin_equal(jit_builder, eager_builder, x, y, match):
    """Fits both; the jit model must warn once (`match`) and equal the eager one bitwise."""
    eager, jit = eager_builder(), jit_builder()
    jit.set_weights(eager.get_weights())
    history_eager = _fit(eager, x, y)
    with pytest.warns(UserWarning, match=match) as record:
        history_jit = _fit(jit, x, y)
    assert sum("runs eagerly" in str(w.message) for w in record) == 1
    assert history_jit == history_eager
    for a, b in zip(jit.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


class _PlainDescent(optimizers.Optimizer):
    """A user's optimizer with an eager update only."""

    def _update(self, params, grads, slots, lr, t):
        torch._foreach_add_(params, grads, alpha=-lr)


@pytest.mark.parametrize("reason", ["optimizer", "seeded_dropout"])
def test_uncapturable_steps_run_eagerly_with_one_warning(reason):
    x, y = _data("boston")

    def build(jit):
        utils.set_random_seed(0)
        drop = [layers.Dropout(0.3, seed=5)] if reason == "seeded_dropout" else []
        model = models.Sequential([layers.Input((13,)), layers.Dense(8, activation="relu")]
                                  + drop + [layers.Dense(1)])
        optimizer = _PlainDescent(1e-2) if reason == "optimizer" else optimizers.Adam(1e-2)
        model.compile(optimizer, "mse", metrics=["mae"], jit_compile=jit)
        return model

    match = "_PlainDescent has no captured update" if reason == "optimizer" else "seeded"
    graphs = _graphs()
    _eager_twin_equal(lambda: build(True), lambda: build(False), x, y, match)
    assert _graphs() == graphs


class _HostSync(layers.Layer):
    """A layer whose Python branches on a value read from the tensor (`.item()`):
    TorchDynamo cannot keep that in one graph, so the captured step must give up and run
    eagerly. (`.numpy()` would not do: TorchDynamo traces NumPy calls as tensor ops.)"""

    def call(self, inputs):
        return inputs * (2.0 if inputs.detach().mean().item() > 0 else 3.0)


def test_a_step_dynamo_refuses_falls_back_to_eager():
    x, y = _data("boston")

    def build(jit):
        utils.set_random_seed(0)
        model = models.Sequential([layers.Input((13,)), _HostSync(), layers.Dense(1)])
        model.compile(optimizers.RMSprop(1e-2), "mse", jit_compile=jit)
        return model

    _eager_twin_equal(lambda: build(True), lambda: build(False), x, y, "TorchDynamo")


def test_an_overridden_train_step_runs_eagerly():
    class Custom(models.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    with pytest.warns(UserWarning, match="own train_step runs eagerly"):
        Custom([layers.Input((13,)), layers.Dense(1)]).compile("sgd", "mse", jit_compile=True)


def test_sample_weights_and_two_outputs_train_like_eager():
    # Weighted losses and metrics, and per-output losses / `loss_weights` on a functional
    # model with two heads (the running sums of each output's loss cross the graph too).
    rng = np.random.RandomState(5)
    x = rng.randn(48, 13).astype("float32")
    y = [x[:, :1] * 2.0, (x[:, 1] > 0).astype("float32")]
    weights = rng.rand(48).astype("float32")

    def build(jit):
        utils.set_random_seed(0)
        inputs = layers.Input((13,))
        hidden = layers.Dense(16, activation="relu")(inputs)
        outputs = [layers.Dense(1, name="value")(hidden),
                   layers.Dense(1, activation="sigmoid", name="flag")(hidden)]
        model = models.Model(inputs, outputs)
        model.compile(optimizers.Adam(1e-2), ["mse", "binary_crossentropy"],
                      loss_weights=[1.0, 0.5], weighted_metrics=["mae"], jit_compile=jit)
        return model

    eager, jit = build(False), build(True)
    jit.set_weights(eager.get_weights())
    history_eager = _fit(eager, x, y, sample_weight=weights)
    graphs = _graphs()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        history_jit = _fit(jit, x, y, sample_weight=weights)
    _no_fallback_warning(record)
    assert _graphs() - graphs == 1
    assert {"loss", "value_loss", "flag_loss", "value_mae", "flag_mae"} <= set(history_jit)
    _assert_same(eager, jit, history_eager, history_jit)


UPDATES = {
    "sgd": lambda lr: optimizers.SGD(lr),
    "sgd_momentum": lambda lr: optimizers.SGD(lr, momentum=0.9),
    "sgd_nesterov_clipnorm": lambda lr: optimizers.SGD(lr, momentum=0.9, nesterov=True,
                                                       clipnorm=0.5),
    "rmsprop": lambda lr: optimizers.RMSprop(lr),
    "rmsprop_centered_momentum": lambda lr: optimizers.RMSprop(lr, momentum=0.5,
                                                               centered=True),
    "adam_global_clipnorm": lambda lr: optimizers.Adam(lr, global_clipnorm=1.0),
    "adam_amsgrad": lambda lr: optimizers.Adam(lr, amsgrad=True),
    "adamw": lambda lr: optimizers.AdamW(lr, weight_decay=0.1),
    "adamax_decay": lambda lr: optimizers.Adamax(lr, decay=0.01),
    "adagrad_clipvalue": lambda lr: optimizers.Adagrad(lr, clipvalue=0.3),
    "adadelta": lambda lr: optimizers.Adadelta(lr),
    "nadam": lambda lr: optimizers.Nadam(lr),
}


@pytest.mark.parametrize("name", list(UPDATES))
def test_captured_update_is_the_eager_update(name):
    # The optimizer's update as the graph runs it (per-step numbers as a tensor), run
    # here without compiling, against `apply_gradients`: 6 steps at a rate that a schedule
    # changes at each step. Equal within float32 rounding (`p - (lr*g)/d` where eager's
    # addcdiv computes `p + (-lr*g)/d`).
    rng = np.random.RandomState(0)
    shapes = [(5, 3), (3,), (4, 1)]
    start = [torch.tensor(rng.randn(*s).astype("float32")) for s in shapes]
    grads = [[torch.tensor(rng.randn(*s).astype("float32")) for s in shapes] for _ in range(6)]
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.8)
    eager_opt, captured_opt = UPDATES[name](schedule), UPDATES[name](schedule)
    eager = [torch.nn.Parameter(t.clone()) for t in start]
    captured = [torch.nn.Parameter(t.clone()) for t in start]
    eager_opt.build(eager)
    captured_opt.build(captured)
    assert captured_opt.supports_capture
    for step in grads:
        eager_opt.apply_gradients(zip(step, eager))
        scalars = torch.tensor(captured_opt.captured_scalars())
        with torch.no_grad():
            captured_opt.captured_update(captured, list(step), scalars)
        captured_opt.finish_captured_step()
    assert captured_opt.iterations == eager_opt.iterations == 6
    for a, b in zip(captured, eager):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(captured_opt.variables, eager_opt.variables):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
