"""Chapter 8 of Deep Learning with Python (Keras 2) on layerkit: the backend ops its
listings use, the VAE's `add_loss`, the GAN's compile-time freezing, text generation.

Ops are checked against Keras 3 (`keras.ops`, `keras.random` with the same int seeds) where
it has them and against hand-computed values where only Keras 2 had them.
"""

import keras
import numpy as np
import pytest
import torch

from layerkit import Input, Model, layers, losses, models, optimizers
from layerkit import backend as K

RNG = np.random.RandomState(0)
X = RNG.rand(2, 3, 4).astype("float32") + 0.1
T = torch.from_numpy(X)


# ---------------------------------------------------------------- K ops
@pytest.mark.parametrize("name, ours, oracle", [
    ("constant", lambda: K.constant(X), lambda: keras.ops.convert_to_tensor(X)),
    ("constant_fill", lambda: K.constant(2.5, shape=(2, 3)), lambda: keras.ops.full((2, 3), 2.5)),
    ("zeros", lambda: K.zeros((2, 3)), lambda: keras.ops.zeros((2, 3))),
    ("ones", lambda: K.ones((3,)), lambda: keras.ops.ones((3,))),
    ("shape", lambda: K.shape(T), lambda: keras.ops.convert_to_tensor(keras.ops.shape(X))),
    ("cast", lambda: K.cast(T * 10, "int32"), lambda: keras.ops.cast(X * 10, "int32")),
    ("concatenate", lambda: K.concatenate([T, T], axis=-1),
     lambda: keras.ops.concatenate([X, X], axis=-1)),
    ("stack", lambda: K.stack([T, T], axis=1), lambda: keras.ops.stack([X, X], axis=1)),
    ("permute_dimensions", lambda: K.permute_dimensions(T, (2, 0, 1)),
     lambda: keras.ops.transpose(X, (2, 0, 1))),
    ("exp", lambda: K.exp(T), lambda: keras.ops.exp(X)),
    ("log", lambda: K.log(T), lambda: keras.ops.log(X)),
    ("square", lambda: K.square(T - 0.5), lambda: keras.ops.square(X - 0.5)),
    ("abs", lambda: K.abs(T - 0.5), lambda: keras.ops.abs(X - 0.5)),
    ("sum_axis_keepdims", lambda: K.sum(T, axis=1, keepdims=True),
     lambda: keras.ops.sum(X, axis=1, keepdims=True)),
    ("sum_axes", lambda: K.sum(T, axis=[0, 2]), lambda: keras.ops.sum(X, axis=(0, 2))),
    ("mean_axis", lambda: K.mean(T, axis=-1), lambda: keras.ops.mean(X, axis=-1)),
    ("mean_keepdims", lambda: K.mean(T, axis=(1, 2), keepdims=True),
     lambda: keras.ops.mean(X, axis=(1, 2), keepdims=True)),
    ("mean_all", lambda: K.mean(T), lambda: keras.ops.mean(X)),
    ("dot_gram", lambda: K.dot(T[0], K.transpose(T[0])), lambda: keras.ops.dot(X[0], X[0].T)),
    ("dot_vector", lambda: K.dot(T, torch.ones(4)), lambda: keras.ops.dot(X, np.ones(4, "f"))),
    ("random_normal_seeded", lambda: K.random_normal((3, 4), mean=1.0, stddev=2.0, seed=7),
     lambda: keras.random.normal((3, 4), mean=1.0, stddev=2.0, seed=7)),
    ("random_uniform_seeded", lambda: K.random_uniform((5,), minval=-1, maxval=3, seed=7),
     lambda: keras.random.uniform((5,), minval=-1, maxval=3, seed=7)),
    ("truncated_normal_seeded", lambda: K.truncated_normal((50,), stddev=0.5, seed=3),
     lambda: keras.random.truncated_normal((50,), stddev=0.5, seed=3)),
])
def test_ops_match_keras3(name, ours, oracle):
    expected = keras.ops.convert_to_numpy(oracle())
    got = ours().numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_ops_keras3_lacks_against_hand_values():
    np.testing.assert_array_equal(K.batch_flatten(T).numpy(), X.reshape(2, 12))
    # Keras 2's N-D K.dot is numpy.dot ((2,3,4)·(5,4,2) -> (2,3,5,2)); Keras 3's torch
    # backend broadcasts a matmul instead, so numpy is the oracle here
    w = RNG.rand(5, 4, 2).astype("float32")
    np.testing.assert_allclose(K.dot(T, w).numpy(), np.dot(X, w), rtol=1e-5)
    assert K.int_shape(T) == (2, 3, 4) and K.ndim(T) == 3 and K.dtype(T) == "float32"
    inp = Input((3, 4))
    assert K.int_shape(inp) == (None, 3, 4) and K.ndim(inp) == 3 and K.dtype(inp) == "float32"
    v = K.variable(np.eye(2))
    assert K.dtype(v) == "float32" and K.int_shape(v) == (2, 2)
    K.set_value(v, np.ones((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 2)))
    # Keras 2's random_binomial: 1 where uniform(seed) <= p
    uniform = keras.ops.convert_to_numpy(keras.random.uniform((1000,), seed=5))
    np.testing.assert_array_equal(K.random_binomial((1000,), p=0.3, seed=5).numpy(),
                                  (uniform <= 0.3).astype("float32"))
    assert K.learning_phase().dtype == "int32"
    K.set_learning_phase(1)
    try:
        assert K.in_train_phase(1, 0) == 1
    finally:
        K.set_learning_phase(0)
    assert K.in_train_phase(1, 0) == 0


def test_random_draws_follow_their_distributions():
    n = 200_000
    normal = K.random_normal((n,), mean=2.0, stddev=3.0).numpy()
    assert abs(normal.mean() - 2.0) < 0.05 and abs(normal.std() - 3.0) < 0.05
    truncated = K.truncated_normal((n,), mean=1.0, stddev=2.0).numpy()
    assert truncated.min() > 1.0 - 4.0 and truncated.max() < 1.0 + 4.0
    assert abs(truncated.std() - 2.0 * 0.8796) < 0.03  # std of N(0,1) cut at ±2
    uniform = K.random_uniform((n,), minval=-2, maxval=2).numpy()
    assert uniform.min() >= -2 and uniform.max() < 2 and abs(uniform.mean()) < 0.02
    assert abs(K.random_binomial((n,), p=0.25).numpy().mean() - 0.25) < 0.01
    assert not np.array_equal(K.random_normal((4,)).numpy(), K.random_normal((4,)).numpy())


@pytest.mark.parametrize("make_shape, expected", [
    (lambda z: (K.shape(z)[0], 2), (None, 2)),
    (lambda z: K.shape(z), (None, 3)),
    (lambda z: (K.shape(z)[1], 5), (3, 5)),
    (lambda z: (4, 2), (4, 2)),
], ids=["batch_and_int", "whole_shape", "known_size", "ints"])
def test_random_shapes_from_symbolic_k_shape(make_shape, expected):
    z = Input((3,))
    for fn in (K.random_normal, K.random_uniform, K.truncated_normal, K.random_binomial):
        out = fn(make_shape(z))
        if expected[0] is None:
            assert out.shape == expected, fn.__name__
            value = Model(z, out).predict(np.zeros((6, 3)))
            assert value.shape == (6,) + expected[1:]
        else:
            assert tuple(out.shape) == expected


def test_random_shapes_inside_lambda_and_custom_layers():
    class Noise(layers.Layer):
        def call(self, inputs):
            return inputs + K.random_normal(shape=(K.shape(inputs)[0], K.int_shape(inputs)[1]),
                                            stddev=0.0)

    z = Input((3,))
    lam = layers.Lambda(lambda a: a * K.random_uniform(shape=K.shape(a), minval=1, maxval=1))(z)
    out = Noise()(lam)
    assert out.shape == (None, 3)
    x = RNG.rand(5, 3).astype("float32")
    np.testing.assert_allclose(Model(z, out).predict(x), x, rtol=1e-6)


# ---------------------------------------------------------------- the VAE
LATENT = 2


def book_vae(img_shape=(8, 8, 1), seed=None):
    """Listings 8.23-8.27 (only the sizes shrunk), with an optional fixed sampling seed."""
    input_img = Input(shape=img_shape)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(input_img)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", strides=(2, 2))(x)
    shape_before_flattening = K.int_shape(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(LATENT)(x)
    z_log_var = layers.Dense(LATENT)(x)

    def sampling(args):
        z_mean, z_log_var = args
        epsilon = K.random_normal(shape=(K.shape(z_mean)[0], LATENT), mean=0., stddev=1.,
                                  seed=seed)
        return z_mean + K.exp(z_log_var) * epsilon

    z = layers.Lambda(sampling)([z_mean, z_log_var])
    decoder_input = layers.Input(K.int_shape(z)[1:])
    x = layers.Dense(np.prod(shape_before_flattening[1:]), activation="relu")(decoder_input)
    x = layers.Reshape(shape_before_flattening[1:])(x)
    x = layers.Conv2DTranspose(8, 3, padding="same", activation="relu", strides=(2, 2))(x)
    x = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    decoder = Model(decoder_input, x)
    z_decoded = decoder(z)

    class CustomVariationalLayer(layers.Layer):
        def vae_loss(self, x, z_decoded):
            x = K.flatten(x)
            z_decoded = K.flatten(z_decoded)
            xent_loss = losses.binary_crossentropy(x, z_decoded)
            kl_loss = -5e-4 * K.mean(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var),
                                     axis=-1)
            return K.mean(xent_loss + kl_loss)

        def call(self, inputs):
            x = inputs[0]
            z_decoded = inputs[1]
            loss = self.vae_loss(x, z_decoded)
            self.add_loss(loss, inputs=inputs)
            return x

    y = CustomVariationalLayer()([input_img, z_decoded])
    vae = Model(input_img, y)
    parts = Model(input_img, [z_mean, z_log_var, z_decoded])
    return vae, decoder, parts


def hand_vae_loss(x, z_mean, z_log_var, decoded):
    eps = 1e-7
    p = np.clip(decoded.reshape(-1).astype("float64"), eps, 1 - eps)
    t = x.reshape(-1)
    xent = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
    kl = -5e-4 * np.mean(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var), axis=-1)
    return np.mean(xent + kl)


def test_vae_add_loss_total_equals_hand_computation():
    vae, _, parts = book_vae(seed=11)  # a fixed seed draws the same epsilon every call
    vae.compile(optimizer="rmsprop", loss=None)
    x = RNG.rand(4, 8, 8, 1).astype("float32")
    z_mean, z_log_var, decoded = parts.predict(x)
    expected = hand_vae_loss(x, z_mean, z_log_var, decoded)
    out = vae(torch.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), x)  # the layer returns its input
    assert len(vae.losses) == 1
    np.testing.assert_allclose(vae.losses[0].item(), expected, rtol=1e-5)
    np.testing.assert_allclose(vae.test_on_batch(x, None), expected, rtol=1e-5)
    np.testing.assert_allclose(vae.train_on_batch(x, None), expected, rtol=1e-5)
    assert vae.evaluate(x, None, batch_size=4, verbose=0) < expected  # it trained


def test_vae_fits_without_targets_and_decodes():
    vae, decoder, _ = book_vae()
    vae.compile(optimizer="rmsprop", loss=None)
    x = RNG.rand(32, 8, 8, 1).astype("float32")
    history = vae.fit(x=x, y=None, shuffle=True, epochs=2, batch_size=16,
                      validation_data=(x, None), verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert np.isfinite(history.history["loss"]).all()
    grid = decoder.predict(np.tile([[0.5, -0.5]], (16, 1)), batch_size=16)
    assert grid.shape == (16, 8, 8, 1) and 0 <= grid.min() and grid.max() <= 1


def test_losses_are_those_of_the_latest_call():
    class Penalty(layers.Layer):
        def call(self, inputs):
            self.add_loss(K.sum(inputs))
            return inputs

    inp = Input((2,))
    shared = Penalty()
    model = Model(inp, shared(shared(inp)))  # called twice per forward pass
    model(torch.ones(3, 2))
    model(torch.ones(3, 2))
    assert [float(l) for l in model.losses] == [6.0, 6.0]
    assert [float(l) for l in shared.losses] == [6.0, 6.0]
    model.predict(np.zeros((3, 2)))
    assert [float(l) for l in model.losses] == [0.0, 0.0]


def test_model_add_loss_symbolic_and_callable():
    inp = Input((3,))
    dense = layers.Dense(2, kernel_initializer="ones", name="d")
    out = dense(inp)
    model = Model(inp, out)
    model.add_loss(K.mean(K.square(out)))            # tf.keras functional-model loss
    model.add_loss(lambda: 0.5 * K.sum(dense.kernel))  # a weight penalty, read each step
    model.compile("sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    # mse = 9, added = mean(9) + 0.5 * 6
    np.testing.assert_allclose(model.test_on_batch(x, y), 9 + 9 + 3, rtol=1e-6)
    assert sorted(l.item() for l in model.losses) == [3.0, 9.0]


def test_compile_without_loss_needs_added_losses_and_no_metrics():
    inp = Input((2,))
    model = Model(inp, layers.Dense(1)(inp))
    model.compile("rmsprop", loss=None)
    with pytest.raises(ValueError, match="compiled with loss=None and adds no loss"):
        model.train_on_batch(np.ones((2, 2)), None)
    model.compile("rmsprop", loss=None, metrics=["mae"])
    model.add_loss(lambda: K.sum(model.layers[-1].kernel))
    with pytest.raises(ValueError, match="metrics compare outputs with targets"):
        model.train_on_batch(np.ones((2, 2)), None)


# ---------------------------------------------------------------- the GAN
def book_gan(latent_dim=4, size=8, channels=3):
    """Listings 8.29-8.31 with small sizes: Conv2DTranspose, LeakyReLU, Dropout, RMSprop with
    clipvalue and decay, `discriminator.trainable = False` between the two compiles."""
    generator_input = Input(shape=(latent_dim,))
    x = layers.Dense(8 * (size // 2) ** 2)(generator_input)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((size // 2, size // 2, 8))(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(channels, 3, activation="tanh", padding="same")(x)
    generator = models.Model(generator_input, x)

    discriminator_input = layers.Input(shape=(size, size, channels))
    x = layers.Conv2D(8, 3)(discriminator_input)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(8, 4, strides=2)(x)
    x = layers.LeakyReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(1, activation="sigmoid")(x)
    discriminator = models.Model(discriminator_input, x)
    discriminator.compile(optimizer=optimizers.RMSprop(lr=0.0008, clipvalue=1.0, decay=1e-8),
                          loss="binary_crossentropy")
    discriminator.trainable = False
    gan_input = Input(shape=(latent_dim,))
    gan = models.Model(gan_input, discriminator(generator(gan_input)))
    gan.compile(optimizer=optimizers.RMSprop(lr=0.0004, clipvalue=1.0, decay=1e-8),
                loss="binary_crossentropy")
    return generator, discriminator, gan


def _changed(before, after):
    return [not np.array_equal(a, b) for a, b in zip(before, after)]


def test_gan_freezes_the_discriminator_only_inside_the_combined_model():
    generator, discriminator, gan = book_gan()
    assert len(gan.trainable_weights) == len(generator.trainable_weights)
    batch = 4
    for _ in range(2):
        latent = np.random.normal(size=(batch, 4))
        fakes = generator.predict(latent)
        real = np.random.rand(batch, 8, 8, 3)
        images = np.concatenate([fakes, real])
        labels = np.concatenate([np.ones((batch, 1)), np.zeros((batch, 1))])
        labels += 0.05 * np.random.random(labels.shape)  # noisy labels, some above 1
        d_before = discriminator.get_weights()
        d_loss = discriminator.train_on_batch(images, labels)
        d_mid = discriminator.get_weights()
        g_before = generator.get_weights()
        a_loss = gan.train_on_batch(np.random.normal(size=(batch, 4)), np.zeros((batch, 1)))
        assert all(_changed(d_before, d_mid))              # its own compile trains it
        assert not any(_changed(d_mid, discriminator.get_weights()))  # frozen in the gan
        assert all(_changed(g_before, generator.get_weights()))
        assert np.isfinite([d_loss, a_loss]).all()
    assert all(not p.requires_grad for p in discriminator.parameters())  # as it was set


def test_noisy_binary_labels_accepted_integer_class_labels_refused():
    inp = Input((2,))
    model = Model(inp, layers.Dense(1, activation="sigmoid")(inp))
    model.compile("rmsprop", "binary_crossentropy")
    x = np.ones((4, 2), "float32")
    labels = np.array([[1.04], [0.02], [1.0], [0.0]])
    p = model.predict(x, verbose=0)
    expected = np.mean(-(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
    np.testing.assert_allclose(model.test_on_batch(x, labels), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"expects targets in \[0, 1\]"):
        model.train_on_batch(x, np.array([[0], [3], [1], [2]]))


# ---------------------------------------------------------------- text generation
def sample(preds, temperature=1.0):
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def test_character_lstm_listing_generates_text():
    text = "the cat sat on the mat. the dog sat on the log. " * 6
    maxlen, step = 10, 3
    sentences = [text[i: i + maxlen] for i in range(0, len(text) - maxlen, step)]
    next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
    chars = sorted(set(text))
    char_indices = {c: i for i, c in enumerate(chars)}
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    model = models.Sequential()
    model.add(layers.LSTM(16, input_shape=(maxlen, len(chars))))
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=optimizers.RMSprop(lr=0.01))
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    generated = text[:maxlen]
    for _ in range(30):
        sampled = np.zeros((1, maxlen, len(chars)))
        for t, char in enumerate(generated[-maxlen:]):
            sampled[0, t, char_indices[char]] = 1.
        preds = model.predict(sampled, verbose=0)[0]
        np.testing.assert_allclose(preds, model(torch.tensor(sampled, dtype=torch.float32))
                                   .detach().numpy()[0], rtol=1e-6)
        generated += chars[sample(preds, 0.5)]
    assert len(generated) == maxlen + 30 and set(generated) <= set(chars)


def test_a_model_compiled_without_loss_saves_and_loads(tmp_path):
    inp = Input((3,))
    model = Model(inp, layers.Dense(2)(inp))
    model.compile("rmsprop", loss=None)
    for name in ("m.keras", "m.h5"):
        model.save(tmp_path / name)
        loaded = models.load_model(tmp_path / name)
        assert loaded.compiled is not None and not loaded.compiled.needs_targets
