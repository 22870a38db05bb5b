"""Transfer learning as the notes do it: a frozen VGG16 base inside Sequential, fine-tuning
from block5_conv1, feature extraction over generator batches, and BatchNormalization in a
frozen base running in inference mode (Keras >= 2.1.3)."""

import numpy as np
import torch
from PIL import Image

from layerkit import applications, layers, models, optimizers
from layerkit.preprocessing.image import ImageDataGenerator

from test_applications import _one_thread  # noqa: F401  (one torch thread for this module)


def _notes_model(conv_base):
    model = models.Sequential()
    model.add(conv_base)
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model


def _summary_line(model, label):
    lines = []
    model.summary(print_fn=lines.append)
    return next(line for line in lines if line.startswith(label))


def test_frozen_vgg16_base_in_sequential_reports_the_notes_counts():
    conv_base = applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    model = _notes_model(conv_base)
    assert len(model.trainable_weights) == 30  # the notes: "before freezing the conv base"
    conv_base.trainable = False
    assert len(model.trainable_weights) == 4
    assert _summary_line(model, "Trainable params") == "Trainable params: 2,097,665"
    assert _summary_line(model, "Non-trainable params") == "Non-trainable params: 14,714,688"
    assert _summary_line(model, "vgg16 (Functional)").split()[-1] == "14714688"


def _fit_one_step(model, x, y):
    model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=1e-3),
                  metrics=["acc"])
    model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)


def test_fine_tuning_from_block5_conv1_updates_only_block5_and_the_top():
    conv_base = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = _notes_model(conv_base)
    conv_base.trainable = True
    set_trainable = False
    for layer in conv_base.layers:  # the notes' loop, unchanged
        if layer.name == "block5_conv1":
            set_trainable = True
        layer.trainable = set_trainable
    block5 = 3 * 2_359_808
    assert sum(p.numel() for p in model.trainable_weights) == block5 + 131_328 + 257
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in conv_base.layers}
    rng = np.random.RandomState(0)
    _fit_one_step(model, rng.rand(4, 32, 32, 3).astype("float32"),
                  rng.randint(0, 2, 4).astype("float32"))
    for layer in conv_base.layers:
        changed = any(not np.array_equal(a, b)
                      for a, b in zip(before[layer.name], layer.get_weights()))
        assert changed == layer.name.startswith("block5_conv"), layer.name


def test_batch_normalization_in_a_frozen_base_uses_its_moving_statistics():
    base = applications.MobileNetV2(alpha=0.35, weights=None, include_top=False,
                                    input_shape=(32, 32, 3), pooling="avg")
    bn = base.get_layer("bn_Conv1")
    with torch.no_grad():
        bn.moving_mean.normal_(0, 0.5)
        bn.moving_variance.uniform_(0.5, 2.0)
    x = np.random.RandomState(0).rand(4, 32, 32, 3).astype("float32")
    tensor = torch.from_numpy(x)
    with torch.no_grad():
        assert not torch.allclose(base(tensor, training=True), base(tensor, training=False))
        base.trainable = False  # Keras >= 2.1.3: a frozen BatchNormalization runs inference
        assert torch.equal(base(tensor, training=True), base(tensor, training=False))
    model = models.Sequential([base, layers.Dense(1, activation="sigmoid")])
    before = [w.copy() for w in bn.get_weights()]
    _fit_one_step(model, x, np.array([0, 1, 0, 1], "float32"))
    assert all(np.array_equal(a, b) for a, b in zip(before, bn.get_weights()))


def _image_folders(root, per_class=3):
    rng = np.random.RandomState(0)
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.randint(0, 256, (40, 40, 3)).astype("uint8")
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def test_feature_extraction_with_predict_over_generator_batches(tmp_path):
    """The notes' extract_features: conv_base.predict on each batch of a directory flow."""
    conv_base = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    directory = _image_folders(tmp_path / "train")
    batch_size, sample_count = 2, 6
    features = np.zeros(shape=(sample_count, 1, 1, 512))
    labels = np.zeros(shape=(sample_count,))
    generator = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        directory, target_size=(32, 32), batch_size=batch_size, class_mode="binary",
        shuffle=False)
    i = 0
    for inputs_batch, labels_batch in generator:
        features_batch = conv_base.predict(inputs_batch)
        features[i * batch_size: (i + 1) * batch_size] = features_batch
        labels[i * batch_size: (i + 1) * batch_size] = labels_batch
        i += 1
        if i * batch_size >= sample_count:
            break
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    streamed = conv_base.predict(generator, steps=sample_count // batch_size, verbose=0)
    np.testing.assert_allclose(streamed, features, rtol=1e-5, atol=1e-6)
    assert np.abs(features).sum() > 0
