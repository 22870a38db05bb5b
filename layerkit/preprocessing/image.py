"""`keras.preprocessing.image` (tf.keras 2.x / `keras_preprocessing` 1.1.2) on NumPy and SciPy.

Who owns what: `image_utils` reads and writes image files, `image_transforms` holds the
affine and colour math, `image_iterators` / `image_dataframe_iterator` produce batches,
`image_dataset` holds `image_dataset_from_directory`; this module holds
`ImageDataGenerator` (random transform parameters, normalization statistics) and
re-exports the public names, so `from layerkit.preprocessing import image` works as
`from keras.preprocessing import image` did.

For the same inputs and seeds every array equals `keras_preprocessing.image` 1.1.2's
(random draws in the same order; `scipy.ndimage.affine_transform` called the same way).
Layerkit differences: seeded iterators and `get_random_transform(seed=...)` leave NumPy's
global generator alone; invalid arguments (class_mode, color_mode, fill_mode,
data_format, validation_split, a subset without validation_split, a missing directory,
images of the wrong rank) raise a `ValueError` / `FileNotFoundError` saying what was
expected, where Keras fails later or silently.

Example:
    >>> datagen = ImageDataGenerator(rescale=1. / 255, rotation_range=40, horizontal_flip=True)
    >>> train = datagen.flow_from_directory("train", target_size=(150, 150),
    ...                                     batch_size=32, class_mode="binary")
    >>> model.fit(train, steps_per_epoch=100, epochs=30)
"""

import numbers
import warnings

import numpy as np

from .. import config
from .image_dataframe_iterator import DataFrameIterator
from .image_dataset import ImageDataset, image_dataset_from_directory
from .image_iterators import (BatchFromFilesMixin, DirectoryIterator, Iterator,
                              NumpyArrayIterator)
from .image_transforms import (FILL_MODES, apply_affine_transform, apply_brightness_shift,
                               apply_channel_shift, flip_axis, random_brightness,
                               random_channel_shift, random_rotation, random_shear,
                               random_shift, random_state, random_zoom,
                               transform_matrix_offset_center)
from .image_utils import (array_to_img, img_to_array, load_img, save_img,
                          standardize_data_format)

__all__ = [
    "BatchFromFilesMixin", "DataFrameIterator", "DirectoryIterator", "ImageDataGenerator",
    "ImageDataset", "Iterator", "NumpyArrayIterator", "apply_affine_transform",
    "apply_brightness_shift", "apply_channel_shift", "array_to_img", "flip_axis",
    "image_dataset_from_directory", "img_to_array", "load_img", "random_brightness",
    "random_channel_shift", "random_rotation", "random_shear", "random_shift",
    "random_zoom", "save_img", "transform_matrix_offset_center",
]


def _zoom_bounds(zoom_range):
    if isinstance(zoom_range, numbers.Real):
        return [1 - zoom_range, 1 + zoom_range]
    if (np.ndim(zoom_range) == 1 and len(zoom_range) == 2
            and all(isinstance(v, numbers.Real) for v in zoom_range)):
        return [zoom_range[0], zoom_range[1]]
    raise ValueError("ImageDataGenerator: zoom_range must be a float or a tuple/list of two "
                     f"floats, received {zoom_range!r}")


def _shift(shift_range, rng, size):
    """One shift in pixels, drawn the way Keras does (see `ImageDataGenerator`)."""
    if not shift_range:
        return 0
    if isinstance(shift_range, (int, np.integer)) or np.ndim(shift_range) == 1:
        shift = rng.choice(shift_range)  # int n → range(n); a list → its elements
        shift *= rng.choice([-1, 1])
    else:
        shift = rng.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


def _broadcast_stat(values, x, channel_axis):
    shape = [1, 1, 1]
    shape[channel_axis - 1] = x.shape[channel_axis]
    return np.reshape(values, shape)


class ImageDataGenerator:
    """Random augmentation and normalization of image batches.

    Per image, in this order: random affine transform (rotation, shift, shear, zoom) →
    channel shift → flips → brightness, then `standardize`: preprocessing_function →
    rescale → samplewise center → samplewise std → featurewise center → featurewise std →
    ZCA whitening.

    Args:
        featurewise_center: subtract the dataset's per-channel mean (needs `fit`).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset's per-channel std + 1e-6
            (needs `fit`; turns featurewise_center on).
        samplewise_std_normalization: divide each image by its std + 1e-6.
        zca_whitening: apply ZCA whitening (needs `fit`; turns featurewise_center on and
            featurewise_std_normalization off).
        zca_epsilon: added to the eigenvalues in ZCA.
        rotation_range: degrees; the angle is drawn from U(-r, r).
        width_shift_range, height_shift_range: a float (U(-r, r), a fraction of the width /
            height when below 1, else pixels), an int n (pixels from `range(n)` with a
            random sign) or a list (one of its values, random sign; fractions if all < 1).
        brightness_range: `(lower, upper)` PIL brightness factors, or None.
        shear_range: degrees, drawn from U(-s, s).
        zoom_range: float z → factors from U(1 - z, 1 + z) per axis, or `[lower, upper]`;
            factors above 1 zoom out.
        channel_shift_range: add U(-c, c) to every channel, clipped to the image's range.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap' (scipy.ndimage modes).
        cval: fill value for 'constant'.
        horizontal_flip, vertical_flip: flip with probability 0.5.
        rescale: factor multiplied into every image (e.g. 1/255), or None/0.
        preprocessing_function: callable image → image, run first in `standardize`.
        data_format: 'channels_last' or 'channels_first'; None uses the global setting.
        validation_split: fraction in [0, 1) held out for `subset='validation'`.
        interpolation_order: spline order of the affine transform (1 = bilinear).
        dtype: dtype of the batches; None uses `config.floatx()`.

    Raises:
        ValueError: for an unknown data_format or fill_mode, validation_split outside
            [0, 1), or a malformed zoom_range / brightness_range.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0., height_shift_range=0., brightness_range=None,
                 shear_range=0., zoom_range=0., channel_shift_range=0., fill_mode="nearest",
                 cval=0., horizontal_flip=False, vertical_flip=False, rescale=None,
                 preprocessing_function=None, data_format=None, validation_split=0.0,
                 interpolation_order=1, dtype=None):
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = _zoom_bounds(zoom_range)
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or config.floatx()
        self.interpolation_order = interpolation_order
        self.data_format = standardize_data_format(data_format, "ImageDataGenerator")
        first = self.data_format == "channels_first"
        self.channel_axis, self.row_axis, self.col_axis = (1, 2, 3) if first else (3, 1, 2)
        self._validation_split = validation_split
        self.brightness_range = brightness_range
        self.mean = None
        self.std = None
        self.principal_components = None
        self._check_arguments()
        self._resolve_normalization()

    @property
    def validation_split(self):
        """The fraction of the data `subset='validation'` takes (0 when not split)."""
        return self._validation_split

    def _check_arguments(self):
        if self.fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: fill_mode must be one of {FILL_MODES[:4]} "
                             f"(or another scipy.ndimage mode), received {self.fill_mode!r}")
        split = self._validation_split
        if not isinstance(split, numbers.Real) or not 0 <= split < 1:
            raise ValueError("ImageDataGenerator: validation_split must be a number in "
                             f"[0, 1), received {split!r}")
        brightness = self.brightness_range
        if brightness is not None and (not isinstance(brightness, (tuple, list))
                                       or len(brightness) != 2):
            raise ValueError("ImageDataGenerator: brightness_range must be a tuple or list "
                             f"of two floats, received {brightness!r}")

    def _resolve_normalization(self):
        """Applies Keras's implied settings, warning as Keras does."""
        def override(setting, value, because):
            warnings.warn(f"ImageDataGenerator: {because} overrides {setting}={not value}.",
                          stacklevel=4)
            setattr(self, setting, value)

        if self.zca_whitening:
            if not self.featurewise_center:
                override("featurewise_center", True, "zca_whitening")
            if self.featurewise_std_normalization:
                override("featurewise_std_normalization", False, "zca_whitening")
        if self.featurewise_std_normalization and not self.featurewise_center:
            override("featurewise_center", True, "featurewise_std_normalization")
        if self.samplewise_std_normalization and not self.samplewise_center:
            override("samplewise_center", True, "samplewise_std_normalization")

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", subset=None):
        """Batches of augmented images from arrays.

        Args:
            x: rank-4 images, or a tuple `(images, extra)` with extra array(s) passed
                through (batches then hold `[images, *extra]`).
            y: labels, or None (batches are then images only).
            batch_size: samples per batch.
            shuffle: new sample order every epoch.
            sample_weight: optional weights (batches become `(x, y, weights)`).
            seed: int making order and transforms repeatable.
            save_to_dir, save_prefix, save_format: save each augmented image there.
            subset: 'training' or 'validation' (needs validation_split; validation is the
                first `validation_split` of the samples).

        Returns:
            A `NumpyArrayIterator` (a `Sequence`, also an endless iterator).
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """Batches of augmented images read from one subdirectory per class.

        Args:
            directory: folder with one subdirectory per class (png, jpg, jpeg, bmp, ppm,
                tif, tiff files, searched recursively).
            target_size: `(height, width)` every image is resized to.
            color_mode: 'rgb', 'rgba' or 'grayscale' (3, 4 or 1 channels).
            classes: subdirectory names in label order; None → sorted subdirectories.
            class_mode: 'categorical' (one-hot), 'binary' (0./1.), 'sparse' (index as
                float), 'input' (y is x) or None (images only).
            batch_size, shuffle, seed: see `flow`.
            save_to_dir, save_prefix, save_format: see `flow`.
            follow_links: follow symbolic links to subdirectories.
            subset: 'training' / 'validation': validation takes the first
                `validation_split` of each class's sorted files.
            interpolation: Pillow filter for resizing ('nearest', 'bilinear', ...).
            keep_aspect_ratio: crop to the target aspect ratio before resizing.

        Returns:
            A `DirectoryIterator` with `class_indices`, `filenames`, `classes`, `samples`.
        """
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            classes=classes, class_mode=class_mode, data_format=self.data_format,
            batch_size=batch_size, shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format, follow_links=follow_links,
            subset=subset, interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio,
            dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class",
                            weight_col=None, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest",
                            validate_filenames=True, keep_aspect_ratio=False, **kwargs):
        """Batches of augmented images named in a pandas DataFrame.

        Args:
            dataframe: one row per image.
            directory: folder the x_col paths are relative to (None: they are full paths).
            x_col: column of file names.
            y_col: label column (a list of columns for 'multi_output').
            weight_col: optional numeric column of sample weights.
            class_mode: 'categorical' (strings or lists of strings → one/multi-hot),
                'binary', 'sparse' (strings), 'raw' (the y_col values), 'multi_output'
                (one array per y_col column), 'input' or None.
            validate_filenames: drop rows whose file is missing or not an image.
            Other arguments: as in `flow_from_directory`; validation takes the first
                `validation_split` of the rows.
            **kwargs: Keras 2's deprecated `has_ext`, `sort`, `drop_duplicates` (ignored
                with a warning); class_mode 'other' means 'raw'.

        Returns:
            A `DataFrameIterator`.
        """
        for name in kwargs:
            if name not in ("has_ext", "sort", "drop_duplicates"):
                raise TypeError(f"flow_from_dataframe() got an unexpected keyword argument "
                                f"{name!r}")
            warnings.warn(f"flow_from_dataframe: {name} is deprecated and ignored.",
                          DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn("flow_from_dataframe: class_mode='other' is deprecated, use 'raw'.",
                          DeprecationWarning, stacklevel=2)
            class_mode = "raw"
        return DataFrameIterator(
            dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
            target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
            shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, subset=subset, interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype,
            validate_filenames=validate_filenames)

    def standardize(self, x):
        """Normalizes one image or a batch, in place where possible.

        Args:
            x: an image or a batch of images (float array).

        Returns:
            The normalized array (preprocessing_function → rescale → samplewise center /
            std → featurewise center / std → ZCA).
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= (np.std(x, keepdims=True) + 1e-6)
        if self.featurewise_center:
            if self._fitted("featurewise_center", self.mean):
                x -= self.mean
        if self.featurewise_std_normalization:
            if self._fitted("featurewise_std_normalization", self.std):
                x /= (self.std + 1e-6)
        if self.zca_whitening and self._fitted("zca_whitening", self.principal_components):
            flat_x = np.reshape(x, (-1, np.prod(x.shape[-3:])))
            x = np.reshape(np.dot(flat_x, self.principal_components), x.shape)
        return x

    @staticmethod
    def _fitted(setting, statistic):
        if statistic is None:
            warnings.warn(f"ImageDataGenerator specifies {setting}, but it has not been fit "
                          "on any training data; call .fit(x_train) first.", stacklevel=3)
        return statistic is not None

    def get_random_transform(self, img_shape, seed=None, rng=None):
        """Draws the parameters of one random transformation.

        Args:
            img_shape: shape of one image (rank 3, in this generator's data_format).
            seed: optional int (draws from `RandomState(seed)`).
            rng: optional `RandomState` to draw from (used by the iterators); without seed
                or rng NumPy's global generator is used, as in Keras.

        Returns:
            A dict with 'theta', 'tx', 'ty', 'shear', 'zx', 'zy', 'flip_horizontal',
            'flip_vertical', 'channel_shift_intensity', 'brightness'.
        """
        rng = rng if rng is not None else random_state(seed)
        theta = rng.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _shift(self.height_shift_range, rng, img_shape[self.row_axis - 1])
        ty = _shift(self.width_shift_range, rng, img_shape[self.col_axis - 1])
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        # Both flips are always drawn, so the stream does not depend on the flip settings.
        flip_horizontal = (rng.random() < 0.5) * self.horizontal_flip
        flip_vertical = (rng.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = rng.uniform(-self.channel_shift_range,
                                                  self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = rng.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Applies the transformation described by `transform_parameters` to one image.

        Args:
            x: one image, rank 3.
            transform_parameters: a dict as returned by `get_random_transform` (missing
                keys mean no change).

        Returns:
            The transformed image (same shape).
        """
        params = transform_parameters
        row_axis, col_axis, channel_axis = (self.row_axis - 1, self.col_axis - 1,
                                            self.channel_axis - 1)
        x = apply_affine_transform(
            x, params.get("theta", 0), params.get("tx", 0), params.get("ty", 0),
            params.get("shear", 0), params.get("zx", 1), params.get("zy", 1),
            row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
            fill_mode=self.fill_mode, cval=self.cval, order=self.interpolation_order)
        if params.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, params["channel_shift_intensity"], channel_axis)
        if params.get("flip_horizontal", False):
            x = flip_axis(x, col_axis)
        if params.get("flip_vertical", False):
            x = flip_axis(x, row_axis)
        if params.get("brightness") is not None:
            x = apply_brightness_shift(x, params["brightness"])
        return x

    def random_transform(self, x, seed=None):
        """Applies a random transformation to one image.

        Args:
            x: one image, rank 3.
            seed: optional int making the transformation repeatable.

        Returns:
            The transformed image.
        """
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the featurewise mean / std and the ZCA matrix from sample images.

        `rescale` is applied to the samples first.

        Args:
            x: rank-4 array of images.
            augment: fit on randomly transformed copies of the samples.
            rounds: number of augmented passes over `x` when augment is True.
            seed: optional int for the augmentation.

        Raises:
            ValueError: when `x` is not rank 4.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError("ImageDataGenerator.fit: x must be a rank-4 array of images "
                             f"(samples, height, width, channels) or channels first, received "
                             f"shape {x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"ImageDataGenerator.fit: data_format={self.data_format!r} expects "
                          f"1, 3 or 4 channels on axis {self.channel_axis}, but x has shape "
                          f"{x.shape}.", stacklevel=2)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = self._augmented(x, rounds, random_state(seed))
        if self.featurewise_center:
            mean = np.mean(x, axis=(0, self.row_axis, self.col_axis))
            self.mean = _broadcast_stat(mean, x, self.channel_axis)
            x -= self.mean
        if self.featurewise_std_normalization:
            std = np.std(x, axis=(0, self.row_axis, self.col_axis))
            self.std = _broadcast_stat(std, x, self.channel_axis)
            x /= (self.std + 1e-6)
        if self.zca_whitening:
            flat_x = np.reshape(x, (x.shape[0], x.shape[1] * x.shape[2] * x.shape[3]))
            sigma = np.dot(flat_x.T, flat_x) / flat_x.shape[0]
            from scipy import linalg  # optional means lazy: scipy loads on first use

            u, s, _ = linalg.svd(sigma)
            s_inv = 1. / np.sqrt(s[np.newaxis] + self.zca_epsilon)
            self.principal_components = (u * s_inv).dot(u.T)

    def _augmented(self, x, rounds, rng):
        augmented = np.zeros((rounds * x.shape[0],) + x.shape[1:], dtype=self.dtype)
        for r in range(rounds):
            for i in range(x.shape[0]):
                params = self.get_random_transform(x[i].shape, rng=rng)
                augmented[i + r * x.shape[0]] = self.apply_transform(x[i], params)
        return augmented
