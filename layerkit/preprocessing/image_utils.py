"""Image files <-> arrays: `load_img`, `img_to_array`, `array_to_img`, `save_img` (Pillow).

Same arrays as `keras_preprocessing.image` 1.1.2 and Keras 3's `keras.utils.load_img` /
`img_to_array` / `array_to_img`. `data_format=None` means `config.image_data_format()`
and `dtype=None` means `config.floatx()`, as in tf.keras. Layerkit differences:

- `save_img` writes a temporary file beside the target and renames it into place, so a
  crash never leaves a half-written image; the format may come from the extension even
  for JPEG with an RGBA array (converted to RGB with a warning, as Keras does only when
  `file_format='jpeg'` is passed).
- `color_mode` and `interpolation` are checked before the file is read.
"""

import io
import os
import pathlib
import secrets
import warnings

import numpy as np

from .. import config

# Pillow's resampling filters by Keras's names (Pillow itself loads on first use)
PIL_INTERPOLATION_METHODS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
COLOR_MODES = ("rgb", "rgba", "grayscale")


def _pil():
    """`PIL.Image`, imported when an image is first read or written."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("Reading and writing images needs Pillow: pip install Pillow "
                          "(or layerkit[data])") from e
    return Image
DATA_FORMATS = ("channels_last", "channels_first")


def standardize_data_format(data_format, where):
    """Returns `data_format`, or the global default when it is None.

    Raises:
        ValueError: for anything but 'channels_last' / 'channels_first', naming `where`.
    """
    if data_format is None:
        return config.image_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(f"{where}: data_format must be 'channels_last' or 'channels_first', "
                         f"received {data_format!r}")
    return data_format


def check_color_mode(color_mode, where):
    """Raises a ValueError naming `where` unless `color_mode` is rgb / rgba / grayscale."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"{where}: color_mode must be one of {COLOR_MODES}, "
                         f"received {color_mode!r}")


def check_interpolation(interpolation, where):
    """Raises a ValueError naming `where` unless Pillow can resample with `interpolation`."""
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ValueError(f"{where}: interpolation must be one of "
                         f"{tuple(PIL_INTERPOLATION_METHODS)}, received {interpolation!r}")


def _open(path):
    if isinstance(path, io.BytesIO):
        return _pil().open(path)
    if isinstance(path, pathlib.Path):
        path = str(path.resolve())
    with open(path, "rb") as f:
        data = f.read()
    try:
        return _pil().open(io.BytesIO(data))
    except _pil().UnidentifiedImageError:
        raise ValueError(
            f"load_img: {path!r} ({len(data)} bytes) is not an image Pillow can read; "
            "remove it from the folder, or convert it to png/jpg"
        ) from None


def convert_color(img, color_mode):
    """Converts a PIL image to `color_mode` (grayscale keeps 16- and 32-bit modes)."""
    if color_mode == "grayscale":
        # 8-, 16- and 32-bit grayscale images stay as they are; others become 8-bit.
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    wanted = "RGBA" if color_mode == "rgba" else "RGB"
    return img if img.mode == wanted else img.convert(wanted)


def _aspect_crop_box(size, width_height):
    """The centred (left, upper, right, lower) box with the target aspect ratio (Keras 3)."""
    width, height = size
    target_width, target_height = width_height
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    return [left, top, left + crop_width, top + crop_height]


def load_img(path, grayscale=False, color_mode="rgb", target_size=None,
             interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file into a PIL image.

    Args:
        path: a path (str or pathlib.Path) or an `io.BytesIO`.
        grayscale: deprecated (tf.keras 2.x); use `color_mode='grayscale'`.
        color_mode: 'rgb', 'rgba' or 'grayscale' (the image is converted to it).
        target_size: None (keep the size) or `(height, width)` to resize to.
        interpolation: Pillow resampling filter: 'nearest', 'bilinear', 'bicubic',
            'hamming', 'box' or 'lanczos'.
        keep_aspect_ratio: crop the largest centred box with the target aspect ratio
            before resizing, instead of stretching (tf.keras >= 2.9, Keras 3).

    Returns:
        A PIL image.

    Raises:
        ValueError: for an unknown `color_mode` or `interpolation`.

    Example:
        >>> x = img_to_array(load_img("cat.png", target_size=(150, 150)))  # (150, 150, 3)
    """
    if grayscale is True:
        warnings.warn("load_img: grayscale is deprecated, use color_mode='grayscale'",
                      DeprecationWarning, stacklevel=2)
        color_mode = "grayscale"
    check_color_mode(color_mode, "load_img")
    check_interpolation(interpolation, "load_img")
    img = convert_color(_open(path), color_mode)
    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    resample = getattr(_pil().Resampling, interpolation.upper())
    if keep_aspect_ratio:
        return img.resize(width_height, resample, box=_aspect_crop_box(img.size, width_height))
    return img.resize(width_height, resample)


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL image to a rank-3 numpy array.

    Args:
        img: a PIL image (or anything `np.asarray` turns into a rank-2/3 array).
        data_format: 'channels_last' → `(height, width, channels)`, 'channels_first' →
            `(channels, height, width)`; None uses `config.image_data_format()`.
        dtype: the array dtype; None uses `config.floatx()`.

    Returns:
        A rank-3 numpy array with the pixel values (0..255 for 8-bit images).

    Raises:
        ValueError: for an unknown data_format or an image that is not rank 2 or 3.
    """
    data_format = standardize_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        shape = (1,) + x.shape if data_format == "channels_first" else x.shape + (1,)
        return x.reshape(shape)
    raise ValueError(f"img_to_array: expected an image of rank 2 or 3, received an array of "
                     f"shape {x.shape}")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a rank-3 array to a PIL image.

    Args:
        x: array of shape `(height, width, channels)` (or channels first) with 1, 3 or 4
            channels.
        data_format: layout of `x`; None uses `config.image_data_format()`.
        scale: stretch the values so that the minimum becomes 0 and the maximum 255.
        dtype: dtype `x` is converted to first; None uses `config.floatx()`.

    Returns:
        A PIL image in mode 'L' (or 'I' for one channel with values above 255), 'RGB' or
        'RGBA'. Values are truncated to integers, as Keras does.

    Raises:
        ValueError: when `x` is not rank 3, has another channel count, or data_format is
            unknown.
    """
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (one image), "
                         f"received shape {x.shape}")
    data_format = standardize_data_format(data_format, "array_to_img")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return _pil().fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:  # a 32-bit signed integer grayscale image
            return _pil().fromarray(x[:, :, 0].astype("int32"), "I")
        return _pil().fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: expected 1, 3 or 4 channels, received {channels} "
                     f"(array shape {x.shape}, data_format={data_format!r})")


def _pil_format(path, file_format):
    if file_format is not None:
        name = str(file_format).upper()
        return "JPEG" if name == "JPG" else name
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError("save_img: pass file_format (e.g. 'png') when saving to a file "
                         "object")
    extension = os.path.splitext(os.fspath(path))[1].lower()
    name = _pil().registered_extensions().get(extension)
    if name is None:
        raise ValueError(f"save_img: cannot tell the image format from the file name "
                         f"{os.fspath(path)!r}; use an extension such as .png or .jpg, or "
                         "pass file_format")
    return name


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a rank-3 array as an image file, atomically.

    Args:
        path: a path, or a writable binary file object (then `file_format` is required).
        x: the image array (see `array_to_img`).
        data_format: layout of `x`; None uses `config.image_data_format()`.
        file_format: 'png', 'jpeg', ...; None infers it from the file extension.
        scale: stretch the values to 0..255 first (see `array_to_img`).
        **kwargs: passed to `PIL.Image.save` (e.g. `quality=95`).

    Raises:
        ValueError: when the format cannot be determined, or as `array_to_img`.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    fmt = _pil_format(path, file_format)
    if img.mode == "RGBA" and fmt == "JPEG":
        warnings.warn("save_img: the JPEG format does not support RGBA images, converting "
                      "to RGB.", stacklevel=2)
        img = img.convert("RGB")
    if not isinstance(path, (str, os.PathLike)):
        img.save(path, format=fmt, **kwargs)
        return
    path = os.fspath(path)
    tmp_path = os.path.join(os.path.dirname(os.path.abspath(path)),
                            f".tmp-{secrets.token_hex(8)}-{os.path.basename(path)}")
    # os.open with 0o666 lets the umask decide the permissions, as a plain open() would
    # (tempfile.mkstemp would leave the image readable by its owner only).
    handle = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as f:
            img.save(f, format=fmt, **kwargs)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
