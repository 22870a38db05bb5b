"""Sequential: summary text, structure editing, building, freezing and PyTorch interop."""

import re

import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.utils.naming import reset_names


def _summary(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def _fashion_mlp():
    return models.Sequential([
        layers.Flatten(input_shape=[28, 28]),
        layers.Dense(300, activation="relu"),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


RULE, DOUBLE = "_" * 65, "=" * 65


def test_summary_fashion_mnist_mlp_exact_text():
    assert _summary(_fashion_mlp()) == [
        'Model: "sequential"',
        RULE,
        "Layer (type)                 Output Shape              Param #   ",
        DOUBLE,
        "flatten (Flatten)            (None, 784)               0         ",
        RULE,
        "dense (Dense)                (None, 300)               235500    ",
        RULE,
        "dense_1 (Dense)              (None, 100)               30100     ",
        RULE,
        "dense_2 (Dense)              (None, 10)                1010      ",
        DOUBLE,
        "Total params: 266,610",
        "Trainable params: 266,610",
        "Non-trainable params: 0",
        RULE,
    ]


def test_summary_goes_to_stdout_by_default(capsys):
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.summary()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == 'Model: "sequential"'
    assert "dense (Dense)                (None, 1)                 4         " in out


def test_summary_imdb_models():
    two = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10000,)),
                             layers.Dense(1, activation="sigmoid")])
    lines = _summary(two)
    assert lines[4] == "dense (Dense)                (None, 16)                160016    "
    assert lines[6] == "dense_1 (Dense)              (None, 1)                 17        "
    assert lines[-4:-1] == ["Total params: 160,033", "Trainable params: 160,033",
                            "Non-trainable params: 0"]
    three = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10000,)),
                               layers.Dense(16, activation="relu"),
                               layers.Dense(1, activation="sigmoid")], name="imdb")
    lines = _summary(three)
    assert lines[0] == 'Model: "imdb"'
    assert "Total params: 160,305" in lines
    assert all(len(line) == 65 for line in lines[1:10])


def test_summary_line_length_and_positions():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    lines = _summary(model, line_length=50, positions=[0.4, 0.8, 1.0])
    assert lines[1] == "_" * 50
    assert lines[2] == "Layer (type)        Output Shape        Param #   "
    assert lines[4] == "dense (Dense)       (None, 2)           8         "
    lines = _summary(model, line_length=50, positions=[20, 40, 50])
    assert lines[4] == "dense (Dense)       (None, 2)           8         "


def test_summary_overflowing_field_keeps_one_space_like_tf_keras():
    model = models.Sequential([layers.ActivityRegularization(l1=0.1, input_shape=(4,))])
    lines = _summary(model)
    assert lines[4] == ("activity_regularization (Act " + "(None, 4)".ljust(26) +
                        "0".ljust(10))
    lines = _summary(model, line_length=40, positions=[0.5, 0.8, 1.0])
    assert lines[2] == "Layer (type)        Output Shap Param # "


def test_summary_of_unbuilt_model_raises():
    model = models.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not model.built
    with pytest.raises(ValueError, match=re.escape(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "calling `fit()` with some data, or specify an `input_shape` argument")):
        model.summary(print_fn=lambda line: None)


def test_summary_counts_frozen_layer_as_non_trainable():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    model.layers[0].trainable = False
    lines = _summary(model)
    assert lines[-4:-1] == ["Total params: 26", "Trainable params: 10",
                            "Non-trainable params: 16"]
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert _summary(model)[-4:-1] == ["Total params: 26", "Trainable params: 0",
                                      "Non-trainable params: 26"]


def test_frozen_layer_weights_unchanged_by_fit():
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(1)])
    model.layers[0].trainable = False
    model.compile(optimizer="sgd", loss="mse")
    frozen = model.layers[0].get_weights()
    head = model.layers[1].get_weights()
    x = np.random.RandomState(0).rand(16, 3).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for before, after in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert all(np.abs(b - a).max() > 0 for b, a in zip(head, model.layers[1].get_weights()))


# ------------------------------------------------------------------------ structure
def test_predict_without_compile():
    model = models.Sequential([layers.Dense(1, input_shape=(2,), kernel_initializer="ones")])
    np.testing.assert_allclose(model.predict(np.ones((3, 2), "float32")), np.full((3, 1), 2.0))
    np.testing.assert_allclose(model.predict_on_batch(np.ones((1, 2), "float32")), [[2.0]])


def test_add_pop_and_rebuild():
    model = models.Sequential(name="stack")
    model.add(layers.Input(shape=(5,)))
    model.add(layers.Dense(4))
    model.add(layers.Dense(3))
    assert model.built and [l.name for l in model.layers] == ["dense", "dense_1"]
    model.compile(loss="mse")
    assert model.predict(np.zeros((2, 5), "float32")).shape == (2, 3)
    popped = model.pop()
    assert popped.name == "dense_1"
    assert [l.name for l in model.layers] == ["dense"]
    assert model.predict(np.zeros((2, 5), "float32")).shape == (2, 4)
    model.add(layers.Dense(7))
    assert model.predict(np.zeros((2, 5), "float32")).shape == (2, 7)
    assert _summary(model)[6] == "dense_2 (Dense)              (None, 7)                 35        "
    assert model.count_params() == 5 * 4 + 4 + 4 * 7 + 7


def test_add_and_pop_errors():
    model = models.Sequential()
    with pytest.raises(TypeError, match=r"Sequential '.*' has no layers to pop"):
        model.pop()
    with pytest.raises(TypeError, match=r"the added layer must be an instance of layerkit Layer, "
                                        r"received .* of type Linear"):
        model.add(torch.nn.Linear(2, 2))
    model.add(layers.Dense(2, name="a", input_shape=(3,)))
    with pytest.raises(ValueError, match=r"an Input can only be the first element, but the "
                                         r"model already has layers \['a'\]"):
        model.add(layers.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"should have unique names\. Name 'a' is already the "
                                         r"name of a layer in model 'sequential'"):
        model.add(layers.Dense(2, name="a"))
    with pytest.raises(ValueError, match="unique names"):
        models.Sequential([layers.Dense(1, name="x"), layers.Dense(1, name="x")])


def test_get_layer_by_name_and_index():
    model = _fashion_mlp()
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.get_layer(name="flatten") is model.layers[0]
    assert model.get_layer(index=1).name == "dense"
    assert model.get_layer(index=-1).name == "dense_2"
    with pytest.raises(ValueError, match=re.escape(
            "No such layer: 'dense_9'. Existing layers are: "
            "['flatten', 'dense', 'dense_1', 'dense_2']")):
        model.get_layer("dense_9")
    with pytest.raises(ValueError, match=r"get_layer\(index=4\): model 'sequential' has 4 layers"):
        model.get_layer(index=4)
    with pytest.raises(ValueError, match="provide exactly one of name= or index="):
        model.get_layer()
    with pytest.raises(ValueError, match="provide exactly one of name= or index="):
        model.get_layer(name="dense", index=1)


def test_lazily_built_from_first_data():
    model = models.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)])
    assert not model.built
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 6), "float32")
    model.fit(x, np.ones((4, 1), "float32"), verbose=0)
    assert model.built
    assert model.count_params() == 6 * 3 + 3 + 3 + 1
    lines = _summary(model)
    assert lines[4] == "dense (Dense)                (None, 3)                 21        "
    assert lines[6] == "dense_1 (Dense)              (None, 1)                 4         "


def test_calling_unbuilt_model_builds_it():
    model = models.Sequential([layers.Dense(3), layers.Dense(2)])
    out = model(torch.ones(5, 4))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (5, 2)
    assert model.built and model.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_build_with_input_shape():
    model = models.Sequential([layers.Dense(4), layers.Dense(2)])
    model.build((None, 7))
    assert model.built
    assert model.count_params() == 42
    assert [w.shape for w in model.get_weights()] == [(7, 4), (4,), (4, 2), (2,)]
    assert model.compute_output_shape((None, 7)) == (None, 2)
    assert _summary(model)[-4] == "Total params: 42"
    with pytest.raises(ValueError, match=r"cannot be built without an input shape: give the "
                                         r"first layer input_shape=\.\.\., or call build"):
        models.Sequential([layers.Dense(1)]).build()


def test_model_names_count_like_tf_keras():
    assert [models.Sequential().name for _ in range(3)] == \
        ["sequential", "sequential_1", "sequential_2"]


# ------------------------------------------------------------------------ weights
def test_get_and_set_weights_errors():
    model = models.Sequential([layers.Dense(3, input_shape=(5,)), layers.Dense(1)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(5, 3), (3,), (3, 1), (1,)]
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'sequential' (Sequential): set_weights expected a list of 4 arrays with "
            "shapes [(5, 3), (3,), (3, 1), (1,)], received 3 arrays")):
        model.set_weights(weights[:3])
    bad = [weights[0].T] + weights[1:]
    with pytest.raises(ValueError, match=re.escape(
            "weight 0 ('_layers.dense.kernel') expected shape (5, 3), received (3, 5)")):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.get_weights()[0], weights[0])  # untouched
    new = [np.full(w.shape, i, "float32") for i, w in enumerate(weights)]
    model.set_weights(new)
    model.compile(loss="mse")
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    # (5 * 0 + 1) -> [1, 1, 1] -> 3 * 2 + 3 = 9
    np.testing.assert_allclose(model.predict(np.ones((1, 5), "float32")), [[9.0]])


# ------------------------------------------------------------------------ PyTorch interop
def test_state_dict_keys_and_load_into_twin():
    def make():
        reset_names()
        return models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dropout(0.5),
                                  layers.Dense(2)])

    model = make()
    assert list(model.state_dict()) == ["_layers.dense.kernel", "_layers.dense.bias",
                                        "_layers.dense_1.kernel", "_layers.dense_1.bias"]
    twin = make()
    twin.load_state_dict(model.state_dict())
    x = torch.randn(5, 3)
    assert torch.equal(model(x), twin(x))
    assert model.to("cpu") is model
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert [tuple(p.shape) for p in model.parameters()] == [(3, 4), (4,), (4, 2), (2,)]


def test_plain_pytorch_training_loop():
    torch.manual_seed(0)
    model = models.Sequential([layers.Dense(8, activation="tanh", input_shape=(3,)),
                               layers.Dense(1)])
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        out = model(x)
        assert isinstance(out, torch.Tensor) and out.requires_grad
        loss = torch.nn.functional.mse_loss(out, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    # the numpy view of the weights follows the torch updates
    np.testing.assert_array_equal(model.get_weights()[0], model.layers[0].kernel.detach().numpy())


def test_train_mode_enables_dropout():
    model = models.Sequential([layers.Dropout(0.5, input_shape=(1000,))])
    x = torch.ones(2, 1000)
    assert not model.training
    assert torch.equal(model(x), x)  # inference by default, like Keras
    model.train()
    out = model(x)
    assert set(torch.unique(out).tolist()) == {0.0, 2.0}
    assert 0.4 < (out == 0).float().mean().item() < 0.6
    model.eval()
    assert torch.equal(model(x), x)
    assert torch.equal(model(x, training=False), x)
    assert not torch.equal(model(x, training=True), x)
    # predict never drops, whatever the mode
    model.compile(loss="mse")
    model.train()
    np.testing.assert_array_equal(model.predict(x.numpy()), x.numpy())
