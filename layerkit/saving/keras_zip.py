"""The Keras 3 formats: the `.keras` zip and the `.weights.h5` weights file.

Who owns what:
- `.keras` is a zip with `config.json` (the model record, Keras 3 style, with
  `compile_config`), `metadata.json` (`keras_version`, `date_saved`) and
  `model.weights.h5`.
- `model.weights.h5` / `.weights.h5`: `<object path>/vars/<i>` datasets (paths from
  `weights_layout.keras3_tree`), the model's own `vars` at the root, the optimizer's
  variables at `optimizer/vars/<i>` in Keras 3's order.
- Reading never extracts to disk: member names are checked, only the three known members
  are read, and each read is capped (zip bombs stop at the cap).
"""

import datetime
import io
import json
import os
import zipfile

import h5py
import numpy as np

from . import h5_format, training_state
from .weights_layout import keras3_tree

KERAS3_VERSION = "3.15.1"  # the format version written to metadata.json
MAX_CONFIG_BYTES = 64 * 2 ** 20
_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


# ============================================================================== writing
def write_weights(handle, model, include_optimizer=True):
    """Writes the model's (and optimizer's) variables in Keras 3's layout into `handle`."""
    for path, params in keras3_tree(model).items():
        group = handle.require_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = path.rsplit("/", 1)[-1] or model.name
        for i, param in enumerate(params):
            group.create_dataset(str(i), data=param.detach().cpu().numpy())
    arrays = training_state.optimizer_arrays(model) if include_optimizer else []
    if arrays:
        group = handle.require_group("optimizer/vars")
        group.attrs["name"] = model.optimizer.name
        for i, (_, value) in enumerate(arrays):
            group.create_dataset(str(i), data=value)


def write_model(model, path, include_optimizer=True):
    """Writes the `.keras` zip at `path` (a temporary file of `atomic_write`)."""
    from .model_config import model_to_config

    record = model_to_config(model, "keras3")
    compile_config = training_state.compile_config(model) if include_optimizer else None
    if compile_config is not None:
        record["compile_config"] = compile_config
    metadata = {"keras_version": KERAS3_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        write_weights(handle, model, include_optimizer)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(record))
        archive.writestr("model.weights.h5", buffer.getvalue())


# ============================================================================== reading
def member_limit(path):
    """The most bytes a member of the zip at `path` may expand to (zip-bomb bound)."""
    return h5_format.MAX_EXPANSION * os.path.getsize(path) + h5_format.MIN_ALLOWANCE


def _read_member(archive, name, limit, where):
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{where}: missing {name!r}; a .keras file holds "
                         f"{', '.join(_MEMBERS)}") from None
    if info.file_size > limit:
        raise ValueError(f"{where}: member {name!r} declares {info.file_size} bytes, more "
                         f"than the {limit} allowed")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{where}: member {name!r} expands past {limit} bytes (zip bomb?)")
    return data


def _open_zip(path, where):
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"{where} is not a valid .keras (zip) file: {error}") from None
    for info in archive.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or \
                ":" in name:
            archive.close()
            raise ValueError(f"{where}: refusing zip member with unsafe path {name!r}")
    return archive


def read_model(path, custom_objects=None, compile=True, safe_mode=True, where="file"):
    """Loads a `.keras` file written by layerkit or Keras 3."""
    from .model_config import model_from_config

    limit = member_limit(path)
    with _open_zip(path, where) as archive:
        config_bytes = _read_member(archive, "config.json", min(limit, MAX_CONFIG_BYTES),
                                    where)
        weights_bytes = _read_member(archive, "model.weights.h5", limit, where)
    try:
        text = config_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: config.json is not UTF-8 text") from None
    record = h5_format.parse_json(text, f"{where}: config.json")
    if not isinstance(record, dict):
        raise ValueError(f"{where}: config.json must hold a JSON object")
    handle, size = h5_format.open_file(weights_bytes, f"{where}: model.weights.h5")
    with handle:
        reader = h5_format.Reader(handle, size, f"{where}: model.weights.h5")
        layers = reader.group(handle, "layers", required=False)
        budget = h5_format.stored_values(reader, layers) if layers is not None else 0
        model = model_from_config(record, custom_objects, safe_mode, max_params=budget)
        read_weights(reader, model)
        if compile and isinstance(record.get("compile_config"), dict):
            training_state.compile_from_config(model, record["compile_config"],
                                               custom_objects, safe_mode)
            _read_optimizer(reader, model)
    return model


def read_weights(reader, model, skip_mismatch=False):
    """Sets the model's weights from a Keras 3 layout file.

    Raises:
        ValueError: for missing paths, wrong counts or shapes (unless skip_mismatch).
    """
    for path, params in keras3_tree(model).items():
        if not params:
            continue
        group = reader.handle
        for part in (path.split("/") + ["vars"]):
            group = reader.group(group, part)
        names = sorted(group.keys(), key=lambda n: (len(n), n))
        expected = [str(i) for i in range(len(params))]
        if names != expected:
            raise ValueError(f"{reader.where}: {path!r} holds variables {names[:10]}, but "
                             f"the layer has {len(params)} weights")
        arrays = [reader.dataset(group, n) for n in expected]
        if h5_format.check_shapes(params, arrays, repr(path), skip_mismatch, reader.where):
            _assign(params, arrays)


def _assign(params, arrays):
    import torch

    with torch.no_grad():
        for param, array in zip(params, arrays):
            param.copy_(torch.as_tensor(np.asarray(array), dtype=param.dtype))


def _read_optimizer(reader, model):
    optimizer = reader.group(reader.handle, "optimizer", required=False)
    if optimizer is None:
        return
    group = reader.group(optimizer, "vars", required=False)
    if group is None or not len(group):
        return
    count = len(group)
    arrays = [reader.dataset(group, str(i)) for i in range(count)]
    training_state.load_optimizer_arrays(model, arrays, reader.where)


def load_weights(model, path, skip_mismatch=False, where="file"):
    """Loads a Keras 3 `.weights.h5` file, a path or its bytes (model variables; the
    optimizer's if compiled)."""
    handle, size = h5_format.open_file(path, where)
    with handle:
        reader = h5_format.Reader(handle, size, where)
        read_weights(reader, model, skip_mismatch)
        if model.optimizer is not None:
            _read_optimizer(reader, model)


def write_weights_file(model, path):
    """Writes a Keras 3 `.weights.h5` file at `path` (a temporary file)."""
    with h5py.File(path, "w") as handle:
        write_weights(handle, model, include_optimizer=model.optimizer is not None)
