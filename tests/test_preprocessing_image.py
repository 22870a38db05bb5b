"""layerkit.preprocessing.image against keras_preprocessing.image 1.1.2 (and Keras 3 where noted).

Every comparison feeds both libraries the same files, arrays and seeds and asserts equal
arrays. `image_dataset_from_directory` is tested in test_preprocessing_image_dataset.py.
"""

import os
import pickle
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from keras_preprocessing import image as kp
from PIL import Image

from layerkit.preprocessing import image
from layerkit.utils.sequence import Sequence

HEIGHT, WIDTH = 10, 12
AUGMENT_003 = dict(rescale=1. / 255, rotation_range=40, width_shift_range=0.2,
                   height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                   horizontal_flip=True, fill_mode="nearest")


def _random_image(rs, mode="RGB"):
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rs.randint(0, 256, (HEIGHT, WIDTH, channels)).astype("uint8")
    return Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode)


@pytest.fixture(scope="module")
def train_dir(tmp_path_factory):
    """cats: 5 PNGs (one in a nested folder), dogs: 3 PNGs + 1 JPEG + a text file."""
    rs = np.random.RandomState(123)
    root = tmp_path_factory.mktemp("images") / "train"
    for rel in ["cats/c0.png", "cats/c1.png", "cats/c10.png", "cats/c2.png",
                "cats/more/c3.png", "dogs/d0.png", "dogs/d1.png", "dogs/d2.png"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _random_image(rs).save(root / rel)
    _random_image(rs).save(root / "dogs" / "d3.jpg", quality=90)
    (root / "dogs" / "notes.txt").write_text("not an image")
    return str(root)


@pytest.fixture(scope="module")
def mode_files(tmp_path_factory):
    """One file per source mode: RGB PNG, RGB JPEG, grayscale PNG, RGBA PNG."""
    rs = np.random.RandomState(7)
    root = tmp_path_factory.mktemp("modes")
    files = {"rgb": root / "rgb.png", "jpeg": root / "rgb.jpg", "gray": root / "gray.png",
             "rgba": root / "rgba.png"}
    _random_image(rs).save(files["rgb"])
    _random_image(rs).save(files["jpeg"])
    _random_image(rs, "L").save(files["gray"])
    _random_image(rs, "RGBA").save(files["rgba"])
    return {name: str(path) for name, path in files.items()}


def _assert_batches_equal(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_batches_equal(a, b)
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_batches_equal(a, b)
    else:
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def _compare_iterators(ours, theirs, steps):
    """`steps` batches via next(), then a pass of __getitem__ and on_epoch_end twice."""
    for _ in range(steps):
        _assert_batches_equal(next(ours), next(theirs))
    for _ in range(2):
        for idx in range(len(theirs)):
            _assert_batches_equal(ours[idx], theirs[idx])
        ours.on_epoch_end()
        theirs.on_epoch_end()


# --- files <-> arrays ------------------------------------------------------------------

@pytest.mark.parametrize("source,color_mode,target_size,interpolation", [
    ("rgb", "rgb", None, "nearest"),
    ("jpeg", "rgb", (7, 5), "bilinear"),
    ("rgb", "grayscale", (7, 5), "bicubic"),
    ("gray", "rgb", (20, 24), "lanczos"),
    ("gray", "grayscale", None, "nearest"),
    ("rgba", "rgba", (6, 9), "box"),
    ("rgba", "rgb", (6, 9), "hamming"),
], ids=["rgb", "jpeg_bilinear", "to_gray_bicubic", "gray_to_rgb_lanczos", "gray",
        "rgba_box", "rgba_to_rgb_hamming"])
def test_load_img_and_img_to_array_match_keras(mode_files, source, color_mode, target_size,
                                               interpolation):
    kwargs = dict(color_mode=color_mode, target_size=target_size, interpolation=interpolation)
    ours = image.load_img(mode_files[source], **kwargs)
    theirs = kp.load_img(mode_files[source], **kwargs)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    for data_format in ("channels_last", "channels_first"):
        _assert_batches_equal(image.img_to_array(ours, data_format=data_format),
                              kp.img_to_array(theirs, data_format=data_format))


def test_load_img_keep_aspect_ratio_matches_keras3(mode_files):
    from keras.utils import img_to_array as k3_img_to_array
    from keras.utils import load_img as k3_load_img

    for size in [(4, 9), (9, 4), (HEIGHT, WIDTH)]:
        ours = image.load_img(mode_files["rgb"], target_size=size, keep_aspect_ratio=True,
                              interpolation="bilinear")
        theirs = k3_load_img(mode_files["rgb"], target_size=size, keep_aspect_ratio=True,
                             interpolation="bilinear")
        np.testing.assert_array_equal(image.img_to_array(ours), k3_img_to_array(theirs))


def test_img_to_array_default_dtype_and_shape(mode_files):
    gray = image.load_img(mode_files["gray"], color_mode="grayscale")
    x = image.img_to_array(gray)
    assert x.dtype == np.float32 and x.shape == (HEIGHT, WIDTH, 1)
    assert image.img_to_array(gray, data_format="channels_first").shape == (1, HEIGHT, WIDTH)
    assert image.img_to_array(gray, dtype="uint8").dtype == np.uint8


@pytest.mark.parametrize("shape,scale,data_format", [
    ((4, 5, 3), True, "channels_last"), ((4, 5, 3), False, "channels_last"),
    ((4, 4, 5), True, "channels_first"), ((4, 5, 1), False, "channels_last"),
    ((4, 5, 4), False, "channels_last"),
], ids=["rgb_scaled", "rgb_raw", "rgba_first", "gray", "rgba"])
def test_array_to_img_matches_keras(shape, scale, data_format):
    x = np.random.RandomState(1).uniform(-20, 250, shape).astype("float32")
    if not scale:
        x = np.abs(x)
    ours = image.array_to_img(x, data_format=data_format, scale=scale)
    theirs = kp.array_to_img(x, data_format=data_format, scale=scale)
    assert ours.mode == theirs.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_array_to_img_32bit_grayscale():
    x = np.arange(20, dtype="float32").reshape(4, 5, 1) * 1000
    img = image.array_to_img(x, scale=False)
    assert img.mode == "I" and np.asarray(img)[3, 4] == 19000


def test_save_img_round_trip_is_atomic(tmp_path):
    x = np.random.RandomState(2).randint(0, 256, (6, 7, 3)).astype("float32")
    path = tmp_path / "out.png"
    path.write_bytes(b"old contents")  # overwritten in one rename
    image.save_img(path, x, scale=False)
    np.testing.assert_array_equal(image.img_to_array(image.load_img(path)), x)
    assert sorted(os.listdir(tmp_path)) == ["out.png"]
    reference = tmp_path / "reference"
    reference.write_bytes(b"")  # created with the process umask, as the image should be
    image.save_img(tmp_path / "fresh.png", x, scale=False)
    assert os.stat(tmp_path / "fresh.png").st_mode == os.stat(reference).st_mode


def test_save_img_failure_leaves_target_and_no_temp_file(tmp_path):
    path = tmp_path / "keep.png"
    path.write_bytes(b"old")
    with pytest.raises(KeyError):
        image.save_img(path, np.zeros((3, 3, 3)), file_format="no-such-format")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["keep.png"]


def test_save_img_rgba_as_jpeg_converts_with_warning(tmp_path):
    x = np.full((4, 4, 4), 200, dtype="float32")
    with pytest.warns(UserWarning, match="RGBA"):
        image.save_img(tmp_path / "a.jpg", x, scale=False)
    assert Image.open(tmp_path / "a.jpg").mode == "RGB"


def test_save_img_to_file_object_needs_format(tmp_path):
    x = np.zeros((3, 3, 3))
    with pytest.raises(ValueError, match="file_format"):
        image.save_img(open(tmp_path / "f.png", "wb"), x)
    with pytest.raises(ValueError, match="cannot tell the image format"):
        image.save_img(tmp_path / "f.unknown", x)
    with open(tmp_path / "g.png", "wb") as f:
        image.save_img(f, x, file_format="png")
    assert Image.open(tmp_path / "g.png").size == (3, 3)


# --- random transforms -----------------------------------------------------------------

TRANSFORMS = {
    "rotation": dict(rotation_range=40),
    "width_shift_fraction": dict(width_shift_range=0.2),
    "height_shift_pixels_float": dict(height_shift_range=3.0),
    "width_shift_int": dict(width_shift_range=3),
    "height_shift_list": dict(height_shift_range=[-2, 0, 1]),
    "width_shift_fraction_list": dict(width_shift_range=[0.1, 0.3]),
    "shear": dict(shear_range=30, fill_mode="constant", cval=7.),
    "zoom": dict(zoom_range=0.3, fill_mode="reflect"),
    "zoom_pair": dict(zoom_range=[0.6, 0.9], fill_mode="wrap"),
    "channel_shift": dict(channel_shift_range=50.),
    "brightness": dict(brightness_range=(0.3, 1.4)),
    "flips": dict(horizontal_flip=True, vertical_flip=True),
    "order0": dict(rotation_range=90, interpolation_order=0),
    "seed_003": AUGMENT_003,
    "all_channels_first": dict(AUGMENT_003, data_format="channels_first",
                               channel_shift_range=20., vertical_flip=True),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_random_transform_matches_keras(name):
    kwargs = TRANSFORMS[name]
    x = np.random.RandomState(3).uniform(0, 255, (HEIGHT, WIDTH, 3)).astype("float32")
    if kwargs.get("data_format") == "channels_first":
        x = x.transpose(2, 0, 1).copy()
    ours, theirs = image.ImageDataGenerator(**kwargs), kp.ImageDataGenerator(**kwargs)
    for seed in (0, 1, 2, 17):
        params = ours.get_random_transform(x.shape, seed=seed)
        assert params == theirs.get_random_transform(x.shape, seed=seed)
        np.testing.assert_allclose(ours.random_transform(x.copy(), seed=seed),
                                   theirs.random_transform(x.copy(), seed=seed), atol=1e-4)


def test_random_transform_without_seed_uses_global_stream_like_keras():
    x = np.random.RandomState(3).uniform(0, 255, (HEIGHT, WIDTH, 3)).astype("float32")
    np.random.seed(11)
    theirs = [kp.ImageDataGenerator(**AUGMENT_003).random_transform(x) for _ in range(3)]
    np.random.seed(11)
    ours = [image.ImageDataGenerator(**AUGMENT_003).random_transform(x) for _ in range(3)]
    np.testing.assert_allclose(np.stack(ours), np.stack(theirs), atol=1e-5)


def test_seeded_transform_leaves_global_generator_alone():
    np.random.seed(5)
    expected = np.random.uniform()
    np.random.seed(5)
    image.ImageDataGenerator(rotation_range=30).get_random_transform((4, 4, 3), seed=9)
    assert np.random.uniform() == expected


def test_random_functions_match_keras_affine_transform():
    x = np.random.RandomState(4).uniform(0, 255, (3, HEIGHT, WIDTH)).astype("float32")
    axes = dict(row_axis=1, col_axis=2, channel_axis=0)
    rs = np.random.RandomState(8)
    cases = [
        (image.random_rotation(x, 30, seed=8), dict(theta=rs.uniform(-30, 30))),
        (image.random_shear(x, 20, seed=8),
         dict(shear=np.random.RandomState(8).uniform(-20, 20))),
    ]
    rs = np.random.RandomState(8)
    cases.append((image.random_shift(x, 0.2, 0.1, seed=8),
                  dict(tx=rs.uniform(-0.1, 0.1) * HEIGHT, ty=rs.uniform(-0.2, 0.2) * WIDTH)))
    zx, zy = np.random.RandomState(8).uniform(0.7, 1.3, 2)
    cases.append((image.random_zoom(x, (0.7, 1.3), seed=8), dict(zx=zx, zy=zy)))
    for ours, params in cases:
        np.testing.assert_allclose(ours, kp.apply_affine_transform(x, **params, **axes),
                                   atol=1e-4)
    shift = np.random.RandomState(8).uniform(-40, 40)
    np.testing.assert_allclose(image.random_channel_shift(x, 40, seed=8),
                               kp.apply_channel_shift(x, shift, 0), atol=1e-5)


def test_brightness_shift_matches_keras_both_scalings():
    from keras.src.legacy.preprocessing.image import apply_brightness_shift as k3_brightness

    x = np.random.RandomState(5).uniform(20, 200, (HEIGHT, WIDTH, 3)).astype("float32")
    np.testing.assert_array_equal(image.apply_brightness_shift(x, 0.7),
                                  kp.apply_brightness_shift(x, 0.7))
    for scale in (True, False):
        for data in (x, x * 3 - 100):  # inside and outside 0..255
            np.testing.assert_allclose(image.apply_brightness_shift(data, 1.3, scale=scale),
                                       k3_brightness(data, 1.3, scale=scale), atol=1e-4)


def test_rotation_centre_is_keras2_pinned():
    # keras_preprocessing rotates about (rows/2 + 0.5, cols/2 + 0.5): on a 4x4 image a
    # 180-degree turn maps output (i, j) to input (5 - i, 5 - j), not (3 - i, 3 - j)
    # (Keras 3's centre); with fill 'constant' only the 2x2 block i, j in {2, 3} is filled.
    x = np.arange(16, dtype="float64").reshape(4, 4, 1)
    out = image.apply_affine_transform(x, theta=180, row_axis=0, col_axis=1, channel_axis=2,
                                       fill_mode="constant", cval=-1, order=0)
    expected = np.full((4, 4), -1.0)
    for i in (2, 3):
        for j in (2, 3):
            expected[i, j] = x[5 - i, 5 - j, 0]
    np.testing.assert_allclose(out[:, :, 0], expected, atol=1e-9)


def test_shift_semantics_hand_computed():
    gen = image.ImageDataGenerator(height_shift_range=2, width_shift_range=[0.25])
    draws = [gen.get_random_transform((HEIGHT, WIDTH, 1), seed=s) for s in range(40)]
    assert {d["tx"] for d in draws} == {-1, 0, 1}  # int n: pixels from range(n), random sign
    assert {d["ty"] for d in draws} == {-0.25 * WIDTH, 0.25 * WIDTH}  # fractions of width
    x = np.arange(HEIGHT * WIDTH, dtype="float32").reshape(HEIGHT, WIDTH, 1)
    shifted = gen.apply_transform(x, {"tx": 1})  # content moves up one row
    np.testing.assert_allclose(shifted[:-1], x[1:], atol=1e-4)


# --- iterators ---------------------------------------------------------------------------

def test_flow_from_directory_index_matches_keras(train_dir, capsys):
    ours = image.ImageDataGenerator().flow_from_directory(train_dir)
    theirs = kp.ImageDataGenerator().flow_from_directory(train_dir)
    assert capsys.readouterr().out.splitlines() == ["Found 9 images belonging to 2 classes."] * 2
    assert ours.class_indices == theirs.class_indices == {"cats": 0, "dogs": 1}
    assert ours.filenames == theirs.filenames
    assert ours.filenames[:5] == ["cats/c0.png", "cats/c1.png", "cats/c10.png", "cats/c2.png",
                                  os.path.join("cats", "more", "c3.png")]
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    assert ours.classes.dtype == np.int32 and ours.samples == 9 and ours.num_classes == 2
    assert ours.filepaths == theirs.filepaths


@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse", "input", None])
@pytest.mark.parametrize("augment", [False, True], ids=["plain", "augment003"])
def test_flow_from_directory_batches_match_keras(train_dir, class_mode, augment):
    gen_kwargs = AUGMENT_003 if augment else {}
    kwargs = dict(target_size=(9, 8), batch_size=4, class_mode=class_mode, seed=42)
    ours = image.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    theirs = kp.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    _compare_iterators(ours, theirs, steps=7)


def test_flow_from_directory_unshuffled_grayscale_channels_first(train_dir):
    gen_kwargs = dict(data_format="channels_first", rotation_range=20, zoom_range=0.1)
    kwargs = dict(target_size=(HEIGHT, WIDTH), color_mode="grayscale", batch_size=5,
                  shuffle=False, interpolation="bilinear", classes=["dogs", "cats"])
    ours = image.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    theirs = kp.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    assert ours.class_indices == {"dogs": 0, "cats": 1} and ours.filenames == theirs.filenames
    np.random.seed(3)
    expected = [next(theirs) for _ in range(3)]
    np.random.seed(3)
    for batch in expected:  # unseeded: both draw from NumPy's global generator
        _assert_batches_equal(next(ours), batch)
    assert expected[0][0].shape == (5, 1, HEIGHT, WIDTH)


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_flow_from_directory_validation_split_matches_keras(train_dir, subset):
    gen_kwargs = dict(AUGMENT_003, validation_split=0.4)
    kwargs = dict(target_size=(8, 8), batch_size=2, seed=1, subset=subset)
    ours = image.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    theirs = kp.ImageDataGenerator(**gen_kwargs).flow_from_directory(train_dir, **kwargs)
    assert ours.filenames == theirs.filenames
    # validation: the first int(0.4 * n) sorted files of each class
    expected_validation = ["cats/c0.png", "cats/c1.png", "dogs/d0.png"]
    assert (ours.filenames == expected_validation) == (subset == "validation")
    _compare_iterators(ours, theirs, steps=4)


def test_flow_from_directory_keep_aspect_ratio_matches_keras3(train_dir):
    from keras.src.legacy.preprocessing.image import ImageDataGenerator as K3Generator

    kwargs = dict(target_size=(4, 9), batch_size=3, shuffle=False, keep_aspect_ratio=True,
                  class_mode="sparse")
    ours = image.ImageDataGenerator().flow_from_directory(train_dir, **kwargs)
    theirs = K3Generator().flow_from_directory(train_dir, **kwargs)
    for idx in range(len(ours)):
        _assert_batches_equal(ours[idx], theirs[idx])


def _fit_pair(gen_kwargs, x, **fit_kwargs):
    ours, theirs = image.ImageDataGenerator(**gen_kwargs), kp.ImageDataGenerator(**gen_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(x, **fit_kwargs)
        theirs.fit(x, **fit_kwargs)
    return ours, theirs


@pytest.mark.parametrize("gen_kwargs,fit_kwargs", [
    (dict(featurewise_center=True, featurewise_std_normalization=True), {}),
    (dict(zca_whitening=True, zca_epsilon=1e-3), {}),
    (dict(featurewise_std_normalization=True, rotation_range=20, rescale=0.5),
     dict(augment=True, rounds=2, seed=3)),
    (dict(samplewise_center=True, samplewise_std_normalization=True, width_shift_range=2), {}),
    (dict(preprocessing_function=lambda im: im[::-1] * 2.0, featurewise_center=True,
          data_format="channels_first"), {}),
], ids=["featurewise", "zca", "fit_augmented", "samplewise", "preprocessing_fn_first"])
def test_flow_with_normalization_matches_keras(gen_kwargs, fit_kwargs):
    rs = np.random.RandomState(6)
    channels_first = gen_kwargs.get("data_format") == "channels_first"
    x = rs.uniform(0, 255, (10, 3, 5, 4) if channels_first else (10, 5, 4, 3))
    y = np.arange(10) % 3
    ours, theirs = _fit_pair(gen_kwargs, x, **fit_kwargs)
    for stat in ("mean", "std", "principal_components"):
        expected = getattr(theirs, stat)
        if expected is None:
            assert getattr(ours, stat) is None
        else:
            np.testing.assert_allclose(getattr(ours, stat), expected, rtol=1e-5, atol=1e-5)
    flow_kwargs = dict(batch_size=4, seed=5)
    _compare_iterators(ours.flow(x, y, **flow_kwargs), theirs.flow(x, y, **flow_kwargs), 4)


def test_flow_extra_inputs_weights_and_subset_match_keras():
    rs = np.random.RandomState(9)
    x, extra = rs.uniform(0, 255, (12, 5, 6, 3)), rs.normal(size=(12, 2))
    y, weights = np.arange(12) % 2, rs.uniform(size=12)
    gen_kwargs = dict(validation_split=0.25, horizontal_flip=True, rotation_range=10)
    for subset in ("training", "validation"):
        kwargs = dict(batch_size=5, seed=2, subset=subset, sample_weight=weights)
        ours = image.ImageDataGenerator(**gen_kwargs).flow((x, [extra]), y, **kwargs)
        theirs = kp.ImageDataGenerator(**gen_kwargs).flow((x, [extra]), y, **kwargs)
        assert ours.n == (3 if subset == "validation" else 9)
        _compare_iterators(ours, theirs, steps=3)
    ours_x_only = image.ImageDataGenerator().flow(x, batch_size=5, shuffle=False)
    np.testing.assert_allclose(ours_x_only[2], x[10:].astype("float32"))


def test_save_to_dir_writes_the_same_files_as_keras(train_dir, tmp_path):
    x = np.random.RandomState(0).uniform(0, 255, (5, 4, 4, 3))
    kwargs = dict(batch_size=3, seed=1, save_prefix="aug", save_format="png")
    made = {}
    for name, module in (("ours", image), ("theirs", kp)):
        out = tmp_path / name
        out.mkdir()
        flow = module.ImageDataGenerator(rotation_range=10).flow(x, save_to_dir=str(out),
                                                                 **kwargs)
        next(flow)
        from_dir = module.ImageDataGenerator().flow_from_directory(
            train_dir, target_size=(5, 5), save_to_dir=str(out), **kwargs)
        next(from_dir)
        made[name] = {f: np.asarray(Image.open(out / f)) for f in sorted(os.listdir(out))}
    assert list(made["ours"]) == list(made["theirs"]) and len(made["ours"]) == 6
    for fname, pixels in made["ours"].items():
        np.testing.assert_array_equal(pixels, made["theirs"][fname])


@pytest.fixture(scope="module")
def frame(train_dir):
    rows = [("cats/c0.png", "cat", ["cat"], 0.5, 1.5), ("dogs/d0.png", "dog", ["dog"], 1., 2.),
            ("cats/c1.png", "cat", ["cat", "dog"], 2., 3.), ("dogs/d3.jpg", "dog", [], 1., 4.),
            ("dogs/missing.png", "dog", ["dog"], 1., 5.), ("dogs/d1.png", "dog", ["dog"], 3., 6.),
            ("cats/c2.png", "cat", ("cat",), 1., 7.)]
    return pd.DataFrame(rows, columns=["filename", "class", "tags", "weight", "score"])


@pytest.mark.parametrize("options", [
    dict(class_mode="categorical"),
    dict(class_mode="categorical", y_col="tags"),
    dict(class_mode="binary", weight_col="weight"),
    dict(class_mode="sparse", classes=["dog", "cat"]),
    dict(class_mode="raw", y_col="score"),
    dict(class_mode="multi_output", y_col=["score", "weight"]),
    dict(class_mode="input"),
    dict(class_mode=None, shuffle=False),
    dict(class_mode="categorical", subset="validation"),
    dict(class_mode="binary", subset="training"),
], ids=["categorical", "multilabel", "binary_weights", "sparse_classes", "raw", "multi_output",
        "input", "none", "validation", "training"])
def test_flow_from_dataframe_matches_keras(train_dir, frame, options):
    gen_kwargs = dict(AUGMENT_003, validation_split=0.3)
    kwargs = dict(dict(directory=train_dir, target_size=(7, 6), batch_size=2, seed=4), **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = image.ImageDataGenerator(**gen_kwargs).flow_from_dataframe(frame, **kwargs)
    assert any("invalid image filename" in str(w.message) for w in caught)
    theirs = kp.ImageDataGenerator(**gen_kwargs).flow_from_dataframe(frame, **kwargs)
    assert ours.filenames == theirs.filenames and "dogs/missing.png" not in ours.filenames
    if options["class_mode"] in ("categorical", "binary", "sparse"):
        assert ours.class_indices == theirs.class_indices and ours.classes == theirs.classes
    _compare_iterators(ours, theirs, steps=4)


def test_iterator_protocol(train_dir):
    x = np.arange(7, dtype="float32").reshape(7, 1, 1, 1) * np.ones((1, 2, 2, 3), "float32")
    it = image.ImageDataGenerator().flow(x, np.arange(7), batch_size=3, seed=0)
    assert isinstance(it, Sequence) and len(it) == 3
    epochs = [np.concatenate([next(it)[1] for _ in range(3)]) for _ in range(3)]
    for order in epochs:  # each epoch is a permutation; the last batch is partial
        assert sorted(order) == list(range(7))
    assert not np.array_equal(epochs[0], epochs[1])
    batch_x, batch_y = next(it)  # infinite: a fourth epoch starts
    assert batch_x.shape == (3, 2, 2, 3) and np.allclose(batch_x[:, 0, 0, 0], batch_y)
    it.reset()
    assert it.batch_index == 0 and len(it[2][1]) == 1
    with pytest.raises(ValueError, match="asked for batch 3"):
        it[3]


def test_iterator_index_generation_is_thread_safe():
    n, batch_size, epochs = 60, 7, 4
    x = np.zeros((n, 1, 1, 1), "float32")
    it = image.ImageDataGenerator().flow(x, np.arange(n), batch_size=batch_size, seed=3)
    seen, lock = [], threading.Lock()

    def worker():
        for _ in range(len(it) * epochs // 4):
            _, labels = next(it)
            with lock:
                seen.extend(labels.tolist())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(it) * epochs % 4 == 0  # so the threads consume whole epochs
    assert np.bincount(seen).tolist() == [epochs] * n


def test_iterator_pickles(train_dir):
    it = image.ImageDataGenerator(rotation_range=10).flow_from_directory(
        train_dir, target_size=(5, 5), batch_size=4, seed=1)
    clone = pickle.loads(pickle.dumps(it))
    _assert_batches_equal(clone[1], it[1])
    assert clone.class_indices == it.class_indices


def test_fit_generator_trains_on_flow_from_directory(train_dir):
    from layerkit import layers, models

    model = models.Sequential([layers.Flatten(input_shape=(6, 6, 3)),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    train = image.ImageDataGenerator(**AUGMENT_003).flow_from_directory(
        train_dir, target_size=(6, 6), batch_size=4, class_mode="binary", seed=1)
    valid = image.ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        train_dir, target_size=(6, 6), batch_size=4, class_mode="binary")
    history = model.fit(train, steps_per_epoch=5, epochs=2, validation_data=valid,
                        validation_steps=3, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["val_loss"]).all()


# --- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("make,error,match", [
    (lambda d: image.ImageDataGenerator(fill_mode="mirrorish"), ValueError, "fill_mode"),
    (lambda d: image.ImageDataGenerator(data_format="channels_middle"), ValueError,
     "data_format must be"),
    (lambda d: image.ImageDataGenerator(validation_split=1.0), ValueError, r"\[0, 1\)"),
    (lambda d: image.ImageDataGenerator(validation_split=-0.1), ValueError, "validation_split"),
    (lambda d: image.ImageDataGenerator(zoom_range=[1, 2, 3]), ValueError, "zoom_range"),
    (lambda d: image.ImageDataGenerator(brightness_range=0.5), ValueError, "brightness_range"),
    (lambda d: image.ImageDataGenerator().flow_from_directory(d, class_mode="onehot"),
     ValueError, "class_mode must be one of"),
    (lambda d: image.ImageDataGenerator().flow_from_directory(d, color_mode="cmyk"),
     ValueError, "color_mode must be one of"),
    (lambda d: image.ImageDataGenerator().flow_from_directory(d + "/nope"),
     FileNotFoundError, "does not exist"),
    (lambda d: image.ImageDataGenerator().flow_from_directory(d, classes=["cats", "birds"]),
     FileNotFoundError, "birds"),
    (lambda d: image.ImageDataGenerator().flow_from_directory(d, subset="validation"),
     ValueError, "needs a validation_split"),
    (lambda d: image.ImageDataGenerator(validation_split=0.2).flow_from_directory(
        d, subset="test"), ValueError, "subset must be"),
    (lambda d: image.ImageDataGenerator().flow(np.zeros((4, 5, 5)), np.zeros(4)),
     ValueError, r"rank-4 .* received shape \(4, 5, 5\)"),
    (lambda d: image.ImageDataGenerator().flow(np.zeros((4, 5, 5, 3)), np.zeros(3)),
     ValueError, "same length, received 4 and 3"),
    (lambda d: image.ImageDataGenerator(featurewise_center=True).fit(np.zeros((5, 5, 3))),
     ValueError, r"ImageDataGenerator.fit: x must be a rank-4 .* \(5, 5, 3\)"),
    (lambda d: image.ImageDataGenerator().flow(np.zeros((4, 5, 5, 3)), batch_size=0),
     ValueError, "batch_size must be a positive integer"),
    (lambda d: image.load_img(d + "/cats/c0.png", color_mode="hsv"), ValueError, "color_mode"),
    (lambda d: image.load_img(d + "/cats/c0.png", interpolation="area"), ValueError,
     "interpolation must be one of"),
    (lambda d: image.img_to_array(np.zeros((2, 2, 2, 2))), ValueError, "rank 2 or 3"),
    (lambda d: image.array_to_img(np.zeros((2, 2, 2))), ValueError, "1, 3 or 4 channels"),
    (lambda d: image.ImageDataGenerator().flow_from_dataframe(
        pd.DataFrame({"filename": ["a.png"], "class": ["x"]}), class_mode="multi"),
     ValueError, "class_mode must be one of"),
    (lambda d: image.ImageDataGenerator().flow_from_dataframe(
        pd.DataFrame({"filename": ["a.png"], "class": ["x"]}), class_mode="binary"),
     ValueError, "exactly 2 classes, found 1"),
    (lambda d: image.ImageDataGenerator().flow_from_dataframe(
        pd.DataFrame({"filename": ["a.png"]}), bogus=1), TypeError, "bogus"),
    (lambda d: image.apply_affine_transform(np.zeros((3, 3, 3)), theta=5, row_axis=0,
                                            col_axis=0), ValueError, "0, 1 and 2"),
], ids=[
    "fill_mode", "data_format", "split_one", "split_negative", "zoom_range",
    "brightness_range", "class_mode", "color_mode", "missing_dir", "missing_class",
    "subset_without_split", "bad_subset", "flow_rank", "flow_lengths", "fit_rank",
    "batch_size", "load_color_mode", "load_interpolation", "img_to_array_rank",
    "array_to_img_channels", "dataframe_class_mode", "dataframe_binary", "dataframe_kwarg",
    "affine_axes"])
def test_clear_errors(train_dir, make, error, match):
    with pytest.raises(error, match=match):
        make(train_dir)


def test_normalization_warnings_like_keras():
    with pytest.warns(UserWarning, match="zca_whitening overrides featurewise_center"):
        gen = image.ImageDataGenerator(zca_whitening=True)
    assert gen.featurewise_center
    with pytest.warns(UserWarning, match="has not been fit"):
        gen.standardize(np.ones((2, 2, 3), "float32"))


def test_non_image_file_in_a_class_folder_is_a_clear_error(tmp_path):
    from PIL import Image as PILImage

    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    PILImage.fromarray(np.zeros((8, 8, 3), "uint8")).save(tmp_path / "cats" / "a.png")
    (tmp_path / "dogs" / "b.jpg").write_bytes(b"not an image")
    (tmp_path / "dogs" / "notes.txt").write_text("skipped: not an image extension")
    iterator = image.ImageDataGenerator().flow_from_directory(
        str(tmp_path), target_size=(8, 8), batch_size=2, shuffle=False)
    assert iterator.filenames == ["cats/a.png", "dogs/b.jpg"]
    with pytest.raises(ValueError, match=r"b\.jpg' \(12 bytes\) is not an image Pillow can "
                                         r"read; remove it"):
        next(iterator)
