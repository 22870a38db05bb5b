"""What Keras 2 / tf.keras 2.x accepted and notes rely on. Expected values are pinned from
tf.keras 2.x behaviour (too heavy to install in CI); each test names the tf.keras source."""

import numpy as np
import pytest
import torch

from layerkit import Input, activations, backend as K, constraints, layers, losses, metrics
from layerkit import models, optimizers, regularizers


# ------------------------------------------------------------ numpy arrays and numbers
W = np.array([[1.0, -2.0], [3.0, 4.0]])


@pytest.mark.parametrize("fn,expected", [
    # tf.keras regularizers.py L2.__call__: l2 * reduce_sum(square(x))
    (lambda: regularizers.l2(0.01)(W), 0.3),
    (lambda: regularizers.l1(0.01)(W), 0.1),
    (lambda: regularizers.l1_l2(l1=0.01, l2=0.01)(W), 0.4),
    (lambda: regularizers.l2(0.5)(3.0), 4.5),
    (lambda: regularizers.l2(0.5)([1, 2]), 2.5),  # integers become floats
    # tf.keras losses.py mean_squared_error: mean(square(y_pred - y_true), axis=-1)
    (lambda: losses.mse(W, W + 1), [1.0, 1.0]),
    (lambda: losses.mean_absolute_error([[1.0, 2.0]], [[2.0, 2.0]]), [0.5]),
    (lambda: losses.binary_crossentropy([[1.0], [0.0]], [[0.9], [0.2]]),
     [-np.log(0.9), -np.log(0.8)]),
    (lambda: losses.sparse_categorical_crossentropy([0, 1], [[0.9, 0.1], [0.2, 0.8]]),
     [-np.log(0.9), -np.log(0.8)]),
    (lambda: metrics.mae([1.0, 2.0], [2.0, 2.0]), 0.5),
    (lambda: metrics.categorical_accuracy(np.eye(2), [[0.9, 0.1], [0.6, 0.4]]), [1.0, 0.0]),
    (lambda: activations.relu(W), [[1.0, 0.0], [3.0, 4.0]]),
    (lambda: activations.sigmoid(0.0), 0.5),
    (lambda: activations.softmax(np.array([[0.0, 0.0]])), [[0.5, 0.5]]),
    (lambda: constraints.non_neg()(W), [[1.0, 0.0], [3.0, 4.0]]),
], ids=["l2", "l1", "l1_l2", "l2_number", "l2_int_list", "mse", "mae", "bce", "sparse_cce",
        "metric_mae", "categorical_accuracy", "relu", "sigmoid_number", "softmax",
        "non_neg"])
def test_numpy_and_numbers_accepted(fn, expected):
    out = fn()
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------ per-sample shapes
def test_binary_accuracy_is_per_sample():
    # tf.keras metrics.py binary_accuracy: K.mean(equal(y_true, y_pred > t), axis=-1)
    y_true = np.array([[1.0], [0.0], [1.0]])
    y_pred = np.array([[0.9], [0.7], [0.2]])
    out = metrics.binary_accuracy(y_true, y_pred)
    assert tuple(out.shape) == (3,)
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0, 0.0])
    two = metrics.binary_accuracy(np.array([[1.0, 0.0]]), np.array([[0.9, 0.9]]))
    np.testing.assert_array_equal(two.numpy(), [0.5])


@pytest.mark.parametrize("fn", [losses.mse, losses.mae, losses.binary_crossentropy,
                                losses.hinge, losses.kld, losses.poisson, metrics.mse,
                                metrics.binary_accuracy],
                         ids=lambda f: f.__name__)
def test_loss_and_metric_functions_return_batch_shape(fn):
    y = np.random.RandomState(0).rand(5, 1)
    p = np.random.RandomState(1).rand(5, 1) * 0.8 + 0.1
    assert tuple(fn(y, p).shape) == (5,)


# ------------------------------------------------------------ rank-1 data for (None, 1) inputs
def _skipgram():
    target, context = Input((1,)), Input((1,))
    embed = layers.Embedding(20, 4)
    dot = layers.Dot(axes=2)([embed(target), embed(context)])
    out = layers.Dense(1, activation="sigmoid")(layers.Reshape((1,))(dot))
    model = models.Model([target, context], out)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    rng = np.random.RandomState(0)
    return model, [rng.randint(0, 20, 16), rng.randint(0, 20, 16)], rng.randint(0, 2, 16)


def test_rank1_inputs_expand_for_none_1_inputs():
    # Keras 2.2 training_utils.standardize_input_data / tf.keras data_adapter.expand_1d
    model, x, y = _skipgram()
    assert x[0].shape == (16,)
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    model.test_on_batch(x, y)
    assert model.predict(x).shape == (16, 1)
    assert model.predict_on_batch(x).shape == (16, 1)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.evaluate(x, y, verbose=0)

    def batches():
        while True:
            yield x, y

    model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    seq = models.Sequential([layers.Dense(2, input_shape=(1,))])
    np.testing.assert_allclose(seq.predict(np.arange(3.0)),
                               seq.predict(np.arange(3.0).reshape(3, 1)))


def test_rank1_input_for_wider_input_is_still_an_error():
    seq = models.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="expected shape"):
        seq.predict(np.arange(3.0))


# ------------------------------------------------------------ training= in a graph
def _mc_dropout_model():
    inputs = Input((8,))
    h = layers.Dense(16)(inputs)
    h = layers.Dropout(0.5)(h, training=True)
    return models.Model(inputs, layers.Dense(1)(h))


def test_training_true_in_graph_keeps_dropout_at_predict(tmp_path):
    # tf.keras base_layer: an explicit training= call argument overrides the model's mode
    model = _mc_dropout_model()
    x = np.ones((4, 8), "float32")
    assert not np.allclose(model.predict(x), model.predict(x))
    model.save(tmp_path / "mc.keras")
    loaded = models.load_model(tmp_path / "mc.keras")
    assert not np.allclose(loaded.predict(x), loaded.predict(x))


def test_training_false_in_graph_keeps_dropout_off_in_fit():
    inputs = Input((4,))
    out = layers.Dropout(0.99)(inputs, training=False)
    model = models.Model(inputs, out)
    x = torch.ones(2, 4)
    torch.testing.assert_close(model(x, training=True), x)


# ------------------------------------------------------------ Sequential conveniences
def test_predict_classes_and_proba_tf_keras_2_5():
    # tf.keras 2.5 sequential.py predict_classes: argmax(-1) if classes > 1 else
    # (proba > 0.5).astype('int32')
    binary = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    binary.set_weights([np.array([[1.0], [0.0]], "float32"), np.zeros(1, "float32")])
    x = np.array([[2.0, 0.0], [-2.0, 0.0]], "float32")
    classes = binary.predict_classes(x)
    assert classes.dtype == np.int32 and classes.tolist() == [[1], [0]]
    np.testing.assert_allclose(binary.predict_proba(x), binary.predict(x))
    multi = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    multi.set_weights([np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "float32"),
                       np.zeros(3, "float32")])
    assert multi.predict_classes(np.array([[5.0, 0.0], [0.0, 5.0]])).tolist() == [1, 2]


def test_metrics_names():
    # tf.keras 2.x: ['loss'] until the metrics are built by a step, then the compiled names
    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["acc", "mae"])
    assert model.metrics_names == ["loss"]
    x, y = np.ones((4, 2)), np.ones((4, 1))
    model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "acc", "mae"]


# ------------------------------------------------------------ optimizer.lr
def _sgd_step(set_lr):
    model = models.Sequential([layers.Dense(1, use_bias=False, kernel_initializer="zeros",
                                            input_shape=(1,))])
    model.compile(optimizer=optimizers.SGD(lr=0.1), loss="mse")
    set_lr(model.optimizer)
    model.train_on_batch(np.ones((1, 1)), np.ones((1, 1)))
    # d/dw (w - 1)^2 at w = 0 is -2: one step moves w by 2 * lr
    return float(model.get_weights()[0][0, 0])


@pytest.mark.parametrize("set_lr", [
    lambda opt: setattr(opt, "lr", 0.01),
    lambda opt: setattr(opt, "learning_rate", 0.01),
    lambda opt: K.set_value(opt.lr, 0.01),
    lambda opt: K.set_value(opt.learning_rate, np.float32(0.01)),
    lambda opt: opt.lr.assign(0.01),
], ids=["lr_attr", "learning_rate_attr", "set_value_lr", "set_value_learning_rate", "assign"])
def test_optimizer_lr_settable_and_used_by_next_step(set_lr):
    assert _sgd_step(set_lr) == pytest.approx(0.02)


def test_optimizer_lr_reads_as_a_float():
    opt = optimizers.Adam(lr=0.002)
    assert opt.lr == opt.learning_rate == pytest.approx(0.002)
    assert float(K.get_value(opt.lr)) == pytest.approx(0.002)
    assert opt.lr * 10 == pytest.approx(0.02)


# ------------------------------------------------------------ Keras 1 argument names
@pytest.mark.parametrize("make,old,new", [
    (lambda: layers.Dense(output_dim=3), "output_dim", "units"),
    (lambda: layers.Dense(3, init="uniform"), "init", "kernel_initializer"),
    (lambda: layers.Dense(3, W_regularizer="l2"), "W_regularizer", "kernel_regularizer"),
    (lambda: layers.Conv2D(8, 3, border_mode="same"), "border_mode", "padding"),
    (lambda: layers.Conv2D(nb_filter=8, kernel_size=3), "nb_filter", "filters"),
    (lambda: layers.Conv2D(8, 3, subsample=(2, 2)), "subsample", "strides"),
    (lambda: layers.MaxPooling1D(pool_length=2), "pool_length", "pool_size"),
    (lambda: layers.LSTM(4, inner_init="orthogonal"), "inner_init", "recurrent_initializer"),
    (lambda: layers.LSTM(4, dropout_U=0.2), "dropout_U", "recurrent_dropout"),
    (lambda: layers.Dropout(p=0.5), "p", "rate"),
    (lambda: layers.Embedding(10, 3, init="uniform"), "init", "embeddings_initializer"),
], ids=["output_dim", "init", "W_regularizer", "border_mode", "nb_filter", "subsample",
        "pool_length", "inner_init", "dropout_U", "p", "embedding_init"])
def test_keras1_layer_arguments_name_the_keras2_one(make, old, new):
    with pytest.raises(TypeError, match=f"{old}= → {new}"):
        make()


def test_keras1_loop_arguments_name_the_keras2_one():
    model = models.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="nb_epoch= → epochs"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), nb_epoch=2, verbose=0)

    def gen():
        while True:
            yield np.ones((2, 2)), np.ones((2, 1))

    with pytest.raises(TypeError, match="samples_per_epoch= → steps_per_epoch"):
        model.fit_generator(gen(), samples_per_epoch=10, epochs=1, verbose=0)


def test_user_layer_may_still_take_output_dim():
    class MyLayer(layers.Layer):  # the Keras 2 custom-layer tutorial's signature
        def __init__(self, output_dim, **kwargs):
            super().__init__(**kwargs)
            self.output_dim = output_dim

    assert MyLayer(output_dim=4).output_dim == 4
