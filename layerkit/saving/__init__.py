"""Saving and loading models and weights, in the file formats real Keras reads and writes.

Who owns what:
- this module picks the format (by extension when writing, by content when reading),
  routes every write through `atomic_write`, and turns any failure to read a file into a
  `ValueError` whose message names the file (`naming_file`);
- `keras_zip` (Keras 3 `.keras`, `.weights.h5`) and `h5_format` (Keras 2 `.h5`) write
  and read the bytes; `integrity` the checksums in every file layerkit writes (verified
  on load; `verify=False` salvages a damaged file); `model_config` the architecture;
  `training_state` the compile settings and optimizer state. Classes come from the one
  serialization registry (`utils.registry`, `utils.serialization`): saving never imports
  models/.

Nothing here uses pickle or imports a module named in a file; Python bytecode (Keras
lambdas) loads only with `safe_mode=False`.
"""

import contextlib
import gc
import json
import os

from . import h5_format, keras_zip
from .atomic import atomic_write as atomic_write
from ..utils import model_files
from ..utils.serialization import layer_record
from .model_config import model_from_config, model_of_class, model_to_config

_MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@contextlib.contextmanager
def naming_file(path, action):
    """Re-raises any failure inside as a ValueError whose message names `path`.

    Args:
        path: the file being read.
        action: what was being done ('load the model'), for errors from deep inside.
    """
    try:
        yield
    except ValueError as error:
        if path in str(error):
            raise
        raise ValueError(f"{path}: {error}") from error
    except MemoryError:
        raise
    except Exception as error:  # h5py, zipfile, a custom layer's constructor...
        raise ValueError(f"{path}: cannot {action} ({type(error).__name__}: {error})") \
            from error


@contextlib.contextmanager
def _without_gc():
    """Pauses CPython's cyclic garbage collector while a model is rebuilt.

    Loading creates hundreds of thousands of long-lived objects and no garbage cycles; the
    collector would rescan them again and again (a third of a 20,000-layer load).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _path(filepath, what):
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"{what}: filepath must be a str or os.PathLike, received "
                         f"{type(filepath).__name__}")
    return os.fspath(filepath)


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise ValueError(f"{path} already exists and overwrite=False; pass overwrite=True "
                         "to replace it")


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None):
    """Saves architecture, weights, compile settings and optimizer state to one file.

    Args:
        model: a Sequential or Functional model.
        filepath: ends in `.keras` (Keras 3 zip) or `.h5` / `.hdf5` (Keras 2 HDF5).
        overwrite: replace an existing file (else ValueError).
        include_optimizer: also save the compile settings and optimizer state.
        save_format: 'keras' or 'h5' to choose the format for another extension.

    Raises:
        ValueError: for other extensions (`.weights.h5` is for save_weights).

    Example:
        >>> save_model(model, "my_model.keras")
    """
    path = _path(filepath, "save_model")
    lower = path.lower()
    if lower.endswith(".weights.h5"):
        raise ValueError(f"save_model({path!r}): '.weights.h5' holds weights only; use "
                         "model.save_weights, or save the model to '.keras' / '.h5'")
    style = save_format.lower() if isinstance(save_format, str) else None
    if lower.endswith(".keras") or (style == "keras" and not lower.endswith(".h5")):
        writer = keras_zip.write_model
    elif lower.endswith((".h5", ".hdf5")) or style in ("h5", "hdf5"):
        writer = h5_format.write_model
    else:
        raise ValueError(
            f"save_model({path!r}): unsupported file extension; expected one of "
            f"{', '.join(_MODEL_EXTENSIONS)} (TensorFlow SavedModel directories are not "
            "supported)")
    _check_overwrite(path, overwrite)
    with atomic_write(path) as tmp:
        writer(model, tmp, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, verify=True):
    """Loads a model saved by layerkit, Keras 3 (`.keras`, `.h5`) or tf.keras 2.x (`.h5`).

    Args:
        filepath: the file.
        custom_objects: `{name: class or function}` for user-defined layers, losses,
            metrics, activations and Lambda functions.
        compile: restore the compile settings and optimizer state when saved.
        safe_mode: refuse Python bytecode (Keras lambdas) in the file.
        verify: check the checksums layerkit writes into its files (every weight, the
            config). False loads a damaged file anyway, to salvage what it still holds.

    Returns:
        The model.

    Raises:
        ValueError: for missing, malformed, truncated, damaged or hostile files, naming the
            file and the problem (the layer and weight for a checksum mismatch).

    Example:
        >>> model = load_model("model.keras")
    """
    path = _path(filepath, "load_model")
    with naming_file(path, "load the model"), _without_gc():
        if _detect(path) == "zip":
            return keras_zip.read_model(path, custom_objects, compile, safe_mode, path,
                                        verify)
        return h5_format.read_model(path, custom_objects, compile, safe_mode, path, verify)


def _detect(path):
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory (a TensorFlow SavedModel?); layerkit loads "
                         ".keras and .h5 files")
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise ValueError(f"File not found or unreadable: filepath={path} ({error})") \
            from None
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head == _HDF5_MAGIC:
        return "h5"
    raise ValueError(f"{path} is neither a .keras (zip) nor an HDF5 file (first bytes "
                     f"{head!r})")


def save_weights(model, filepath, overwrite=True, save_format=None):
    """Saves the weights: `.weights.h5` in Keras 3's layout, `.h5` / `.hdf5` in Keras 2's.

    Raises:
        ValueError: for other extensions.
    """
    path = _path(filepath, "save_weights")
    lower = path.lower()
    style = save_format.lower() if isinstance(save_format, str) else None
    if lower.endswith(".weights.h5"):
        writer = keras_zip.write_weights_file
    elif lower.endswith((".h5", ".hdf5")) or style in ("h5", "hdf5"):
        writer = h5_format.write_weights_file
    else:
        raise ValueError(f"save_weights({path!r}): unsupported extension; expected "
                         "'.weights.h5' (Keras 3 layout) or '.h5' / '.hdf5' (Keras 2 layout)")
    _check_overwrite(path, overwrite)
    with atomic_write(path) as tmp:
        writer(model, tmp)


def load_weights(model, filepath, by_name=False, skip_mismatch=False, verify=True):
    """Loads weights saved by layerkit or Keras (`.weights.h5`, `.h5`, `.hdf5`, `.keras`).

    Args:
        model: the model to fill (same architecture unless by_name).
        filepath: the file.
        by_name: match layers by name (Keras 2 layout only).
        skip_mismatch: skip layers whose weight shapes differ, with a warning.
        verify: check the checksums layerkit writes (False: salvage a damaged file).

    Raises:
        ValueError: for malformed or damaged files or mismatching weights, naming the file.
            After a checksum mismatch the weights read before it stay loaded.
    """
    path = _path(filepath, "load_weights")
    with naming_file(path, "load the weights"), _without_gc():
        kind = _detect(path)
        if kind == "zip":
            _weights_from_keras_zip(model, path, by_name, skip_mismatch, verify)
        elif _is_keras3_layout(path):
            if by_name:
                raise ValueError(f"{path}: by_name=True needs the Keras 2 layout ('.h5'); "
                                 "this file is in Keras 3's layout, matched by position")
            keras_zip.load_weights(model, path, skip_mismatch, path, verify)
        else:
            h5_format.load_weights(model, path, by_name, skip_mismatch, path, verify)


def _is_keras3_layout(path):
    handle, _ = h5_format.open_file(path, path)
    with handle:
        return "layer_names" not in handle.attrs and "model_weights" not in handle and \
            ("layers" in handle or "vars" in handle)


def _weights_from_keras_zip(model, path, by_name, skip_mismatch, verify):
    if by_name:
        raise ValueError(f"{path}: by_name=True is not supported for .keras files")
    data = keras_zip.read_members(path, ("model.weights.h5",), path)["model.weights.h5"]
    handle, size = h5_format.open_file(data, path)
    with handle:
        keras_zip.read_weights(h5_format.Reader(handle, size, path, verify), model,
                               skip_mismatch)


def model_to_json(model, **kwargs):
    """The architecture as a JSON string (Keras 3's format; `json.dumps` kwargs apply)."""
    return json.dumps(model_to_config(model, "keras3"), **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """Rebuilds a model (new weights) from `to_json()` output, Keras 3's or tf.keras's.

    Raises:
        ValueError: for invalid JSON or configs.
    """
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise ValueError(f"model_from_json: expected a JSON string, received "
                         f"{type(json_string).__name__}")
    record = h5_format.parse_json(json_string, "model_from_json: the string")
    try:
        with _without_gc():
            return model_from_config(record, custom_objects, safe_mode)
    except (TypeError, KeyError, IndexError, AttributeError, RecursionError) as error:
        raise ValueError(f"model_from_json: invalid config ({error})") from error


def serialize_layer(layer):
    """Keras 3's `{'module', 'class_name', 'config', ...}` record of a layer or model."""
    return layer_record(layer)


def deserialize_layer(record, custom_objects=None, safe_mode=True):
    """Creates a layer or model from a Keras 3 / tf.keras / layerkit record."""
    return model_from_config(record, custom_objects, safe_mode)


# Model.save & co. reach these through utils.model_files (models sits below saving)
model_files.install(save_model=save_model, save_weights=save_weights,
                    load_weights=load_weights, model_to_json=model_to_json,
                    model_of_class=model_of_class)

__all__ = ["atomic_write", "deserialize_layer", "load_model", "load_weights",
           "model_from_json", "model_to_json", "save_model", "save_weights",
           "serialize_layer"]
