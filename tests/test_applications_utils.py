"""imagenet_utils and the applications' arguments against Keras 3: preprocess_input for every
mode and data format (numpy and tensors), decode_predictions on a class-index fixture,
input-shape validation, pooling and input_tensor."""

import json

import keras
import numpy as np
import pytest
import torch
from keras.applications import imagenet_utils as keras_utils
from keras.src.applications.imagenet_utils import obtain_input_shape as keras_obtain_input_shape

from layerkit import Input, applications, layers
from layerkit.applications import imagenet_utils

MODES = ["caffe", "tf", "torch"]
FORMATS = ["channels_last", "channels_first"]


def _images(shape, seed=0):
    return np.random.RandomState(seed).uniform(0, 255, shape).astype("float32")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(2, 5, 4, 3), (5, 4, 3)], ids=["batch", "image"])
def test_preprocess_input_matches_keras(mode, data_format, shape):
    if data_format == "channels_first":
        shape = shape[:-3] + (3,) + shape[-3:-1]
    x = _images(shape)
    expected = keras_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    ours = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)
    tensor = torch.from_numpy(x.copy())
    ours_tensor = imagenet_utils.preprocess_input(tensor, data_format=data_format, mode=mode)
    assert torch.equal(tensor, torch.from_numpy(x))  # tensors are never changed in place
    theirs_tensor = keras_utils.preprocess_input(torch.from_numpy(x.copy()),
                                                 data_format=data_format, mode=mode)
    np.testing.assert_allclose(ours_tensor.numpy(), keras.ops.convert_to_numpy(theirs_tensor),
                               rtol=1e-6, atol=1e-5)


def test_preprocess_input_overwrites_float_arrays_and_converts_integers_like_keras():
    x = _images((1, 2, 2, 3))
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out is x  # written over, as Keras documents
    pixels = np.arange(12, dtype="uint8").reshape(1, 2, 2, 3)
    ours = imagenet_utils.preprocess_input(pixels, mode="caffe")
    assert ours.dtype == np.float32 and pixels.dtype == np.uint8
    np.testing.assert_allclose(ours, keras_utils.preprocess_input(pixels.copy(), mode="caffe"))


@pytest.mark.parametrize("module", ["vgg16", "vgg19", "resnet50", "resnet", "inception_v3",
                                    "xception", "mobilenet", "mobilenet_v2", "densenet"])
def test_each_module_preprocesses_in_its_keras_mode(module):
    x = _images((1, 4, 4, 3))
    expected = getattr(keras.applications, module).preprocess_input(x.copy())
    ours = getattr(applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_preprocess_input_on_a_symbolic_input_becomes_a_model_step(mode):
    from layerkit import Model

    inputs = Input(shape=(5, 4, 3))
    model = Model(inputs, imagenet_utils.preprocess_input(inputs, mode=mode))
    x = _images((2, 5, 4, 3))
    expected = keras_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-5)


def test_preprocess_input_rejects_unknown_mode_and_format():
    with pytest.raises(ValueError, match="mode='bgr'.*'caffe', 'tf' or 'torch'"):
        imagenet_utils.preprocess_input(_images((1, 2, 2, 3)), mode="bgr")
    with pytest.raises(ValueError, match="data_format='nhwc'"):
        imagenet_utils.preprocess_input(_images((1, 2, 2, 3)), data_format="nhwc")


@pytest.fixture
def class_index(monkeypatch, tmp_path):
    """A 1000-class index under Keras's file name in a temporary KERAS_HOME."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LAYERKIT_HOME", raising=False)
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "imagenet_class_index.json"
    path.write_text(json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}))
    return path


def test_decode_predictions_on_a_class_index_fixture(class_index):
    preds = np.zeros((2, 1000), "float32")
    preds[0, [386, 101, 7]] = [0.7, 0.2, 0.1]
    preds[1, 999] = 1.0
    with pytest.warns(UserWarning, match="official hash"):  # the fixture is not Keras's file
        decoded = applications.vgg16.decode_predictions(preds, top=3)
        same = imagenet_utils.decode_predictions(torch.from_numpy(preds), top=1)
    assert [(c, n) for c, n, _ in decoded[0]] == [("n00000386", "class_386"),
                                                  ("n00000101", "class_101"),
                                                  ("n00000007", "class_7")]
    assert decoded[0][0][2] == pytest.approx(0.7) and len(decoded[1]) == 3
    assert decoded[1][0][:2] == ("n00000999", "class_999")
    assert same[0][0][:2] == ("n00000386", "class_386")


def test_decode_predictions_errors(class_index):
    with pytest.raises(ValueError, match=r"\(samples, 1000\); received shape \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
    class_index.write_text("{not json")
    imagenet_utils._class_indexes.clear()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="not an ImageNet class"):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    imagenet_utils._class_indexes.clear()


SHAPE_CASES = [  # (input_shape, default_size, min_size, data_format, top, weights)
    (None, 224, 32, "channels_last", True, "imagenet"),
    (None, 224, 32, "channels_last", False, None),
    (None, 224, 32, "channels_first", False, "imagenet"),
    ((224, 224, 3), 224, 32, "channels_last", True, "imagenet"),
    ((150, 150, 3), 224, 32, "channels_last", True, "imagenet"),
    ((150, 150, 3), 224, 32, "channels_last", False, "imagenet"),
    ((150, 150, 3), 224, 32, "channels_last", True, None),
    ((3, 150, 150), 224, 32, "channels_first", False, None),
    ((20, 150, 3), 224, 32, "channels_last", False, None),
    ((150, 150, 4), 224, 32, "channels_last", False, "imagenet"),
    ((150, 150, 1), 224, 32, "channels_last", False, None),
    ((None, None, 3), 299, 75, "channels_last", True, None),
    ((None, None, 3), 299, 75, "channels_last", False, None),
    ((150, 150), 224, 32, "channels_last", False, None),
]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[str(i) for i in range(len(SHAPE_CASES))])
def test_obtain_input_shape_agrees_with_keras(case):
    input_shape, default, minimum, data_format, top, weights = case
    try:
        expected = keras_obtain_input_shape(input_shape, default, minimum, data_format,
                                                  top, weights)
    except ValueError:
        with pytest.raises(ValueError):
            imagenet_utils.obtain_input_shape(input_shape, default, minimum, data_format,
                                              top, weights)
        return
    assert imagenet_utils.obtain_input_shape(input_shape, default, minimum, data_format, top,
                                             weights) == tuple(expected)


def test_argument_errors_name_the_application_and_the_argument():
    with pytest.raises(ValueError, match=r"VGG16\(weights='nowhere.h5'\)"):
        applications.VGG16(weights="nowhere.h5")
    with pytest.raises(ValueError, match=r"ResNet50\(weights='imagenet', include_top=True\)"
                                         r": classes must be 1000"):
        applications.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match=r"Xception\(pooling='sum'\)"):
        applications.Xception(weights=None, include_top=False, pooling="sum")
    with pytest.raises(ValueError, match="input size must be at least 75x75"):
        applications.InceptionV3(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="classifier_activation must be 'softmax' or None"):
        applications.MobileNetV2(weights="imagenet", classifier_activation="sigmoid")
    with pytest.raises(ValueError, match="symbolic tensor"):
        applications.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))


@pytest.mark.parametrize("pooling, shape", [(None, (None, 1, 1, 512)), ("avg", (None, 512)),
                                            ("max", (None, 512))])
def test_pooling_heads(pooling, shape):
    model = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3),
                               pooling=pooling)
    assert model.output.shape == shape


def test_input_tensor_keeps_the_layers_before_it():
    inputs = Input(shape=(32, 32, 1))
    rgb = layers.Conv2D(3, 1, name="to_rgb")(inputs)
    model = applications.VGG16(weights=None, include_top=False, input_tensor=rgb)
    assert model.inputs[0] is inputs and model.layers[1].name == "to_rgb"
    assert model.predict(np.zeros((1, 32, 32, 1), "float32"), verbose=0).shape == (1, 1, 1, 512)
