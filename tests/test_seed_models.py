"""The notes' models beyond the MLPs: word2vec CBOW and skip-gram, frozen convolutional
bases and fine-tuning from a named layer."""

import keras
import numpy as np
import pytest

from layerkit import Model, layers, models
from layerkit import backend as K


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def test_cbow_has_the_seed_parameter_count_before_any_data():
    vocab_size, embed_size, window_size = 2066, 100, 2
    cbow = models.Sequential()
    cbow.add(layers.Embedding(input_dim=vocab_size, output_dim=embed_size,
                              input_length=window_size * 2))
    cbow.add(layers.Lambda(lambda x: K.mean(x, axis=1), output_shape=(embed_size,)))
    cbow.add(layers.Dense(vocab_size, activation="softmax"))
    cbow.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    lines = _summary(cbow)
    assert "Total params: 415,266" in lines
    assert lines[4].rstrip() == "embedding (Embedding)        (None, 4, 100)            206600"
    x = np.random.RandomState(0).randint(1, vocab_size, size=(8, 4))
    y = np.eye(vocab_size, dtype="float32")[np.random.RandomState(1).randint(0, vocab_size, 8)]
    before = cbow.get_weights()[0].copy()
    loss = cbow.train_on_batch(x, y)
    assert np.isfinite(loss) and not np.array_equal(before, cbow.get_weights()[0])


def _skipgram(vocab_size=2066, embed_size=100):
    """Seed 002, verbatim apart from the imports."""
    word_model = models.Sequential()
    word_model.add(layers.Embedding(vocab_size, embed_size,
                                    embeddings_initializer="glorot_uniform", input_length=1))
    word_model.add(layers.Reshape((embed_size,)))
    context_model = models.Sequential()
    context_model.add(layers.Embedding(vocab_size, embed_size,
                                       embeddings_initializer="glorot_uniform", input_length=1))
    context_model.add(layers.Reshape((embed_size,)))
    model_arch = layers.Dot(axes=1)([word_model.output, context_model.output])
    model_arch = layers.Dense(1, kernel_initializer="glorot_uniform",
                              activation="sigmoid")(model_arch)
    model = Model([word_model.input, context_model.input], model_arch)
    model.compile(loss="mean_squared_error", optimizer="rmsprop")
    return model


def _keras_skipgram(vocab_size, embed_size):
    L = keras.layers
    word, context = keras.Input((1,)), keras.Input((1,))
    w = L.Reshape((embed_size,))(L.Embedding(vocab_size, embed_size)(word))
    c = L.Reshape((embed_size,))(L.Embedding(vocab_size, embed_size)(context))
    out = L.Dense(1, activation="sigmoid")(L.Dot(axes=1)([w, c]))
    model = keras.Model([word, context], out)
    model.compile(loss="mean_squared_error", optimizer="rmsprop")
    return model


def test_skipgram_counts_summary_and_numbers_match_keras():
    lines = _summary(_skipgram())
    assert "Total params: 413,202" in lines
    assert any(l.startswith("dot (Dot)") and "reshape[0][0]" in l for l in lines)
    assert any(l.strip() == "reshape_1[0][0]" for l in lines)  # second connection, own row
    theirs = _keras_skipgram(vocab_size=50, embed_size=8)
    small = _skipgram(vocab_size=50, embed_size=8)
    small.set_weights(theirs.get_weights())
    rng = np.random.RandomState(0)
    pairs = [rng.randint(1, 50, size=(16, 1)), rng.randint(1, 50, size=(16, 1))]
    labels = rng.randint(0, 2, size=16).astype("float32")
    np.testing.assert_allclose(small.predict(pairs), theirs.predict(pairs, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for _ in range(3):
        ours_loss = small.train_on_batch(pairs, labels)
        theirs_loss = theirs.train_on_batch(pairs, labels)
        assert ours_loss == pytest.approx(float(theirs_loss), rel=1e-4)


def _conv_base():
    return models.Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(12, 12, 3), name="block1_conv1"),
        layers.BatchNormalization(name="block1_bn"),
        layers.MaxPooling2D((2, 2), name="block1_pool"),
        layers.Conv2D(8, (3, 3), activation="relu", name="block2_conv1"),
        layers.Conv2D(8, (3, 3), activation="relu", name="block2_conv2"),
    ], name="conv_base")


def _data():
    rng = np.random.RandomState(0)
    return rng.rand(32, 12, 12, 3).astype("float32"), (rng.rand(32) > 0.5).astype("float32")


def test_frozen_base_keeps_weights_bit_identical_and_bn_in_inference_mode():
    conv_base = _conv_base()
    model = models.Sequential([conv_base, layers.Flatten(), layers.Dense(6, activation="relu"),
                               layers.Dense(1, activation="sigmoid")])
    trainable_before = len(model.trainable_weights)
    conv_base.trainable = False
    assert len(model.trainable_weights) == trainable_before - 8  # 3 convs x2 + BN gamma/beta
    model.compile("rmsprop", "binary_crossentropy", metrics=["acc"])
    lines = _summary(model)
    base_params = conv_base.count_params()
    assert f"Non-trainable params: {base_params:,}" in lines
    frozen = [w.copy() for w in conv_base.get_weights()]
    head = [w.copy() for w in model.layers[-1].get_weights()]
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for before, after in zip(frozen, conv_base.get_weights()):
        np.testing.assert_array_equal(before, after)  # includes BN moving statistics
    assert not np.array_equal(head[0], model.layers[-1].get_weights()[0])


def test_fine_tuning_from_a_named_layer():
    """Seed 003: unfreeze the base from 'block2_conv1' on, recompile, train."""
    conv_base = _conv_base()
    model = models.Sequential([conv_base, layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    conv_base.trainable = True
    set_trainable = False
    for layer in conv_base.layers:
        if layer.name == "block2_conv1":
            set_trainable = True
        layer.trainable = set_trainable
    model.compile("rmsprop", "binary_crossentropy")
    before = {l.name: [w.copy() for w in l.get_weights()] for l in conv_base.layers}
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    for layer in conv_base.layers:
        changed = any(not np.array_equal(a, b)
                      for a, b in zip(before[layer.name], layer.get_weights()))
        assert changed == (layer.name in ("block2_conv1", "block2_conv2")), layer.name


def test_freezing_after_compile_warns_and_waits_for_compile():
    model = models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.layers[0].trainable = False
    with pytest.warns(UserWarning, match="takes effect at the next compile"):
        model.fit(np.ones((4, 3)), np.ones(4), verbose=0)
