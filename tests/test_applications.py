"""layerkit.applications against the Keras 3 oracle: architecture, names, parameter counts,
and predictions on weight files written in Keras's legacy HDF5 layout.

The oracle builds each application with random weights (BatchNormalization statistics
randomised too) and writes its weights the way the three generations of Keras wrote them:
Keras 1 / 2.0 names (`block1_conv1_W_1:0`, the names in the real ImageNet files), tf.keras
2.x names (`block1_conv1/kernel:0`) and Keras 3's legacy writer (`block1_conv1/kernel`).
layerkit loads the file through `weights=<path>` or, placed under Keras's file name in a
temporary KERAS_HOME, through the real `weights='imagenet'` path.
"""

import os
import warnings

import h5py
import keras
import numpy as np
import pytest
import torch

from layerkit import applications
from layerkit.utils.naming import reset_names

# name: (Keras builder, layerkit builder, small input shape, layers in the top, file styles)
APPS = {
    "vgg16": (keras.applications.VGG16, applications.VGG16, (32, 32, 3), 4, ("old",)),
    "vgg19": (keras.applications.VGG19, applications.VGG19, (32, 32, 3), 4, ("tf2",)),
    "resnet50": (keras.applications.ResNet50, applications.ResNet50, (32, 32, 3), 2,
                 ("keras3",)),
    "inception_v3": (keras.applications.InceptionV3, applications.InceptionV3, (75, 75, 3), 2,
                     ("old",)),
    "xception": (keras.applications.Xception, applications.Xception, (71, 71, 3), 2, ("tf2",)),
    "densenet121": (keras.applications.DenseNet121, applications.DenseNet121, (32, 32, 3), 2,
                    ("keras3",)),
    "mobilenet": (keras.applications.MobileNet, applications.MobileNet, (32, 32, 3), 5,
                  ("tf2",)),
    "mobilenet_v2": (keras.applications.MobileNetV2, applications.MobileNetV2, (32, 32, 3), 2,
                     ("old",)),
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on this shared 2-core machine, small convnets ran 10-20x slower
    with two OpenMP threads while other processes held the cores (barrier waits)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


OLD_SUFFIXES = {0: (), 1: ("W",), 2: ("W", "b"),  # Keras 1 / 2.0 names, by weight count
                3: ("beta", "running_mean", "running_std"),
                4: ("gamma", "beta", "running_mean", "running_std")}


def keras_model(builder, **kwargs):
    """The oracle's application with random weights, BatchNorm statistics randomised."""
    model = builder(weights=None, **kwargs)
    rng = np.random.RandomState(1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            if layer.gamma is not None:
                layer.gamma.assign(rng.uniform(0.8, 1.2, n).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.1, n).astype("float32"))
    return model


def write_legacy_weights(model, path, style, layers=None):
    """Writes the weights of `model` (or of its first `layers`) in Keras's legacy HDF5
    layout with `style`'s weight names.

    'keras3' is Keras 3's own legacy writer; 'tf2' and 'old' rename the weights as tf.keras
    2.x (`layer/kernel:0`) and Keras 1 / 2.0 (`layer_W_1:0`) did.
    """
    from keras.src.legacy.saving import legacy_h5_format

    layers = model.layers if layers is None else layers
    with h5py.File(path, "w") as handle:
        if style == "keras3" and layers is model.layers:
            legacy_h5_format.save_weights_to_hdf5_group(handle, model)
            return
        handle.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["keras_version"] = b"2.2.4" if style == "old" else b"2.15.0"
        for layer in sorted(layers, key=lambda layer: layer.name):
            weights = layer.trainable_weights + layer.non_trainable_weights
            if style == "old":
                names = [f"{layer.name}_{s}_1:0" for s in OLD_SUFFIXES[len(weights)]]
            else:
                names = [w.path if style == "keras3" else f"{layer.name}/{w.name}:0"
                         for w in weights]
            group = handle.create_group(layer.name)
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, weight in zip(names, weights):
                group.create_dataset(name, data=keras.ops.convert_to_numpy(weight))


def images(shape, n=1, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n,) + shape).astype("float32")


def keras_outputs(model, x):
    with torch.no_grad():
        return keras.ops.convert_to_numpy(model(x, training=False))


def assert_close(ours, theirs, what):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    scale = max(np.abs(theirs).max(), 1e-6)
    error = np.abs(ours - theirs).max() / scale
    assert error < 1e-4, f"{what}: relative error {error:.2e}"


def assert_same_architecture(ours, theirs):
    # Input layers are named input_1 (tf.keras) here and input_layer in Keras 3.
    assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in theirs.layers[1:]]
    assert [type(layer).__name__ for layer in ours.layers[1:]] == \
        [type(layer).__name__ for layer in theirs.layers[1:]]
    assert ours.count_params() == theirs.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in theirs.trainable_weights)
    assert sum(p.numel() for p in ours.trainable_weights) == trainable


def _cases():
    return [pytest.param(app, style, id=f"{app}-{style}")
            for app, entry in APPS.items() for style in entry[4]]


@pytest.mark.parametrize("app, style", _cases())
def test_application_matches_keras_on_its_weights_file(app, style, tmp_path):
    """With the top (small images, 10 classes) and without it (the same weights minus the
    top's layers), against one oracle model."""
    keras_builder, builder, shape, top_layers, _ = APPS[app]
    keras.backend.clear_session()  # Keras's automatic names (conv2d, conv2d_1, ...) from 0
    theirs = keras_model(keras_builder, include_top=True, classes=10, input_shape=shape)
    base = theirs.layers[:-top_layers]
    both = keras.Model(theirs.input, [theirs.output, base[-1].output])  # one oracle pass
    x = images(shape)
    with torch.no_grad():
        expected = [keras.ops.convert_to_numpy(y) for y in both(x, training=False)]
    for include_top, layers, wanted in ((True, None, expected[0]), (False, base, expected[1])):
        path = str(tmp_path / f"{app}_{include_top}.h5")
        write_legacy_weights(theirs, path, style, layers)
        kwargs = {"classes": 10} if include_top else {}
        reset_names()  # each build starts from conv2d, as Keras after clear_session
        ours = builder(weights=path, include_top=include_top, input_shape=shape, **kwargs)
        assert_same_architecture(ours, theirs if include_top else
                                 keras.Model(theirs.input, base[-1].output))
        assert_close(ours.predict(x, verbose=0), wanted, f"{app} include_top={include_top}")
    assert ours.name == theirs.name.replace(".", "_")  # mobilenet_1.00_32: no '.' here


@pytest.mark.parametrize("builder, include_top, count", [
    (applications.VGG16, True, 138_357_544), (applications.VGG16, False, 14_714_688),
    (applications.VGG19, True, 143_667_240), (applications.ResNet50, True, 25_636_712),
    (applications.ResNet101, True, 44_707_176), (applications.ResNet152, True, 60_419_944),
    (applications.InceptionV3, True, 23_851_784), (applications.Xception, True, 22_910_480),
    (applications.DenseNet121, True, 8_062_504), (applications.DenseNet169, True, 14_307_880),
    (applications.DenseNet201, True, 20_242_984), (applications.MobileNet, True, 4_253_864),
    (applications.MobileNetV2, True, 3_538_984),
], ids=lambda value: getattr(value, "__name__", None))
def test_parameter_counts_match_keras_documentation(builder, include_top, count):
    from layerkit.applications.pretrained import weights_unfilled

    with weights_unfilled("counting only"):  # shapes without memory: full size is cheap
        model = builder(weights=None, include_top=include_top)
    assert model.count_params() == count


def _keras_home(monkeypatch, tmp_path):
    """An empty Keras cache for this test only (home and LAYERKIT_HOME out of the way)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LAYERKIT_HOME", raising=False)
    models = tmp_path / "keras_home" / "models"
    models.mkdir(parents=True)
    return models


def test_imagenet_weights_load_from_the_keras_cache(monkeypatch, tmp_path):
    models = _keras_home(monkeypatch, tmp_path)
    theirs = keras_model(keras.applications.VGG16, include_top=False, input_shape=(32, 32, 3))
    write_legacy_weights(theirs, models / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         "old")
    with pytest.warns(UserWarning, match="official hash"):  # not Keras's published file
        ours = applications.VGG16(weights="imagenet", include_top=False,
                                  input_shape=(32, 32, 3))
    x = images((32, 32, 3))
    assert_close(ours.predict(x, verbose=0), keras_outputs(theirs, x), "vgg16 imagenet")


def test_imagenet_weights_offline_name_file_url_and_folder(monkeypatch, tmp_path):
    from layerkit.utils import file_utils

    models = _keras_home(monkeypatch, tmp_path)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(file_utils, "urlopen", offline)
    with pytest.raises(file_utils.DownloadError) as error:
        applications.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    message = str(error.value)
    assert "VGG16(weights='imagenet')" in message
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" in message
    assert str(models) in message


def _broken_file(models, theirs, damage):
    path = models / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    write_legacy_weights(theirs, path, "tf2")
    with h5py.File(path, "a") as handle:
        damage(handle)
    return path


@pytest.mark.parametrize("damage, expected", [
    (lambda f: f["block4_conv2"].__delitem__("block4_conv2"), "block4_conv2"),
    (lambda f: f.__delitem__("block3_conv1"), "block3_conv1"),
    (lambda f: f.attrs.__setitem__("layer_names", [b"block1_conv1", b"block1_conv2"]),
     "block2_conv1"),
], ids=["missing-weights", "missing-group", "missing-layers"])
def test_broken_weight_files_name_the_layer_and_the_hash(monkeypatch, tmp_path, damage,
                                                         expected):
    models = _keras_home(monkeypatch, tmp_path)
    theirs = keras_model(keras.applications.VGG16, include_top=False, input_shape=(32, 32, 3))
    path = _broken_file(models, theirs, damage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as error:
            applications.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    message = str(error.value)
    assert expected in message and str(path) in message
    assert "6d6bbae143d832006294945121d1f1fc" in message and "delete" in message


def test_wrong_shapes_name_the_layer_and_change_nothing(tmp_path):
    theirs = keras_model(keras.applications.VGG16, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "w.h5")
    write_legacy_weights(theirs, path, "keras3")
    ours = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 1))
    before = [p.detach().clone() for p in ours.weights]
    with pytest.raises(ValueError, match="layer 'block1_conv1' expects weights of shapes"):
        ours.load_weights(path)
    assert all(torch.equal(a, p) for a, p in zip(before, ours.weights))


def test_truncated_file_is_reported_with_the_hash(monkeypatch, tmp_path):
    models = _keras_home(monkeypatch, tmp_path)
    theirs = keras_model(keras.applications.VGG16, include_top=False, input_shape=(32, 32, 3))
    path = models / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    write_legacy_weights(theirs, path, "old")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="truncated or not the official file"):
            applications.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert os.path.exists(path)  # never deleted behind the user's back
