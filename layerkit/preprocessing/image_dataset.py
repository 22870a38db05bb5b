"""`image_dataset_from_directory` (Keras 3 `keras.utils.image_dataset_from_directory`).

Keras 3 returns a `tf.data.Dataset` (or a grain dataset); layerkit returns an
`ImageDataset`, a `layerkit.utils.sequence.Sequence` of numpy batches
`(images float32, labels)` that `fit` / `evaluate` / `predict` accept directly, with the
same `class_names` and `file_paths` attributes. What matches Keras 3 exactly: the files
found and their order (sorted, then shuffled with `RandomState(seed)`), the labels, the
training / validation split (validation is the *last* `validation_split` of the shuffled
files), and the pixel values (Pillow decoding, then the torch-backend resize:
`F.interpolate` without antialiasing, Keras's crop / pad arithmetic). What differs: Keras
also shuffles with tf.data's shuffle buffer every epoch, which cannot be reproduced
without TensorFlow; here the first epoch yields the files in `file_paths` order and each
later epoch a permutation drawn from `RandomState(seed + epoch)`. Resizing supports
'bilinear', 'nearest' and 'bicubic' (the torch backend's set).
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.sequence import Sequence
from .image_iterators import sorted_walk
from .image_utils import convert_color, standardize_data_format

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
_LABEL_MODES = ("int", "categorical", "binary", None)
_WHERE = "image_dataset_from_directory"


def _check_arguments(labels, label_mode, class_names, color_mode, interpolation,
                     validation_split, subset, shuffle, seed):
    is_list = isinstance(labels, (list, tuple))
    if not (is_list or labels is None or (isinstance(labels, str) and labels == "inferred")):
        raise ValueError(f"{_WHERE}: labels must be 'inferred', None or a list/tuple of "
                         f"integer labels (one per file, in sorted path order), received "
                         f"{labels!r}")
    if class_names is not None and (is_list or labels is None):
        raise ValueError(f"{_WHERE}: class_names can only be passed with labels='inferred'")
    checks = ((label_mode, _LABEL_MODES, "label_mode"),
              (color_mode, tuple(_CHANNELS), "color_mode"),
              (interpolation, tuple(RESIZE_MODES), "interpolation"),
              (subset, ("training", "validation", "both", None), "subset"))
    for value, allowed, name in checks:
        if value not in allowed:
            raise ValueError(f"{_WHERE}: {name} must be one of {allowed}, received {value!r}")
    if validation_split is not None and not 0 <= validation_split < 1:
        raise ValueError(f"{_WHERE}: validation_split must be in [0, 1), received "
                         f"{validation_split!r}")
    if bool(validation_split) != bool(subset):
        raise ValueError(f"{_WHERE}: subset and validation_split go together, received "
                         f"subset={subset!r} and validation_split={validation_split!r}; "
                         "pass both or neither")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{_WHERE}: with validation_split and shuffle=True pass a seed, so "
                         "that the training and validation subsets do not overlap")


def _class_files(class_dir, follow_links):
    """Files under `class_dir` (recursively, sorted), relative to its parent directory."""
    dirname = os.path.basename(class_dir)
    return [os.path.join(dirname, os.path.relpath(os.path.join(root, fname), class_dir))
            for root, fname in sorted_walk(class_dir, follow_links)
            if fname.lower().endswith(ALLOWLIST_FORMATS)]


def _class_directories(directory, class_names):
    subdirs = [name for name in sorted(os.listdir(directory))
               if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
    if class_names is None:
        return subdirs
    if not set(class_names).issubset(subdirs):
        raise ValueError(f"{_WHERE}: class_names must name subdirectories of {directory!r} "
                         f"({subdirs}), received {class_names!r}")
    return list(class_names)


def index_directory(directory, labels, class_names=None, shuffle=True, seed=None,
                    follow_links=False):
    """Lists image files and their labels as Keras 3's `dataset_utils.index_directory`.

    Returns:
        `(file_paths, labels or None, class_names or None)`, shuffled together with
        `RandomState(seed)` when `shuffle`.
    """
    subdirs = _class_directories(directory, class_names) if labels == "inferred" else [""]
    filenames, found = [], []
    for index, subdir in enumerate(subdirs):
        names = _class_files(os.path.join(directory, subdir), follow_links)
        filenames += names
        found += [index] * len(names)
    if labels == "inferred":
        labels, class_names = np.array(found, dtype="int32"), subdirs
    elif labels is not None:
        if len(labels) != len(filenames):
            raise ValueError(f"{_WHERE}: {len(labels)} labels were given but {len(filenames)} "
                             f"image files were found in {directory!r}")
        labels = list(labels)  # Keras shuffles the caller's list in place; a copy is kinder
        class_names = [str(label) for label in sorted(set(labels))]
    file_paths = [os.path.join(directory, fname) for fname in filenames]
    if shuffle:
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def split_subset(paths, labels, validation_split, subset):
    """Training = all but the last `validation_split` of the files; validation = the last."""
    if not validation_split:
        return paths, labels
    num_val = int(validation_split * len(paths))
    part = slice(None, -num_val) if subset == "training" else slice(-num_val, None)
    if num_val == 0:
        part = slice(None) if subset == "training" else slice(0, 0)
    return paths[part], (None if labels is None else labels[part])


def _crop_or_pad(images, size, crop, pad):
    """Keras 3's crop_to_aspect_ratio / pad_to_aspect_ratio on a (N, C, H, W) tensor."""
    height, width = images.shape[-2:]
    target_height, target_width = size
    if crop:
        crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
        crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
        top, left = int(float(height - crop_height) / 2), int(float(width - crop_width) / 2)
        return images[:, :, top:top + crop_height, left:left + crop_width]
    if pad:
        pad_height = max(height, int(float(width * target_height) / target_width))
        pad_width = max(width, int(float(height * target_width) / target_height))
        top, left = int(float(pad_height - height) / 2), int(float(pad_width - width) / 2)
        return F.pad(images, (left, left, top, top))  # zeros on both sides, as Keras
    return images


def load_image(path, image_size, color_mode="rgb", interpolation="bilinear",
               data_format="channels_last", crop_to_aspect_ratio=False,
               pad_to_aspect_ratio=False):
    """Reads one image file and resizes it as Keras 3 on the torch backend does.

    Returns:
        float32 array `(height, width, channels)` (or channels first).
    """
    from PIL import Image  # Pillow loads on first use

    with Image.open(path) as img:
        x = np.array(convert_color(img, color_mode)).astype("float32")
    if x.ndim == 2:
        x = x[:, :, None]
    images = torch.from_numpy(x).permute(2, 0, 1)[None]  # (1, C, H, W)
    images = _crop_or_pad(images, image_size, crop_to_aspect_ratio, pad_to_aspect_ratio)
    mode = RESIZE_MODES[interpolation]
    images = F.interpolate(images, size=tuple(image_size), mode=mode, antialias=False,
                           align_corners=False if mode in ("bilinear", "bicubic") else None)
    images = images[0] if data_format == "channels_first" else images[0].permute(1, 2, 0)
    return images.contiguous().numpy()


def _encode_labels(labels, label_mode, num_classes):
    labels = np.asarray(labels)
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{_WHERE}: label_mode='categorical' needs labels in "
                         f"0..{num_classes - 1}, received values {sorted(set(labels))}")
    return np.eye(num_classes, dtype="float32")[labels]


class ImageDataset(Sequence):
    """Batches `(images, labels)` (or images alone) of image files, as numpy arrays.

    Attributes:
        file_paths: the files, in first-epoch order.
        class_names: the class names (None without labels).

    Args:
        file_paths: image paths.
        labels: integer label per file, or None.
        label_mode: 'int', 'categorical', 'binary' or None.
        class_names: names of the classes.
        image_size: `(height, width)`.
        batch_size: images per batch, or None for single images.
        shuffle: reshuffle every epoch after the first.
        seed: int seed of the reshuffles.
        **image_options: `color_mode`, `interpolation`, `data_format`,
            `crop_to_aspect_ratio`, `pad_to_aspect_ratio` for `load_image`.
    """

    def __init__(self, file_paths, labels, label_mode, class_names, image_size, batch_size,
                 shuffle, seed, **image_options):
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.image_size = tuple(image_size)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.image_options = image_options
        self.labels = None if label_mode is None else _encode_labels(
            labels, label_mode, len(class_names or ()))
        self.epoch = 0
        self.order = np.arange(len(self.file_paths))

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"ImageDataset: batch {index} is out of range; there are "
                             f"{len(self)} batches")
        size = self.batch_size or 1
        rows = self.order[index * size:(index + 1) * size]
        images = np.stack([load_image(self.file_paths[i], self.image_size,
                                      **self.image_options) for i in rows])
        if self.batch_size is None:
            return images[0] if self.labels is None else (images[0], self.labels[rows[0]])
        return images if self.labels is None else (images, self.labels[rows])

    def on_epoch_end(self):
        """Draws the next epoch's order (when shuffling)."""
        self.epoch += 1
        if self.shuffle:
            self.order = np.random.RandomState(self.seed + self.epoch).permutation(
                len(self.file_paths))


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Batches of images (and labels) from one subdirectory per class.

    Args:
        directory: folder of images; with labels='inferred' one subdirectory per class
            (.bmp, .gif, .jpeg, .jpg, .png, searched recursively).
        labels: 'inferred' (from the subdirectories), None, or a list of integer labels
            in sorted file-path order.
        label_mode: 'int' (int32 `(n,)`), 'categorical' (float32 one-hot), 'binary'
            (float32 `(n, 1)`, exactly two classes) or None (images only).
        class_names: subdirectories to use, in label order (default: all, sorted).
        color_mode: 'rgb', 'rgba' or 'grayscale'.
        batch_size: images per batch, or None for single images.
        image_size: `(height, width)` (or one int) every image is resized to.
        shuffle: shuffle the files (with `seed`) and reshuffle every later epoch.
        seed: int seed; drawn from NumPy's global generator when None.
        validation_split: fraction in [0, 1) for the validation subset.
        subset: 'training', 'validation' or 'both' (returns `(training, validation)`).
        interpolation: 'bilinear', 'nearest' or 'bicubic'.
        follow_links: follow symbolic links to subdirectories.
        crop_to_aspect_ratio / pad_to_aspect_ratio: keep the aspect ratio by cropping the
            centre / padding with zeros before resizing.
        data_format: layout of the images; None uses the global setting.
        verbose: print how many files were found and used.

    Returns:
        An `ImageDataset` (a `Sequence`), or a tuple of two when subset='both'.

    Raises:
        FileNotFoundError: when `directory` does not exist.
        ValueError: for invalid arguments or when no image is found.

    Example:
        >>> train = image_dataset_from_directory("flowers", image_size=(180, 180),
        ...                                      validation_split=0.2, subset="training",
        ...                                      seed=123)
    """
    image_size = (image_size, image_size) if isinstance(image_size, int) else image_size
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"{_WHERE}: image_size must be (height, width), received "
                         f"{image_size!r}")
    _check_arguments(labels, label_mode, class_names, color_mode, interpolation,
                     validation_split, subset, shuffle, seed)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{_WHERE}: pass only one of crop_to_aspect_ratio and "
                         "pad_to_aspect_ratio")
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{_WHERE}: directory {directory!r} does not exist")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if seed is None:
        seed = np.random.randint(int(1e6))
    paths, labels, class_names = index_directory(directory, labels, class_names, shuffle,
                                                 seed, follow_links)
    if verbose:
        classes = "" if labels is None else f" belonging to {len(class_names)} classes"
        print(f"Found {len(paths)} files{classes}.")
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"{_WHERE}: label_mode='binary' needs exactly 2 classes, found "
                         f"{class_names}")
    options = dict(label_mode=label_mode, class_names=class_names, image_size=image_size,
                   batch_size=batch_size, seed=seed, color_mode=color_mode,
                   interpolation=interpolation,
                   data_format=standardize_data_format(data_format, _WHERE),
                   crop_to_aspect_ratio=crop_to_aspect_ratio,
                   pad_to_aspect_ratio=pad_to_aspect_ratio)
    names = ("training", "validation") if subset == "both" else (subset,)
    datasets = []
    for name in names:
        part_paths, part_labels = split_subset(paths, labels, validation_split, name)
        if not part_paths:
            raise ValueError(f"{_WHERE}: no {name + ' ' if name else ''}images found in "
                             f"{directory!r}; allowed formats: {ALLOWLIST_FORMATS}")
        if verbose and validation_split:
            print(f"Using {len(part_paths)} files for {name}.")
        # Like Keras, subset='both' never shuffles its validation part.
        reshuffle = shuffle and not (subset == "both" and name == "validation")
        datasets.append(ImageDataset(part_paths, part_labels, shuffle=reshuffle, **options))
    return tuple(datasets) if subset == "both" else datasets[0]
