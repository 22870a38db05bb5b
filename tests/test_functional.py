"""Functional API: graphs, multi-input/multi-output training, sub-models, summaries."""

import keras
import numpy as np
import pytest

from layerkit import Input, Model, layers, models


def _two_tower(lib):
    L = lib.layers
    a, b = lib.Input(shape=(4,)), lib.Input(shape=(3,))
    x = L.Dense(5, activation="relu")(a)
    y = L.Dense(5, activation="tanh")(b)
    out1 = L.Dense(1, activation="sigmoid", name="out1")(x)
    out2 = L.Dense(2, name="out2")(y)
    return lib.Model([a, b], [out1, out2])


def _data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    x = [rng.rand(n, 4).astype("float32"), rng.rand(n, 3).astype("float32")]
    y = [(rng.rand(n) > 0.5).astype("float32"), rng.rand(n, 2).astype("float32")]
    return x, y


def test_layer_order_and_weights_line_up_with_keras():
    ours, theirs = _two_tower(__import__("layerkit")), _two_tower(keras)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert [l.name for l in ours.layers][2:] == ["dense", "dense_1", "out1", "out2"]
    ours.set_weights(theirs.get_weights())
    x, _ = _data()
    for mine, ref in zip(ours.predict(x), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)


def test_multi_output_fit_matches_keras():
    ours, theirs = _two_tower(__import__("layerkit")), _two_tower(keras)
    ours.set_weights(theirs.get_weights())
    kw = dict(loss=["binary_crossentropy", "mse"], metrics=[["acc"], ["mae"]],
              loss_weights=[1.0, 0.5])
    ours.compile("rmsprop", **kw)
    theirs.compile("rmsprop", **kw)
    x, y = _data()
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    h_ours, h_theirs = ours.fit(x, y, **fit).history, theirs.fit(x, y, **fit).history
    assert list(h_ours) == ["loss", "out1_loss", "out2_loss", "out1_acc", "out2_mae"]
    for key in h_ours:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-4, err_msg=key)
    assert h_ours["loss"][0] == pytest.approx(
        h_ours["out1_loss"][0] + 0.5 * h_ours["out2_loss"][0], rel=1e-6)


def test_dict_inputs_and_outputs_by_name():
    model = _two_tower(__import__("layerkit"))
    model.compile("sgd", loss={"out1": "binary_crossentropy", "out2": "mse"})
    x, y = _data()
    by_name = model.evaluate({"input_1": x[0], "input_2": x[1]}, {"out1": y[0], "out2": y[1]},
                             verbose=0)
    assert by_name == pytest.approx(model.evaluate(x, y, verbose=0))


def test_activation_model_over_a_sequential():
    """Seed 003: Model(inputs=model.input, outputs=[layer.output for layer in ...])."""
    seq = models.Sequential([layers.Dense(6, activation="relu", input_shape=(4,)),
                             layers.Dense(3, activation="relu"), layers.Dense(1)])
    activation_model = Model(inputs=seq.input, outputs=[l.output for l in seq.layers[:2]])
    x = np.random.RandomState(1).rand(5, 4).astype("float32")
    first, second = activation_model.predict(x)
    w1, b1, w2, b2, _, _ = seq.get_weights()
    expected1 = np.maximum(x @ w1 + b1, 0)
    np.testing.assert_allclose(first, expected1, rtol=1e-5)
    np.testing.assert_allclose(second, np.maximum(expected1 @ w2 + b2, 0), rtol=1e-5)


def test_nested_models_and_shared_layers():
    inner = models.Sequential([layers.Dense(3, activation="relu", input_shape=(4,))])
    shared = layers.Dense(2)
    a, b = Input(shape=(4,)), Input(shape=(4,))
    merged_a, merged_b = shared(inner(a)), shared(inner(b))
    model = Model([a, b], [merged_a, merged_b])
    assert model.count_params() == (4 * 3 + 3) + (3 * 2 + 2)
    x = np.random.RandomState(2).rand(3, 4).astype("float32")
    out_a, out_b = model.predict([x, x])
    np.testing.assert_allclose(out_a, out_b)
    np.testing.assert_allclose(out_a, shared(inner(__import__("torch").from_numpy(x)))
                               .detach().numpy(), rtol=1e-6)
    outer = models.Sequential([model.layers[2], layers.Dense(1)])  # a model used as a layer
    assert outer.predict(x).shape == (3, 1)


def test_functional_summary_has_connected_to_column():
    lines = []
    _two_tower(__import__("layerkit")).summary(print_fn=lines.append)
    assert lines[0] == 'Model: "model"'
    assert lines[2] == ("Layer (type)                    Output Shape         Param #     "
                        "Connected to                     ")
    assert lines[4].rstrip() == "input_1 (InputLayer)            [(None, 4)]          0"
    assert lines[8].rstrip() == ("dense (Dense)                   (None, 5)            25"
                                 "          input_1[0][0]")
    assert len(lines[1]) == 98 and "Total params: 63" in lines


def test_chain_summary_uses_sequential_layout():
    x = Input(shape=(4,))
    lines = []
    Model(x, layers.Dense(2)(x)).summary(print_fn=lines.append)
    assert len(lines[1]) == 65 and "Connected to" not in lines[2]


def test_graph_errors_name_layers_and_inputs():
    a, b = Input(shape=(4,)), Input(shape=(3,))
    out = layers.Dense(1, name="head")(layers.Dense(2, name="body")(a))
    with pytest.raises(ValueError, match=r"Graph disconnected.*'body'.*add 'input_1'"):
        Model(b, out)
    with pytest.raises(TypeError, match="expects symbolic tensors"):
        Model(np.zeros((2, 4)), out)
    with pytest.raises(ValueError, match=r"Layer 'bad' \(Dense\) cannot be called on the output "
                                         r"of layer 'head'"):
        dense = layers.Dense(3, name="bad")
        dense(layers.Dense(5)(b))
        dense(out)
    x = Input(shape=(4,))
    with pytest.raises(ValueError, match="used by two different layers"):
        Model(x, layers.Dense(1, name="same")(layers.Dense(1, name="same")(x)))


def test_keras1_spelling_still_builds():
    x = Input(shape=(2,))
    with pytest.warns(DeprecationWarning, match="Keras 1 spelling"):
        model = Model(input=x, output=layers.Dense(1)(x))
    assert model.predict(np.ones((1, 2))).shape == (1, 1)


def test_wrong_number_of_inputs_is_a_clear_error():
    model = _two_tower(__import__("layerkit"))
    model.compile("sgd", ["binary_crossentropy", "mse"])
    x, y = _data()
    with pytest.raises(ValueError, match=r"2 inputs \['input_1', 'input_2'\].*list of 2"):
        model.fit(x[0], y, verbose=0)
