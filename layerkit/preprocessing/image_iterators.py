"""Batch iterators behind `ImageDataGenerator.flow*`: arrays, directories, DataFrames.

Who owns what: `Iterator` owns the sample order (one permutation per epoch, thread-safe
index generation under a lock, the per-batch seeding); the subclasses own loading
samples; the `ImageDataGenerator` they are given owns the random transforms and the
normalization of each image.

Every iterator is a `layerkit.utils.sequence.Sequence` (so `fit` can index batches) and
also an endless Python iterator (`next(it)` loops over the data forever, as in Keras).
Batches are the arrays `keras_preprocessing.image` 1.1.2 gives for the same seed: with a
`seed`, batch `k` (counting every batch produced so far) draws its permutation and its
transforms from `RandomState(seed + k)`, which is what Keras gets by reseeding NumPy's
global generator, but the global generator is left alone; without a seed the global
generator is used, in Keras's order.
"""

import os
import threading
import warnings

import numpy as np

from ..utils.sequence import Sequence
from .image_transforms import random_state
from .image_utils import (array_to_img, check_color_mode, check_interpolation,
                          img_to_array, load_img)

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
SUBSETS = ("training", "validation")


class Iterator(Sequence):
    """Base class of the image batch iterators.

    Subclasses implement `_get_batches_of_transformed_samples(index_array, rng)`.

    Args:
        n: number of samples.
        batch_size: samples per batch (the last batch of an epoch may be smaller).
        shuffle: draw a new permutation of the samples every epoch.
        seed: optional int making the order and the random transforms repeatable.
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n, batch_size, shuffle, seed):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"{type(self).__name__}: batch_size must be a positive integer, "
                             f"received {batch_size!r}")
        self.n = n
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self._last_rng = np.random
        self.index_generator = self._flow_index()

    def _batch_rng(self):
        # Keras calls np.random.seed(seed + total_batches_seen) before every batch.
        return random_state(None if self.seed is None else self.seed + self.total_batches_seen)

    def _set_index_array(self, rng):
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = rng.permutation(self.n)

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise ValueError(f"{type(self).__name__}: asked for batch {idx}, but there are "
                             f"{len(self)} batches (indices 0..{len(self) - 1})")
        with self.lock:
            rng = self._batch_rng()
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array(rng)
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            self._last_rng = rng
        return self._get_batches_of_transformed_samples(index_array, rng)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        """Draws the next epoch's order (continuing the last batch's random stream)."""
        self._set_index_array(self._last_rng)

    def reset(self):
        """Restarts the endless iteration at the beginning of an epoch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            rng = self._batch_rng()
            if self.batch_index == 0:
                self._set_index_array(rng)
            current_index = (self.batch_index * self.batch_size) % self.n if self.n else 0
            if self.n > current_index + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current_index:current_index + self.batch_size], rng

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array, rng = next(self.index_generator)
        # Loading and transforming happen outside the lock so threads can overlap them.
        return self._get_batches_of_transformed_samples(index_array, rng)

    def next(self):
        """The next batch (Keras 2 spelling of `next(iterator)`)."""
        return self.__next__()

    def __getstate__(self):
        # Locks and generators cannot be pickled (DataLoader workers with 'spawn').
        state = dict(self.__dict__)
        for key in ("lock", "index_generator", "_last_rng"):
            state.pop(key)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self._last_rng = np.random
        self.index_generator = self._flow_index()

    def _get_batches_of_transformed_samples(self, index_array, rng):
        """Returns the batch of the samples at `index_array`, transforms drawn from `rng`."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "_get_batches_of_transformed_samples")


def _transform_one(generator, x, rng):
    if generator is None:
        return x
    params = generator.get_random_transform(x.shape, rng=rng)
    x = generator.apply_transform(x, params)
    return generator.standardize(x)


def _save_batch(batch_x, index_array, data_format, save_to_dir, prefix, fmt, rng, hash_max):
    """Writes each image of a batch as `{prefix}_{index}_{random}.{fmt}` (for debugging)."""
    for i, j in enumerate(index_array):
        img = array_to_img(batch_x[i], data_format, scale=True)
        fname = f"{prefix}_{j}_{rng.randint(hash_max)}.{fmt}"
        img.save(os.path.join(save_to_dir, fname))


def validation_bounds(image_data_generator, subset, where):
    """The `(start, stop)` fractions of each class's files that `subset` takes, or None.

    'validation' takes the first `validation_split` of the files, 'training' the rest.

    Raises:
        ValueError: for an unknown subset, or a subset without a validation_split.
    """
    if subset is None:
        return None
    if subset not in SUBSETS:
        raise ValueError(f"{where}: subset must be 'training', 'validation' or None, "
                         f"received {subset!r}")
    split = getattr(image_data_generator, "validation_split", 0.0)
    if not split:
        raise ValueError(f"{where}: subset={subset!r} needs a validation_split; pass e.g. "
                         "ImageDataGenerator(validation_split=0.2)")
    return (0.0, split) if subset == "validation" else (split, 1.0)


class BatchFromFilesMixin:
    """Turns image files into batches: load, transform, standardize, label.

    The class using it sets `filepaths`, `classes`, `class_indices`, `class_mode`,
    `dtype`, `labels` (raw targets) and `sample_weight`.
    """

    def set_processing_attrs(self, image_data_generator, target_size, color_mode,
                             data_format, save_to_dir, save_prefix, save_format, subset,
                             interpolation, keep_aspect_ratio):
        """Checks and stores how files become arrays (see `flow_from_directory`)."""
        where = type(self).__name__
        check_color_mode(color_mode, where)
        check_interpolation(interpolation, where)
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.data_format = data_format
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        if data_format == "channels_last":
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        self.keep_aspect_ratio = keep_aspect_ratio
        self.split = validation_bounds(image_data_generator, subset, where)
        self.subset = subset

    def _load_batch_x(self, index_array, rng):
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        filepaths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(filepaths[j], color_mode=self.color_mode,
                           target_size=self.target_size, interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format)
            img.close()
            batch_x[i] = _transform_one(self.image_data_generator, x, rng)
        return batch_x

    def _get_batches_of_transformed_samples(self, index_array, rng=np.random):
        batch_x = self._load_batch_x(index_array, rng)
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, rng, int(1e7))
        if self.class_mode == "input":
            batch_y = batch_x.copy()
        elif self.class_mode in ("binary", "sparse"):
            batch_y = np.empty(len(batch_x), dtype=self.dtype)
            for i, n_observation in enumerate(index_array):
                batch_y[i] = self.classes[n_observation]
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, n_observation in enumerate(index_array):
                batch_y[i, self.classes[n_observation]] = 1.0
        elif self.class_mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif self.class_mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


def sorted_walk(directory, follow_links):
    """Yields `(root, filename)` for every file under `directory`: folders sorted by path,
    files sorted by name (the order Keras lists images in)."""
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda item: item[0])
    for root, _, files in walk:
        for fname in sorted(files):
            yield root, fname


def _iter_valid_files(directory, white_list_formats, follow_links):
    """Yields `(root, filename)` for the image files under `directory`, sorted."""
    for root, fname in sorted_walk(directory, follow_links):
        if fname.lower().endswith(".tiff"):
            warnings.warn("Using '.tiff' files with multiple bands will cause distortion. "
                          "Please verify your output.", stacklevel=3)
        if fname.lower().endswith(white_list_formats):
            yield root, fname


def list_class_files(directory, white_list_formats, split, class_index, follow_links):
    """Lists one class directory: `(labels, filenames relative to its parent)`.

    Args:
        directory: path of the class directory (its base name is the class).
        white_list_formats: accepted extensions.
        split: `(start, stop)` fractions of the sorted files to keep, or None for all.
        class_index: the label of every file.
        follow_links: follow symbolic links to subdirectories.
    """
    dirname = os.path.basename(directory)
    valid_files = list(_iter_valid_files(directory, white_list_formats, follow_links))
    if split:
        start, stop = int(split[0] * len(valid_files)), int(split[1] * len(valid_files))
        valid_files = valid_files[start:stop]
    filenames = [os.path.join(dirname, os.path.relpath(os.path.join(root, fname), directory))
                 for root, fname in valid_files]
    return [class_index] * len(filenames), filenames


class DirectoryIterator(BatchFromFilesMixin, Iterator):
    """Batches of images read from one subdirectory per class.

    Classes are the sorted subdirectory names (or `classes`, in the order given); files
    are listed recursively and sorted. Attributes: `class_indices` (name → index),
    `filenames` (relative to `directory`), `filepaths`, `classes` (int32 label per file),
    `samples`, `num_classes`.

    Args: see `ImageDataGenerator.flow_from_directory`; `image_data_generator` may be None
    (no transforms).

    Raises:
        FileNotFoundError: when `directory` or a requested class subdirectory is missing.
        ValueError: for an unknown class_mode, color_mode, interpolation or subset.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format="channels_last", save_to_dir=None,
                 save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype="float32"):
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"DirectoryIterator: class_mode must be one of "
                             f"{self.allowed_class_modes}, received {class_mode!r}")
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"flow_from_directory: directory {directory!r} does not "
                                    "exist; it should hold one subdirectory per class")
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset,
                                  interpolation, keep_aspect_ratio)
        self.directory = directory
        self.class_mode = class_mode
        self.dtype = dtype
        classes = list(classes) if classes else self._subdirectories(directory)
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            class_dir = os.path.join(directory, name)
            if not os.path.isdir(class_dir):
                raise FileNotFoundError(f"flow_from_directory: class {name!r} has no "
                                        f"subdirectory {class_dir!r}")
            found, names = list_class_files(class_dir, self.white_list_formats, self.split,
                                            self.class_indices[name], follow_links)
            labels += found
            self.filenames += names
        self.samples = len(self.filenames)
        self.classes = np.array(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @staticmethod
    def _subdirectories(directory):
        return [subdir for subdir in sorted(os.listdir(directory))
                if os.path.isdir(os.path.join(directory, subdir))]

    @property
    def filepaths(self):
        """Paths of the image files, in `filenames` order."""
        return self._filepaths

    @property
    def labels(self):
        """The class index of every file."""
        return self.classes

    @property
    def sample_weight(self):
        """Always None: directories carry no sample weights."""
        return None


def _check_same_length(x, other, name):
    if other is not None and len(x) != len(other):
        raise ValueError(f"ImageDataGenerator.flow: x (images) and {name} must have the "
                         f"same length, received {len(x)} and {len(other)}")


def _split_misc(x):
    """Splits `x` given as `(images, extra)` into images and a list of extra arrays."""
    if not isinstance(x, (tuple, list)):
        return x, []
    extras = x[1] if isinstance(x[1], list) else [x[1]]
    x_misc = [np.asarray(extra) for extra in extras]
    for extra in x_misc:
        _check_same_length(x[0], extra, "every extra array in x")
    return x[0], x_misc


class NumpyArrayIterator(Iterator):
    """Batches from in-memory image arrays, transformed by an `ImageDataGenerator`.

    Args:
        x: rank-4 image array, or a tuple `(images, extra)` where `extra` is an array or a
            list of arrays passed through unchanged (batches then give `[images, *extra]`).
        y: labels or None.
        image_data_generator: the `ImageDataGenerator` that transforms each image.
        batch_size, shuffle, seed: see `Iterator`.
        sample_weight: optional per-sample weights (batches become `(x, y, weights)`).
        data_format: layout of the images.
        save_to_dir, save_prefix, save_format: write every augmented image there.
        subset: 'training' / 'validation' with the generator's `validation_split`: the
            first `validation_split` of the samples are the validation subset.
        dtype: dtype of the image batches.

    Raises:
        ValueError: when `x` is not rank 4, lengths differ, the subset is invalid, or the
            two subsets do not hold the same classes.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format="channels_last",
                 save_to_dir=None, save_prefix="", save_format="png", subset=None,
                 dtype="float32"):
        self.dtype = dtype
        x, x_misc = _split_misc(x)
        _check_same_length(x, y, "y (labels)")
        _check_same_length(x, sample_weight, "sample_weight")
        if validation_bounds(image_data_generator, subset, "ImageDataGenerator.flow"):
            x, y, x_misc = self._take_subset(x, y, x_misc, subset,
                                             image_data_generator.validation_split)
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError("ImageDataGenerator.flow: x must be a rank-4 array of images "
                             "(samples, height, width, channels) or channels first, received "
                             f"shape {self.x.shape}")
        self._warn_channels(data_format)
        self.x_misc = x_misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    @staticmethod
    def _take_subset(x, y, x_misc, subset, fraction):
        split_idx = int(len(x) * fraction)
        if y is not None and not np.array_equal(np.unique(y[:split_idx]),
                                                np.unique(y[split_idx:])):
            raise ValueError("ImageDataGenerator.flow: the training and validation subsets "
                             "hold different classes after the split; if the arrays are "
                             "sorted by label, shuffle them first")
        part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
        x_misc = [np.asarray(extra[part]) for extra in x_misc]
        return x[part], (None if y is None else y[part]), x_misc

    def _warn_channels(self, data_format):
        axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[axis] not in (1, 3, 4):
            warnings.warn(f"NumpyArrayIterator: data_format={data_format!r} expects 1, 3 or "
                          f"4 channels on axis {axis}, but x has shape {self.x.shape} "
                          f"({self.x.shape[axis]} channels).", stacklevel=4)

    def _get_batches_of_transformed_samples(self, index_array, rng=np.random):
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            batch_x[i] = _transform_one(self.image_data_generator,
                                        self.x[j].astype(self.dtype), rng)
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, rng, int(1e4))
        batch_x_miscs = [extra[index_array] for extra in self.x_misc]
        output = (batch_x if not batch_x_miscs else [batch_x] + batch_x_miscs,)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output
