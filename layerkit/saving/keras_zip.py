"""The Keras 3 formats: the `.keras` zip and the `.weights.h5` weights file.

Who owns what:
- `.keras` is a zip with `config.json` (the model record, Keras 3 style, with
  `compile_config`), `metadata.json` (`keras_version`, `date_saved`) and
  `model.weights.h5`.
- `model.weights.h5` / `.weights.h5`: `<object path>/vars/<i>` datasets (paths from
  `weights_layout.keras3_tree`), the model's own `vars` at the root, the optimizer's
  variables at `optimizer/vars/<i>` in Keras 3's order.
- Reading never extracts to disk: member names are checked, only the known members are
  read, and each read is capped (zip bombs stop at the cap).
- Checksums (see `integrity`): every dataset of `model.weights.h5` carries its CRC-32, and
  its root attribute `layerkit_integrity` those of `config.json` and `metadata.json`.
"""

import datetime
import io
import json
import os
import zipfile

from ..utils.lazy_module import LazyModule
from . import h5_format, integrity, training_state
from .weights_layout import keras3_tree

h5py = LazyModule("h5py")  # imported at the first file read or write

KERAS3_VERSION = "3.15.1"  # the format version written to metadata.json
MAX_CONFIG_BYTES = 64 * 2 ** 20
_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


# ============================================================================== writing
def write_weights(handle, model, include_optimizer=True, sealer=None):
    """Writes the model's (and optimizer's) variables in Keras 3's layout into `handle`.

    Args:
        sealer: the `integrity.Sealer` of `handle` (one is made, and closed, when None).
    """
    own = sealer is None
    sealer = integrity.Sealer(handle) if own else sealer
    for path, params in keras3_tree(model).items():
        group = handle.require_group(f"{path}/vars" if path else "vars")
        sealer.text(group, "name", path.rsplit("/", 1)[-1] or model.name)
        for i, param in enumerate(params):
            sealer.dataset(group, str(i), param.detach().cpu().numpy())
    arrays = training_state.optimizer_arrays(model) if include_optimizer else []
    if arrays:
        group = handle.require_group("optimizer/vars")
        sealer.text(group, "name", model.optimizer.name)
        for i, (_, value) in enumerate(arrays):
            sealer.dataset(group, str(i), value)
    if own:
        sealer.close()


def write_weights_file(model, path, write_state=None):
    """Writes a Keras 3 `.weights.h5` file at `path` (a temporary file).

    Args:
        write_state: optional callable filling the extra group `resume_state` (backups).
    """
    with h5py.File(path, "w") as handle:
        sealer = integrity.Sealer(handle)
        write_weights(handle, model, model.optimizer is not None, sealer)
        if write_state is not None:
            group = handle.create_group("resume_state")
            write_state(group)
            sealer.adopt(group)
        sealer.close()


def state_bytes(write_state):
    """An HDF5 file (bytes) holding the group `resume_state` that `write_state` fills."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        sealer = integrity.Sealer(handle)
        group = handle.create_group("resume_state")
        write_state(group)
        sealer.adopt(group)
        sealer.close()
    return buffer.getvalue()


def write_model(model, path, include_optimizer=True, extra=None):
    """Writes the `.keras` zip at `path` (a temporary file of `atomic_write`).

    Args:
        extra: optional `{member name: bytes}` added to the zip (checkpoints' resume state).
    """
    from .model_config import model_to_config

    record = model_to_config(model, "keras3")
    compile_config = training_state.compile_config(model) if include_optimizer else None
    if compile_config is not None:
        record["compile_config"] = compile_config
    metadata = {"keras_version": KERAS3_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    members = {"metadata.json": json.dumps(metadata).encode("utf-8"),
               "config.json": json.dumps(record).encode("utf-8"), **(extra or {})}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        sealer = integrity.Sealer(handle)
        for name, data in members.items():
            sealer.member(name, data)
        write_weights(handle, model, include_optimizer, sealer)
        sealer.close()
    with zipfile.ZipFile(path, "w") as archive:  # stored, as Keras 3 writes it: weights
        # barely compress, and deflating 500 MB costs half a minute
        archive.writestr("metadata.json", members.pop("metadata.json"))
        archive.writestr("config.json", members.pop("config.json"))
        archive.writestr("model.weights.h5", buffer.getvalue())
        for name, data in members.items():
            archive.writestr(name, data)


# ============================================================================== reading
def member_limit(path):
    """The most bytes a member of the zip at `path` may expand to (zip-bomb bound)."""
    return h5_format.MAX_EXPANSION * os.path.getsize(path) + h5_format.MIN_ALLOWANCE


def read_member(archive, name, limit, where):
    """The bytes of member `name`, refusing members that expand past `limit`."""
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


def open_zip(path, where):
    """Opens a `.keras` zip for reading, refusing member names that leave the archive."""
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


def read_members(path, names, where, optional=()):
    """`{name: bytes}` of the zip's members `names` (and of those in `optional` present)."""
    limit = member_limit(path)
    with open_zip(path, where) as archive:
        present = set(archive.namelist())
        return {name: read_member(archive, name, limit, where) for name in names
                if name not in optional or name in present}


def read_model(path, custom_objects=None, compile=True, safe_mode=True, where="file",
               verify=True):
    """Loads a `.keras` file written by layerkit or Keras 3."""
    from .model_config import model_from_config

    members = read_members(path, ("config.json", "model.weights.h5"), where)
    config_bytes = members["config.json"]
    if len(config_bytes) > MAX_CONFIG_BYTES:
        raise ValueError(f"{where}: config.json is larger than {MAX_CONFIG_BYTES} bytes")
    weights_where = f"{where}: model.weights.h5"
    handle, size = h5_format.open_file(members["model.weights.h5"], weights_where)
    with handle:
        reader = h5_format.Reader(handle, size, weights_where, verify)
        reader.verifier.member("config.json", config_bytes)
        record = _config(config_bytes, where)
        model = model_from_config(record, custom_objects, safe_mode, max_params=size)
        read_weights(reader, model)
        if compile and isinstance(record.get("compile_config"), dict):
            training_state.compile_from_config(model, record["compile_config"],
                                               custom_objects, safe_mode)
            read_optimizer(reader, model)
    return model


def _config(data, where):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: config.json is not UTF-8 text") from None
    record = h5_format.parse_json(text, f"{where}: config.json")
    if not isinstance(record, dict):
        raise ValueError(f"{where}: config.json must hold a JSON object")
    return record


def read_weights(reader, model, skip_mismatch=False):
    """Sets the model's weights from a Keras 3 layout file.

    Every layer's weights are read and checked (shapes, checksums) before they are set.

    Raises:
        ValueError: for missing paths, wrong counts or shapes (unless skip_mismatch), and
            checksum mismatches, naming the layer and weight.
    """
    owners = {}
    loaded = []
    for path, params in keras3_tree(model, owners).items():
        if not params:
            continue
        group = reader.handle
        for part in (path.split("/") + ["vars"]):
            group = reader.group(group, part)
        names = sorted(group.keys(), key=lambda n: (len(n), n))
        expected = [str(i) for i in range(len(params))]
        layer = owners[path]
        if names != expected:
            raise ValueError(f"{reader.where}: layer {layer.name!r} ({path!r}) holds "
                             f"variables {names[:10]}, but the layer has {len(params)} weights")
        weight_names = {id(p): n for n, p in layer.named_parameters()}
        whats = [f"layer {layer.name!r}, weight {weight_names.get(id(p), i)!r} "
                 f"({path}/vars/{i})" for i, p in enumerate(params)]
        datasets = [reader.member(group, n, h5py.Dataset, True) for n in expected]
        if h5_format.check_shapes(params, datasets, f"layer {layer.name!r} ({path!r})",
                                  skip_mismatch, reader.where):
            for what, param, dataset in zip(whats, params, datasets):
                reader.read_into(dataset, what, param)
                loaded.append((what, param))
    reader.finish(loaded)


def read_optimizer(reader, model):
    """Restores the optimizer variables (`optimizer/vars/<i>`) into the compiled `model`."""
    optimizer = reader.group(reader.handle, "optimizer", required=False)
    if optimizer is None:
        return
    group = reader.group(optimizer, "vars", required=False)
    if group is None or not len(group):
        return
    count = len(group)
    arrays = [reader.dataset(group, str(i), f"optimizer variable {i}") for i in range(count)]
    training_state.load_optimizer_arrays(model, arrays, reader.where)


def load_weights(model, path, skip_mismatch=False, where="file", verify=True):
    """Loads a Keras 3 `.weights.h5` file, a path or its bytes (model variables; the
    optimizer's if compiled)."""
    handle, size = h5_format.open_file(path, where)
    with handle:
        reader = h5_format.Reader(handle, size, where, verify)
        read_weights(reader, model, skip_mismatch)
        if model.optimizer is not None:
            read_optimizer(reader, model)
