"""Affine and colour transforms of single images (the math behind `ImageDataGenerator`).

Same arrays as `keras_preprocessing.image` 1.1.2: the transform matrix is composed as
rotation · shift · shear · zoom about the point `(rows / 2 + 0.5, cols / 2 + 0.5)` and
applied channel by channel with `scipy.ndimage.affine_transform`. Keras 3's legacy copy
centres on `(rows / 2 - 0.5, cols / 2 - 0.5)` and swaps the row/column axes of the matrix,
so its rotations, shears and shifts differ by up to a pixel; layerkit keeps the Keras 2
arrays that the seed notebooks were trained with.

The `random_*` functions pass `row_axis` / `col_axis` on to `apply_affine_transform`
(keras_preprocessing 1.1.2 forgot to, and centred channels-first images on the wrong
axes; tf.keras >= 2.6 and Keras 3 pass them). They take a `seed` (layerkit addition);
without one they draw from NumPy's global generator, as Keras does.
"""

import numpy as np

from .image_utils import array_to_img, img_to_array

FILL_MODES = ("constant", "nearest", "reflect", "wrap", "mirror", "grid-constant",
              "grid-mirror", "grid-wrap")


def random_state(seed):
    """A `RandomState` seeded with `seed`, or NumPy's global generator when seed is None.

    A fresh `RandomState(seed)` gives the same draws as Keras's `np.random.seed(seed)`
    followed by `np.random.*`, without touching the global state.
    """
    return np.random if seed is None else np.random.RandomState(seed)


def flip_axis(x, axis):
    """Reverses `x` along `axis` (returns a view)."""
    x = np.asarray(x).swapaxes(axis, 0)
    x = x[::-1, ...]
    return x.swapaxes(0, axis)


def transform_matrix_offset_center(matrix, x, y):
    """Conjugates a 3x3 homogeneous `matrix` so that it acts about the image centre.

    Args:
        matrix: (3, 3) transform in (row, col) coordinates.
        x, y: the image size along rows and columns.

    Returns:
        The (3, 3) matrix `offset · matrix · offset⁻¹`.
    """
    o_x = float(x) / 2 + 0.5
    o_y = float(y) / 2 + 0.5
    offset_matrix = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset_matrix = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset_matrix, matrix), reset_matrix)


def _compose(theta, tx, ty, shear, zx, zy):
    """rotation · shift · shear · zoom, or None for the identity (Keras composes in order)."""
    matrices = []
    if theta != 0:
        theta = np.deg2rad(theta)
        matrices.append(np.array([[np.cos(theta), -np.sin(theta), 0],
                                  [np.sin(theta), np.cos(theta), 0],
                                  [0, 0, 1]]))
    if tx != 0 or ty != 0:
        matrices.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        shear = np.deg2rad(shear)
        matrices.append(np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrices.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not matrices:
        return None
    transform = matrices[0]
    for matrix in matrices[1:]:
        transform = np.dot(transform, matrix)
    return transform


def _check_axes(x, row_axis, col_axis, channel_axis, fill_mode):
    if x.ndim != 3:
        raise ValueError(f"apply_affine_transform: expected one image of rank 3, received "
                         f"an array of shape {x.shape}")
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError("apply_affine_transform: row_axis, col_axis and channel_axis must "
                         f"be 0, 1 and 2 in some order, received {row_axis}, {col_axis}, "
                         f"{channel_axis}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"apply_affine_transform: fill_mode must be one of {FILL_MODES}, "
                         f"received {fill_mode!r}")


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1,
                           col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.,
                           order=1):
    """Applies rotation, shift, shear and zoom to one image.

    The matrix maps output coordinates to input coordinates, so `zx, zy > 1` zoom out and
    `tx` moves the content towards lower row indices.

    Args:
        x: one image, rank 3.
        theta: rotation angle in degrees.
        tx: shift along the row axis, in pixels (height shift).
        ty: shift along the column axis, in pixels (width shift).
        shear: shear angle in degrees.
        zx, zy: zoom factors along rows and columns.
        row_axis, col_axis, channel_axis: axes of `x` (defaults: channels first, as in
            tf.keras >= 2.6 and Keras 3; keras_preprocessing defaulted to 0, 1, 2).
        fill_mode: how points outside the image are filled: 'constant', 'nearest',
            'reflect', 'wrap' (or another `scipy.ndimage` mode).
        cval: the fill value for 'constant'.
        order: spline interpolation order (0 = nearest, 1 = bilinear).

    Returns:
        The transformed image, same shape (`x` itself when every parameter is neutral).

    Raises:
        ValueError: for a non-rank-3 `x`, invalid axes or an unknown fill_mode.
    """
    x = np.asarray(x)
    _check_axes(x, row_axis, col_axis, channel_axis, fill_mode)
    transform = _compose(theta, tx, ty, shear, zx, zy)
    if transform is None:
        return x
    transform = transform_matrix_offset_center(transform, x.shape[row_axis],
                                               x.shape[col_axis])
    from scipy import ndimage  # optional means lazy: scipy loads on first use

    channels = np.rollaxis(x, channel_axis, 0)
    channel_images = [ndimage.affine_transform(channel, transform[:2, :2], transform[:2, 2],
                                               order=order, mode=fill_mode, cval=cval)
                      for channel in channels]
    return np.rollaxis(np.stack(channel_images, axis=0), 0, channel_axis + 1)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                    cval=0., interpolation_order=1, seed=None):
    """Rotates one image by an angle drawn from U(-rg, rg) degrees.

    Args:
        x: one image, rank 3.
        rg: rotation range in degrees.
        row_axis, col_axis, channel_axis, fill_mode, cval: as in `apply_affine_transform`.
        interpolation_order: spline order.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The rotated image.
    """
    theta = random_state(seed).uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0., interpolation_order=1, seed=None):
    """Shifts one image by fractions of its size drawn from U(-hrg, hrg) and U(-wrg, wrg).

    Args:
        x: one image, rank 3.
        wrg: width shift range, a fraction of the width.
        hrg: height shift range, a fraction of the height.
        row_axis, col_axis, channel_axis, fill_mode, cval: as in `apply_affine_transform`.
        interpolation_order: spline order.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The shifted image.
    """
    rng = random_state(seed)
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = rng.uniform(-hrg, hrg) * h
    ty = rng.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0., interpolation_order=1, seed=None):
    """Shears one image by an angle drawn from U(-intensity, intensity) degrees.

    Args:
        x: one image, rank 3.
        intensity: shear range in degrees.
        row_axis, col_axis, channel_axis, fill_mode, cval: as in `apply_affine_transform`.
        interpolation_order: spline order.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The sheared image.
    """
    shear = random_state(seed).uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0., interpolation_order=1, seed=None):
    """Zooms one image by factors zx, zy drawn independently from U(*zoom_range).

    Args:
        x: one image, rank 3.
        zoom_range: `(lower, upper)`; factors above 1 zoom out.
        row_axis, col_axis, channel_axis, fill_mode, cval: as in `apply_affine_transform`.
        interpolation_order: spline order.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The zoomed image.

    Raises:
        ValueError: when `zoom_range` is not two numbers.
    """
    if len(zoom_range) != 2:
        raise ValueError(f"random_zoom: zoom_range must be a tuple or list of two floats, "
                         f"received {zoom_range!r}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = random_state(seed).uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's original [min, max].

    Args:
        x: one image, rank 3.
        intensity: the value added.
        channel_axis: the channel axis of `x`.

    Returns:
        The shifted image.
    """
    x = np.rollaxis(x, channel_axis, 0)
    min_x, max_x = np.min(x), np.max(x)
    channel_images = [np.clip(channel + intensity, min_x, max_x) for channel in x]
    return np.rollaxis(np.stack(channel_images, axis=0), 0, channel_axis + 1)


def random_channel_shift(x, intensity_range, channel_axis=0, seed=None):
    """`apply_channel_shift` with an intensity drawn from U(-range, range).

    Args:
        x: one image, rank 3.
        intensity_range: the range of the shift.
        channel_axis: the channel axis of `x`.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The shifted image.
    """
    intensity = random_state(seed).uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Changes brightness with `PIL.ImageEnhance.Brightness(img).enhance(brightness)`.

    The image goes through `array_to_img` (channels last, values truncated to uint8) and
    back, so the result has values in 0..255.

    Args:
        x: one channels-last image, rank 3.
        brightness: the enhance factor (1 leaves the image unchanged, 0 makes it black).
        scale: stretch the image to 0..255 before enhancing (keras_preprocessing always
            does, and so does `ImageDataGenerator` here). With False, images within 0..255
            keep their values and others are mapped back to their range (Keras 3).

    Returns:
        The brightened image as a float array.
    """
    from PIL import ImageEnhance

    x_min, x_max = np.min(x), np.max(x)
    local_scale = (x_min < 0) or (x_max > 255)
    img = array_to_img(x, data_format="channels_last", scale=local_scale or scale)
    x = img_to_array(ImageEnhance.Brightness(img).enhance(brightness),
                     data_format="channels_last")
    if not scale and local_scale:
        x = x / 255 * (x_max - x_min) + x_min
    return x


def random_brightness(x, brightness_range, scale=True, seed=None):
    """`apply_brightness_shift` with a factor drawn from U(*brightness_range).

    Args:
        x: one channels-last image, rank 3.
        brightness_range: `(lower, upper)` enhance factors.
        scale: see `apply_brightness_shift`.
        seed: optional int; None draws from NumPy's global generator.

    Returns:
        The brightened image.

    Raises:
        ValueError: when `brightness_range` is not two numbers.
    """
    if len(brightness_range) != 2:
        raise ValueError(f"random_brightness: brightness_range must be a tuple or list of "
                         f"two floats, received {brightness_range!r}")
    u = random_state(seed).uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)
