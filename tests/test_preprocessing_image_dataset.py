"""image_dataset_from_directory against Keras 3's own pieces on the torch backend.

`keras.utils.image_dataset_from_directory` itself needs TensorFlow or grain (neither is
installed), so the oracle is the code it runs: `dataset_utils.index_directory` (files,
labels, shuffle), `get_training_or_validation_split` and `_load_image_grain` (Pillow +
`keras.ops.image.resize` on torch).
"""

import numpy as np
import pytest
from keras.src.utils import dataset_utils, image_dataset_utils
from PIL import Image

from layerkit.preprocessing.image import ImageDataset, image_dataset_from_directory
from layerkit.utils.sequence import Sequence

FORMATS = image_dataset_utils.ALLOWLIST_FORMATS
CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """Three classes of images of different sizes and formats, plus files to ignore."""
    rs = np.random.RandomState(0)
    root = tmp_path_factory.mktemp("data") / "flowers"
    files = {"a_roses/r0.png": (10, 12), "a_roses/r1.png": (8, 16), "a_roses/r2.jpg": (12, 10),
             "a_roses/r3.png": (10, 12), "b_tulips/t0.png": (14, 7),
             "b_tulips/deep/t1.png": (10, 12), "b_tulips/t2.bmp": (9, 9),
             "c_daisy/d0.gif": (10, 12), "c_daisy/d1.png": (6, 15), ".hidden/h.png": (5, 5)}
    for rel, (height, width) in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels = rs.randint(0, 256, (height, width, 3)).astype("uint8")
        Image.fromarray(pixels).save(root / rel)
    (root / "a_roses" / "notes.txt").write_text("ignored")
    return str(root)


def _keras3_index(directory, labels="inferred", class_names=None, shuffle=True, seed=None,
                  validation_split=None, subset=None):
    paths, labels, names = dataset_utils.index_directory(
        directory, labels, formats=FORMATS, class_names=class_names, shuffle=shuffle,
        seed=seed, verbose=False)
    if subset:
        paths, labels = dataset_utils.get_training_or_validation_split(
            paths, labels, validation_split, subset)
    return paths, labels, names


def _keras3_image(path, image_size, color_mode="rgb", interpolation="bilinear",
                  data_format="channels_last", crop_to_aspect_ratio=False,
                  pad_to_aspect_ratio=False):
    return np.asarray(image_dataset_utils._load_image_grain(
        path, image_size, CHANNELS[color_mode], interpolation, data_format,
        crop_to_aspect_ratio, pad_to_aspect_ratio))


def _epoch(dataset):
    batches = [dataset[i] for i in range(len(dataset))]
    if dataset.labels is None:
        return np.concatenate(batches), None
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


CASES = {
    "default": dict(seed=3),
    "unshuffled_nearest_categorical": dict(shuffle=False, interpolation="nearest",
                                           label_mode="categorical"),
    "crop_bicubic_gray": dict(seed=1, crop_to_aspect_ratio=True, interpolation="bicubic",
                              color_mode="grayscale", image_size=(6, 9)),
    "pad_rgba": dict(seed=2, pad_to_aspect_ratio=True, color_mode="rgba", image_size=(9, 6)),
    "binary_channels_first": dict(seed=4, label_mode="binary", data_format="channels_first",
                                  class_names=["b_tulips", "a_roses"]),
    "training": dict(seed=5, validation_split=0.3, subset="training", batch_size=2),
    "validation": dict(seed=5, validation_split=0.3, subset="validation", batch_size=2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_keras3_files_labels_and_pixels(flowers, name):
    options = dict(dict(image_size=(8, 8), batch_size=3, verbose=False), **CASES[name])
    dataset = image_dataset_from_directory(flowers, **options)
    paths, labels, names = _keras3_index(
        flowers, class_names=options.get("class_names"), shuffle=options.get("shuffle", True),
        seed=options.get("seed"), validation_split=options.get("validation_split"),
        subset=options.get("subset"))
    assert isinstance(dataset, Sequence) and dataset.file_paths == paths
    assert dataset.class_names == names
    image_options = {key: options[key] for key in (
        "color_mode", "interpolation", "data_format", "crop_to_aspect_ratio",
        "pad_to_aspect_ratio") if key in options}
    images, got_labels = _epoch(dataset)
    expected = np.stack([_keras3_image(p, options["image_size"], **image_options)
                         for p in paths])
    assert images.dtype == np.float32 and images.shape == expected.shape
    np.testing.assert_allclose(images, expected, atol=1e-4)
    label_mode = options.get("label_mode", "int")
    if label_mode == "int":
        assert got_labels.dtype == np.int32
        np.testing.assert_array_equal(got_labels, labels)
    elif label_mode == "binary":
        np.testing.assert_array_equal(got_labels, np.asarray(labels, "float32")[:, None])
    else:
        np.testing.assert_array_equal(got_labels, np.eye(len(names), dtype="float32")[labels])


def test_split_takes_the_last_fraction_for_validation(flowers, capsys):
    train, valid = image_dataset_from_directory(flowers, image_size=(4, 4), seed=7,
                                                validation_split=0.25, subset="both")
    out = capsys.readouterr().out.splitlines()
    assert out == ["Found 9 files belonging to 3 classes.", "Using 7 files for training.",
                   "Using 2 files for validation."]
    everything = image_dataset_from_directory(flowers, image_size=(4, 4), seed=7,
                                              verbose=False)
    assert train.file_paths + valid.file_paths == everything.file_paths
    assert valid.file_paths == everything.file_paths[-2:]
    valid.on_epoch_end()  # subset='both' never reshuffles its validation part
    np.testing.assert_array_equal(valid.order, [0, 1])


def test_later_epochs_reshuffle_with_the_seed(flowers):
    def orders(seed):
        dataset = image_dataset_from_directory(flowers, image_size=(4, 4), seed=seed,
                                               batch_size=4, verbose=False)
        first = dataset.order.copy()
        dataset.on_epoch_end()
        return first, dataset.order.copy(), dataset

    first, second, dataset = orders(11)
    np.testing.assert_array_equal(first, np.arange(9))  # epoch 0: file_paths order
    np.testing.assert_array_equal(second, np.random.RandomState(12).permutation(9))
    np.testing.assert_array_equal(orders(11)[1], second)
    _, labels = dataset[0]
    np.testing.assert_array_equal(labels, _keras3_index(flowers, seed=11)[1][second[:4]])


def test_unbatched_explicit_labels_and_no_labels(flowers):
    single = image_dataset_from_directory(flowers, image_size=(5, 5), batch_size=None,
                                          shuffle=False, verbose=False)
    assert len(single) == 9
    x, y = single[8]
    assert x.shape == (5, 5, 3) and y == 2
    given = [3, 5, 5, 5, 5, 7, 7, 7, 9, 9]  # the walk also finds .hidden/h.png, as in Keras
    explicit = image_dataset_from_directory(flowers, labels=given, image_size=(5, 5),
                                            seed=2, verbose=False)
    paths, labels, names = _keras3_index(flowers, labels=list(given), seed=2)
    assert explicit.file_paths == paths and explicit.class_names == names == ["3", "5", "7", "9"]
    np.testing.assert_array_equal(_epoch(explicit)[1], labels)
    plain = image_dataset_from_directory(flowers, labels=None, image_size=(5, 5),
                                         batch_size=4, shuffle=False, verbose=False)
    assert plain.class_names is None and plain[2].shape == (2, 5, 5, 3)  # 10 files
    assert isinstance(plain, ImageDataset)


def test_fit_accepts_the_dataset(flowers):
    from layerkit import layers, models

    dataset = image_dataset_from_directory(flowers, image_size=(4, 4), seed=0, batch_size=4,
                                           verbose=False)
    model = models.Sequential([layers.Flatten(input_shape=(4, 4, 3)),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(dataset, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and len(history.history["loss"]) == 2


ERRORS = {
    "missing_dir": (dict(directory_suffix="/nope"), FileNotFoundError, "does not exist"),
    "binary_three_classes": (dict(label_mode="binary"), ValueError, "exactly 2 classes"),
    "split_without_subset": (dict(validation_split=0.2, seed=1), ValueError, "go together"),
    "subset_without_split": (dict(subset="training"), ValueError, "go together"),
    "split_without_seed": (dict(validation_split=0.2, subset="training"), ValueError,
                           "pass a seed"),
    "split_too_large": (dict(validation_split=1.5, subset="training", seed=1), ValueError,
                        r"\[0, 1\)"),
    "label_mode": (dict(label_mode="onehot"), ValueError, "label_mode must be one of"),
    "interpolation": (dict(interpolation="area"), ValueError, "interpolation must be one of"),
    "color_mode": (dict(color_mode="cmyk"), ValueError, "color_mode must be one of"),
    "class_names": (dict(class_names=["a_roses", "lilies"]), ValueError, "class_names"),
    "crop_and_pad": (dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), ValueError,
                     "only one of"),
    "labels_length": (dict(labels=[0, 1]), ValueError, "2 labels were given but 10"),
    "labels_type": (dict(labels="folders"), ValueError, "labels must be"),
    "image_size": (dict(image_size=(3, 4, 5)), ValueError, "image_size must be"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_clear_errors(flowers, name):
    options, error, match = ERRORS[name]
    options = dict(options)
    directory = flowers + options.pop("directory_suffix", "")
    with pytest.raises(error, match=match):
        image_dataset_from_directory(directory, verbose=False, **options)
