"""Keras's step contract: overridden train_step / test_step / predict_step, compute_loss,
self.metrics, optimizer.apply, GradientTape, custom Metric and Loss subclasses.

The examples of Keras's guide "Customizing what happens in fit()" (torch backend) run in
layerkit and in Keras 3 from the same weights on the same data (no shuffle): the same
History and the same final weights.
"""

import keras
import numpy as np
import pytest
import torch

import layerkit as lk
from layerkit import layers, losses, metrics, optimizers
from layerkit.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight

RTOL = 1e-4


def _grad(v):
    return getattr(v, "value", v).grad  # Keras variables hold the torch Parameter in .value


# -- the guide's steps, written once for both libraries (torch idiom of Keras 3) ---------
def basic_train_step(self, data):
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    self.zero_grad()
    y_pred = self(x, training=True)
    loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
    loss.backward()
    trainable_weights = list(self.trainable_weights)
    gradients = [_grad(v) for v in trainable_weights]
    with torch.no_grad():
        self.optimizer.apply(gradients, trainable_weights)
    for metric in self.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred, sample_weight=sample_weight)
    return {m.name: m.result() for m in self.metrics}


def own_test_step(self, data):
    x, y, _ = unpack_x_y_sample_weight(data)  # Keras's test_on_batch passes (x, y, None)
    y_pred = self(x, training=False)
    loss = self.compute_loss(y=y, y_pred=y_pred)
    for metric in self.metrics:
        if metric.name != "loss":
            metric.update_state(y, y_pred)
        else:
            metric.update_state(loss)
    return {m.name: m.result() for m in self.metrics}


def _data(n=70, width=8, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, width).astype("float32")
    y = (x[:, :3].sum(axis=1, keepdims=True) * 2.0 - 1.0).astype("float32")
    sw = rng.rand(n).astype("float32")
    return x, y, sw


def _twins(base_ours, base_keras, body, width=8):
    """A functional subclass in each library with `body` as class attributes."""
    keras.utils.set_random_seed(7)
    k_in = keras.Input((width,))
    k_out = keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(k_in))
    KModel = type("KModel", (base_keras,), dict(body))
    theirs = KModel(k_in, k_out)
    l_in = lk.Input((width,))
    l_out = layers.Dense(1)(layers.Dense(16, activation="relu")(l_in))
    LModel = type("LModel", (base_ours,), dict(body))
    ours = LModel(l_in, l_out)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _close_history(ours, theirs):
    assert set(ours) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, atol=1e-6, err_msg=key)


def _close_weights(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-5)


def test_guide_basic_train_step_matches_keras():
    x, y, _ = _data()
    ours, theirs = _twins(lk.Model, keras.Model, {"train_step": basic_train_step})
    ours.compile(optimizer=optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    theirs.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    assert [m.name for m in ours.metrics] == ["loss", "compile_metrics"]
    h_ours = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    _close_history(h_ours, h_theirs)
    _close_weights(ours, theirs)


def test_guide_sample_weight_step_matches_keras():
    x, y, sw = _data()
    ours, theirs = _twins(lk.Model, keras.Model, {"train_step": basic_train_step})
    ours.compile(optimizer=optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    h_ours = ours.fit(x, y, sample_weight=sw, batch_size=16, epochs=3, shuffle=False,
                      verbose=0).history
    h_theirs = theirs.fit(x, y, sample_weight=sw, batch_size=16, epochs=3, shuffle=False,
                          verbose=0).history
    _close_history(h_ours, h_theirs)
    _close_weights(ours, theirs)


def test_guide_own_test_step_matches_keras():
    x, y, _ = _data()
    ours, theirs = _twins(lk.Model, keras.Model, {"test_step": own_test_step})
    ours.compile(loss="mse", metrics=["mae"])
    theirs.compile(loss="mse", metrics=["mae"])
    got = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    want = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    _close_history({k: [v] for k, v in got.items()}, {k: [v] for k, v in want.items()})
    got = ours.test_on_batch(x[:10], y[:10], return_dict=True)
    want = theirs.test_on_batch(x[:10], y[:10], return_dict=True)
    _close_history({k: [v] for k, v in got.items()}, {k: [v] for k, v in want.items()})


def test_builtin_step_through_super_and_on_batch():
    x, y, _ = _data()

    def counting(base):
        def train_step(self, data):
            self.calls += 1
            return base.train_step(self, data)
        return train_step

    ours, theirs = _twins(lk.Model, keras.Model, {"calls": 0})
    ours.__class__ = type("Counting", (type(ours),), {"train_step": counting(lk.Model)})
    theirs.__class__ = type("Counting", (type(theirs),), {"train_step": counting(keras.Model)})
    ours.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    theirs.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    h = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    want = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert ours.calls == 10
    _close_history(h, want)
    logs = ours.train_on_batch(x[:8], y[:8], return_dict=True)
    assert ours.calls == 11 and set(logs) == {"loss", "mae"}


# -- a GAN's two-optimizer step (deterministic latents: they travel as the batch's y) ----
def gan_train_step(self, data):
    real, z = data[0], data[1]
    n = real.shape[0]
    fake = self.generator(z)
    combined = torch.cat([fake, real], dim=0)
    labels = torch.cat([torch.ones((n, 1)), torch.zeros((n, 1))], dim=0)
    self.zero_grad()
    d_loss = self.loss_fn(labels, self.discriminator(combined))
    d_loss.backward()
    d_weights = list(self.discriminator.trainable_weights)
    with torch.no_grad():
        self.d_optimizer.apply([_grad(v) for v in d_weights], d_weights)
    self.zero_grad()
    g_loss = self.loss_fn(torch.zeros((n, 1)), self.discriminator(self.generator(z)))
    g_loss.backward()
    g_weights = list(self.generator.trainable_weights)
    with torch.no_grad():
        self.g_optimizer.apply([_grad(v) for v in g_weights], g_weights)
    self.d_loss_tracker.update_state(d_loss)
    self.g_loss_tracker.update_state(g_loss)
    return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def _gan_class(base, lib):
    def __init__(self, discriminator, generator):
        base.__init__(self)
        self.discriminator = discriminator
        self.generator = generator
        self.d_loss_tracker = lib.metrics.Mean(name="d_loss")
        self.g_loss_tracker = lib.metrics.Mean(name="g_loss")
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        base.compile(self)
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    metrics = property(lambda self: [self.d_loss_tracker, self.g_loss_tracker])
    return type("GAN", (base,), {"__init__": __init__, "compile": compile,
                                 "metrics": metrics, "train_step": gan_train_step,
                                 "call": lambda self, x: self.generator(x)})


def test_guide_gan_two_optimizers_match_keras():
    rng = np.random.RandomState(3)
    real = rng.rand(48, 6).astype("float32")
    z = rng.randn(48, 4).astype("float32")
    keras.utils.set_random_seed(11)
    k_d = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dense(1)])
    k_g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dense(6, activation="sigmoid")])
    l_d = lk.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                         layers.Dense(1)])
    l_g = lk.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                         layers.Dense(6, activation="sigmoid")])
    l_d.set_weights(k_d.get_weights())
    l_g.set_weights(k_g.get_weights())
    theirs = _gan_class(keras.Model, keras)(k_d, k_g)
    ours = _gan_class(lk.Model, lk)(l_d, l_g)
    theirs.compile(keras.optimizers.Adam(3e-3), keras.optimizers.Adam(3e-3),
                   keras.losses.BinaryCrossentropy(from_logits=True))
    ours.compile(optimizers.Adam(3e-3), optimizers.Adam(3e-3),
                 losses.BinaryCrossentropy(from_logits=True))
    want = theirs.fit(real, z, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(real, z, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    _close_history(got, want)
    for a, b in zip(l_g.get_weights() + l_d.get_weights(),
                    k_g.get_weights() + k_d.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-5)


# -- the step is the model's, whatever kind of model -------------------------------------
def _sequential_subclass():
    class Seq(lk.Sequential):
        steps = 0

        def train_step(self, data):
            self.steps += 1
            return super().train_step(data)

        def predict_step(self, data):
            return super().predict_step(data) * 0 + 5.0

    return Seq([layers.Dense(1, input_shape=(8,))])


def _subclassed():
    class Sub(lk.Model):
        steps = 0

        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            self.steps += 1
            return super().train_step(data)

        def predict_step(self, data):
            return super().predict_step(data) * 0 + 5.0

    return Sub()


@pytest.mark.parametrize("make", [_sequential_subclass, _subclassed], ids=["sequential",
                                                                          "subclassed"])
def test_overridden_steps_drive_fit_predict_and_on_batch(make):
    x, y, _ = _data(40)
    model = make()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=10, epochs=2, verbose=0)
    assert model.steps == 8
    model.train_on_batch(x[:4], y[:4])
    assert model.steps == 9
    np.testing.assert_array_equal(model.predict(x, batch_size=10, verbose=0), 5.0)
    np.testing.assert_array_equal(model.predict_on_batch(x[:3]), 5.0)


def test_metrics_reset_each_epoch_and_at_evaluate():
    x, y, _ = _data(32)
    seen = []

    class M(lk.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.batches = metrics.Sum(name="batches")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            logs = super().train_step(data)
            self.batches.update_state(1.0)
            seen.append(float(self.batches.result()))
            return {**self.get_metrics_result(), "batches": self.batches.result()}

    model = M()
    model.compile(optimizer="sgd", loss="mse")
    assert [m.name for m in model.metrics] == ["loss", "batches"]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert seen == [1, 2, 3, 4, 1, 2, 3, 4]
    assert history["batches"] == [4.0, 4.0]
    model.evaluate(x, y, verbose=0)
    assert float(model.batches.result()) == 0.0


def test_unpack_and_pack_follow_keras():
    x, y, w = torch.ones(2), torch.zeros(2), torch.ones(2)
    assert unpack_x_y_sample_weight(x) == (x, None, None)
    assert unpack_x_y_sample_weight((x,)) == (x, None, None)
    assert unpack_x_y_sample_weight([x, y]) == (x, y, None)
    assert unpack_x_y_sample_weight((x, y, w)) == (x, y, w)
    with pytest.raises(ValueError, match="sample_weight"):
        unpack_x_y_sample_weight((x, y, w, w))
    assert pack_x_y_sample_weight(x) is x
    assert pack_x_y_sample_weight([x, y]) == ([x, y],)
    assert pack_x_y_sample_weight(x, y) == (x, y)


# -- tf.keras's compiled_loss / compiled_metrics and GradientTape -------------------------
def test_tf_keras_step_with_gradient_tape_equals_builtin():
    x, y, _ = _data()

    def tape_step(self, data):
        x, y = data
        with lk.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    lk.utils.set_random_seed(0)
    tape_model = lk.Sequential([layers.Dense(4, activation="tanh", input_shape=(8,),
                                             kernel_regularizer="l2"), layers.Dense(1)])
    builtin = lk.Sequential([layers.Dense(4, activation="tanh", input_shape=(8,),
                                          kernel_regularizer="l2"), layers.Dense(1)])
    builtin.set_weights(tape_model.get_weights())
    tape_model.__class__ = type("TapeSequential", (lk.Sequential,), {"train_step": tape_step})
    for m in (tape_model, builtin):
        m.compile(optimizer=optimizers.RMSprop(1e-2), loss="mse", metrics=["mae"])
    got = tape_model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    want = builtin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert got == want
    for a, b in zip(tape_model.get_weights(), builtin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_gradient_tape_loop_matches_autograd():
    x, y, _ = _data(32)

    def make():
        lk.utils.set_random_seed(1)
        return lk.Sequential([layers.Dense(5, activation="relu", input_shape=(8,)),
                              layers.Dense(1)])

    tape_model, plain = make(), make()
    loss_fn = losses.MeanSquaredError()
    opt_a, opt_b = optimizers.Adam(1e-2), optimizers.Adam(1e-2)
    xb, yb = torch.as_tensor(x), torch.as_tensor(y)
    for _ in range(5):
        with lk.GradientTape() as tape:
            loss_a = loss_fn(yb, tape_model(xb, training=True))
        grads = tape.gradient(loss_a, tape_model.trainable_variables)
        opt_a.apply_gradients(zip(grads, tape_model.trainable_variables))
        loss_b = loss_fn(yb, plain(xb, training=True))
        params = list(plain.parameters())
        loss_b.backward()
        opt_b.apply([p.grad for p in params], params)
        for p in params:
            p.grad = None
        assert float(loss_a) == float(loss_b)
    for a, b in zip(tape_model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_gradient_tape_watch_persistent_and_unconnected():
    x = torch.tensor([1.0, 2.0, 3.0])
    with lk.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = (x * x).sum()
        z = (x ** 3).sum()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2, 4, 6])
    np.testing.assert_allclose(tape.gradient(z, [x])[0].numpy(), [3, 12, 27])
    other = torch.ones(2, requires_grad=True)
    assert tape.gradient(y, [x, other])[1] is None
    once = lk.GradientTape()
    with once:
        once.watch(x)
        w = (2 * x).sum()
    once.gradient(w, x)
    with pytest.raises(RuntimeError, match="persistent"):
        once.gradient(w, x)


# -- custom Metric and Loss subclasses ---------------------------------------------------
def _custom_classes(lib, ops_sum):
    class CategoricalTruePositives(lib.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="ctp", shape=(), initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = torch.argmax(torch.as_tensor(y_pred), dim=1).reshape(-1, 1)
            values = (torch.as_tensor(y_true).to(torch.int64).reshape(-1, 1) == y_pred)
            values = values.to(torch.float32)
            if sample_weight is not None:
                values = values * torch.as_tensor(sample_weight).reshape(-1, 1)
            self.true_positives.assign_add(ops_sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    class ScaledMSE(lib.losses.Loss):
        def __init__(self, factor=2.0, name="scaled_mse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.factor = factor

        def call(self, y_true, y_pred):
            y_true = torch.nn.functional.one_hot(
                torch.as_tensor(y_true).to(torch.int64).reshape(-1), 3).to(y_pred.dtype)
            return self.factor * torch.mean((y_true - torch.softmax(y_pred, -1)) ** 2, dim=-1)

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return CategoricalTruePositives, ScaledMSE


def test_custom_metric_and_loss_in_compile_match_keras():
    rng = np.random.RandomState(5)
    x = rng.rand(60, 8).astype("float32")
    y = rng.randint(0, 3, size=(60, 1)).astype("float32")
    keras.utils.set_random_seed(2)
    theirs = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    ours = lk.Sequential([layers.Dense(3, input_shape=(8,))])
    ours.set_weights(theirs.get_weights())
    k_metric, k_loss = _custom_classes(keras, keras.ops.sum)
    l_metric, l_loss = _custom_classes(lk, torch.sum)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=k_loss(), metrics=[k_metric()])
    ours.compile(optimizer=optimizers.SGD(0.1), loss=l_loss(), metrics=[l_metric()])
    want = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    _close_history(got, want)
    got = ours.evaluate(x, y, verbose=0, return_dict=True)
    want = theirs.evaluate(x, y, verbose=0, return_dict=True)
    _close_history({k: [v] for k, v in got.items()}, {k: [v] for k, v in want.items()})


@pytest.mark.parametrize("extension", ["h5", "keras"])
def test_custom_metric_and_loss_round_trip_through_saving(tmp_path, extension):
    metric_cls, loss_cls = _custom_classes(lk, torch.sum)
    rng = np.random.RandomState(6)
    x = rng.rand(20, 8).astype("float32")
    y = rng.randint(0, 3, size=(20, 1)).astype("float32")
    model = lk.Sequential([layers.Dense(3, input_shape=(8,))])
    model.compile(optimizer="sgd", loss=loss_cls(factor=3.0), metrics=[metric_cls()])
    model.fit(x, y, epochs=1, verbose=0)
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    model.save(tmp_path / f"m.{extension}")
    objects = {"CategoricalTruePositives": metric_cls, "ScaledMSE": loss_cls}
    loaded = lk.models.load_model(tmp_path / f"m.{extension}", custom_objects=objects)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(expected)
    assert loaded.compiled.loss_fns[0].factor == 3.0
