"""layerkit.backend (K) functions and the Lambda layer, against numpy and Keras 3."""

import keras
import numpy as np
import pytest
import torch

from layerkit import Input, Model, layers, models
from layerkit import backend as K

RNG = np.random.RandomState(0)
X = RNG.randn(3, 4, 5).astype("float32")
T = torch.from_numpy(X)


@pytest.mark.parametrize("name, ours, expected", [
    ("mean_axis1", lambda: K.mean(T, axis=1), X.mean(axis=1)),
    ("mean_all", lambda: K.mean(T), X.mean()),
    ("mean_keepdims", lambda: K.mean(T, axis=(1, 2), keepdims=True), X.mean((1, 2), keepdims=True)),
    ("sum", lambda: K.sum(T, axis=-1), X.sum(-1)),
    ("max", lambda: K.max(T, axis=0), X.max(0)),
    ("min", lambda: K.min(T, axis=[0, 2]), X.min((0, 2))),
    ("square", lambda: K.square(T), X ** 2),
    ("sqrt_clips_negatives", lambda: K.sqrt(T), np.sqrt(np.maximum(X, 0))),
    ("abs", lambda: K.abs(T), np.abs(X)),
    ("exp", lambda: K.exp(T), np.exp(X)),
    ("concatenate", lambda: K.concatenate([T, T], axis=1), np.concatenate([X, X], 1)),
    ("reshape", lambda: K.reshape(T, (3, 20)), X.reshape(3, 20)),
    ("expand_dims", lambda: K.expand_dims(T, 1), X[:, None]),
    ("squeeze", lambda: K.squeeze(K.expand_dims(T, 1), 1), X),
    ("transpose", lambda: K.transpose(T), X.transpose()),
    ("clip", lambda: K.clip(T, -0.5, 0.5), np.clip(X, -0.5, 0.5)),
    ("dot", lambda: K.dot(T, T[0].T), X @ X[0].T),
])
def test_tensor_functions(name, ours, expected):
    np.testing.assert_allclose(ours().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_l2_normalize_and_softmax_match_keras_ops():
    np.testing.assert_allclose(K.l2_normalize(T, axis=-1).numpy(),
                               keras.ops.convert_to_numpy(keras.ops.normalize(X, axis=-1)),
                               rtol=1e-5)
    np.testing.assert_allclose(K.softmax(T).numpy(),
                               keras.ops.convert_to_numpy(keras.ops.softmax(X)), rtol=1e-5)


def test_batch_dot_keras2_shapes():
    a, b = torch.randn(6, 5), torch.randn(6, 5)
    out = K.batch_dot(a, b, axes=1)
    assert out.shape == (6, 1)
    np.testing.assert_allclose(out[:, 0].numpy(), (a * b).sum(1).numpy(), rtol=1e-5)
    m, n = torch.randn(2, 3, 4), torch.randn(2, 4, 5)
    np.testing.assert_allclose(K.batch_dot(m, n).numpy(), torch.bmm(m, n).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="batch axis"):
        K.batch_dot(a, b, axes=0)


def test_settings_and_clear_session():
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    assert K.image_data_format() == "channels_last"
    K.clear_session()
    assert layers.Dense(1).name == "dense" and layers.Dense(1).name == "dense_1"
    assert K.int_shape(T) == (3, 4, 5)


def test_cbow_style_lambda_model():
    """Seed 002's CBOW shape: per-token vectors, Lambda(mean over tokens), Dense softmax
    (the real Embedding version is tested with the embedding layers)."""
    vocab, embed = 40, 6
    inp = Input(shape=(4,))
    tokens = layers.Dense(embed)(layers.Reshape((4, 1))(inp))  # (None, 4, embed)
    lam = layers.Lambda(lambda x: K.mean(x, axis=1), output_shape=(embed,))
    out = layers.Dense(vocab, activation="softmax")(lam(tokens))
    model = Model(inp, out)
    assert model.count_params() == (embed + embed) + (embed * vocab + vocab)
    x = RNG.rand(2, 4).astype("float32")
    w, b, w2, b2 = model.get_weights()
    logits = (x[:, :, None] @ w + b).mean(axis=1) @ w2 + b2
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5)


def test_lambda_output_shape_forms_and_arguments():
    x = Input(shape=(4, 3))
    inferred = layers.Lambda(lambda t: K.mean(t, axis=1))(x)
    given = layers.Lambda(lambda t: K.mean(t, axis=1), output_shape=(3,))(x)
    fn_shape = layers.Lambda(lambda t: t[:, :2], output_shape=lambda s: (s[0], 2, s[2]))(x)
    scaled = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0})(x)
    assert inferred.shape == given.shape == (None, 3)
    assert fn_shape.shape == (None, 2, 3) and scaled.shape == (None, 4, 3)
    model = models.Sequential([layers.Lambda(lambda t, k: t * k, arguments={"k": 2.0},
                                             input_shape=(2,))])
    np.testing.assert_allclose(model.predict(np.ones((1, 2))), [[2.0, 2.0]])
    with pytest.raises(TypeError, match="must be callable"):
        layers.Lambda(3)


def test_function_accepts_negative_stride_arrays():
    # The notes' Grad-CAM feeds preprocess_input's output: x[..., ::-1], a reversed view.
    inputs = Input(shape=(2, 2, 3))
    f = K.function([inputs], [inputs * 2.0])
    x = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    (out,) = f([x[..., ::-1]])
    np.testing.assert_array_equal(out, x[..., ::-1] * 2)
