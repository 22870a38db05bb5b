"""The Keras 2 HDF5 layout (`.h5` / `.hdf5`) and safe, verified HDF5 reading.

Who owns what:
- `write_model(model, path, include_optimizer)` writes tf.keras 2.x's layout: root attrs
  `keras_version`, `backend`, `model_config` (JSON), `training_config` (JSON); group
  `model_weights` (attrs `layer_names`, `backend`, `keras_version`; one group per layer
  with attr `weight_names` and datasets `model_weights/<layer>/<layer>/kernel:0`);
  group `optimizer_weights` in Keras 3's variable order. Name lists longer than HDF5's
  64 KB attribute limit are split into `layer_names0`, `layer_names1`, ... as tf.keras
  does. Every write goes through an `integrity.Sealer` (checksums).
- `read_model` / `load_weights` read files written by layerkit, tf.keras 2.x and Keras 3's
  legacy writer.
- `Reader` is the only way loaders touch HDF5: it follows hard links only (no external
  files), resolves weight names only inside their own group (no absolute paths, no
  '..'), reads numeric datasets only, caps the bytes read at a multiple of the file's
  size (declared-but-absent data cannot make it allocate without bound), verifies
  layerkit's checksums, and reports NaN / inf loaded from files without checksums.
"""

import io
import json
import os

import numpy as np
import torch

from ..utils.lazy_module import LazyModule
from . import integrity, training_state
from .weights_layout import legacy_layers, parameter_names

h5py = LazyModule("h5py")  # imported at the first file read or write

KERAS_VERSION = "2.15.0"  # the tf.keras format version written (read by Keras 3 too)
MAX_EXPANSION = 100  # data read may exceed the file's size at most this many times...
MIN_ALLOWANCE = 16 * 2 ** 20  # ...plus this many bytes
MAX_JSON_CHARS = 64 * 2 ** 20


class Reader:
    """Bounded, link-checked, checksum-verified access to an open HDF5 file.

    Args:
        handle: an open `h5py.File`.
        size: the file's size in bytes (sets the read allowance).
        where: the file's name, for messages.
        verify: check layerkit's checksums (see `integrity`); False to salvage a damaged file.
    """

    def __init__(self, handle, size, where, verify=True):
        self.handle = handle
        self.where = where
        self.left = MAX_EXPANSION * max(int(size), 0) + MIN_ALLOWANCE
        manifest = None
        if integrity.MANIFEST_ATTR in handle.attrs:
            manifest = _text(handle.attrs[integrity.MANIFEST_ATTR], where)
        elif verify and any(integrity.MARKER_ATTR in handle[name].attrs
                            for name in integrity.top_members(handle)):
            raise ValueError(f"{where}: the file was written by layerkit with checksums, but "
                             f"its checksum record {integrity.MANIFEST_ATTR!r} is missing: "
                             f"the file is damaged. {integrity.SALVAGE}")
        self.verifier = integrity.Verifier(manifest, where, verify)

    @property
    def verified(self):
        """Whether every dataset read from this file is checked against a checksum."""
        return self.verifier.enabled and self.verifier.sealed

    def group(self, parent, name, required=True):
        """The sub-group `name` of `parent` (a hard link), or None when absent."""
        return self.member(parent, name, h5py.Group, required)

    def dataset(self, parent, name, what=None):
        """Reads the numeric dataset `name` of `parent` into a numpy array."""
        return self.read(self.member(parent, name, h5py.Dataset, True),
                         what or repr(_path(parent, name)))

    def read(self, dataset, name):
        """Reads `dataset` (a `Data`; checked: numeric, within the allowance, checksum)."""
        self.check_size(dataset, name)
        array = np.empty(dataset.shape, dataset.dtype)
        if array.size:
            dataset.id.read(h5py.h5s.ALL, h5py.h5s.ALL, array)
        self.verifier.dataset(dataset.name, array, name)
        return array

    def read_into(self, dataset, name, param):
        """Reads the numeric dataset `name` straight into the tensor `param`, in place.

        A contiguous CPU tensor of the dataset's dtype receives the bytes directly, so
        loading a model's weights never holds a second copy of them; the checksum is
        computed over the tensor's memory as it fills (`integrity.Verifier.read_into`).
        """
        self.check_size(dataset, name)
        target = param.detach()
        if target.is_floating_point() and dataset.dtype.kind != "f":
            raise ValueError(f"{self.where}: {name} holds {dataset.dtype} values, but the "
                             f"weight is {str(target.dtype).replace('torch.', '')}: the file "
                             "does not belong to this model or is damaged")
        memory = target.numpy() if target.device.type == "cpu" else None
        if memory is not None and memory.flags.c_contiguous and dataset.dtype == memory.dtype:
            self.verifier.read_into(dataset, memory, name)
            return
        array = self.read(dataset, name)
        with torch.no_grad():
            target.copy_(torch.as_tensor(array))

    def check_size(self, dataset, name, charge=True):
        """Checks that `dataset` is numeric and fits the read allowance, then charges it
        (unless `charge` is False: a check before reading)."""
        dtype = dataset.dtype
        if dtype.kind not in "fiub" or dtype.itemsize > 16:
            raise ValueError(f"{self.where}: {name} has non-numeric type {dtype}")
        size = dataset.size * dtype.itemsize
        if size > self.left:
            raise ValueError(
                f"{self.where}: {name} declares shape {dataset.shape} "
                f"({size} bytes), more than the file can hold; the file is malformed")
        if charge:
            self.left -= size

    def member(self, parent, name, kind, required):
        """The member `name` of `parent`: a relative path of hard links inside `parent`
        (a `Data` for datasets, an `h5py.Group` for groups).

        Names from a file never reach outside their group: absolute paths, empty, '.' and
        '..' parts, soft and external links are refused.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.where}: invalid HDF5 member name {name!r}")
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"{self.where}: member name {name!r} (in {parent.name!r}) must "
                             "be a path inside its own group (no leading '/', '.' or '..')")
        oid = parent.id
        for i, part in enumerate(parts):
            if not isinstance(oid, h5py.h5g.GroupID):
                raise ValueError(f"{self.where}: {_path(parent, name)!r}: "
                                 f"{_path(parent, '/'.join(parts[:i]))!r} is not a group")
            key = part.encode("utf-8")
            link = _link_type(oid, key)
            if link is None:
                if required:
                    raise ValueError(f"{self.where}: missing HDF5 {_kind_name(kind)} "
                                     f"{_path(parent, name)!r}")
                return None
            if link != h5py.h5l.TYPE_HARD:
                kind_name = "SoftLink" if link == h5py.h5l.TYPE_SOFT else "ExternalLink"
                raise ValueError(f"{self.where}: {_path(parent, name)!r} is a {kind_name}; "
                                 "only plain members are read")
            oid = h5py.h5o.open(oid, key)
        if kind is h5py.Group and isinstance(oid, h5py.h5g.GroupID):
            return h5py.Group(oid)
        if kind is h5py.Dataset and isinstance(oid, h5py.h5d.DatasetID):
            return Data(oid, _path(parent, name))
        raise ValueError(f"{self.where}: {_path(parent, name)!r} is not an HDF5 "
                         f"{_kind_name(kind)}")

    def strings(self, obj, name, required=True):
        """A list of strings from attribute `name` (bytes decoded as UTF-8); a list too long
        for one attribute is read from `name0`, `name1`, ... as tf.keras writes it."""
        keys = [name] if name in obj.attrs else list(_chunk_keys(obj, name))
        if not keys:
            if required:
                raise ValueError(f"{self.where}: missing attribute {name!r} on {obj.name!r}")
            return []
        out = []
        for key in keys:
            value = np.asarray(obj.attrs[key])
            if value.size > 1_000_000:
                raise ValueError(f"{self.where}: attribute {key!r} is too large")
            strings = [_text(v, self.where) for v in value.reshape(-1)] if value.size else []
            self.verifier.text(f"{obj.name}:{key}", strings,
                               f"attribute {key!r} of {obj.name!r}")
            out.extend(strings)
        return out

    def json(self, obj, name, required=True):
        """Parses a JSON attribute; None when absent and not required."""
        if name not in obj.attrs:
            if required:
                raise ValueError(f"{self.where}: missing attribute {name!r}: not a Keras "
                                 "model file (a weights-only file loads with load_weights)")
            return None
        text = _text(obj.attrs[name], self.where)
        if len(text) > MAX_JSON_CHARS:
            raise ValueError(f"{self.where}: attribute {name!r} is too large")
        self.verifier.text(f"{obj.name}:{name}", [text], f"attribute {name!r}")
        return parse_json(text, f"{self.where}: attribute {name!r}")

    def finish(self, named_params):
        """Completes a load: waits for the checksums still being computed (raising on a
        mismatch); for files without checksums, warns about NaN / inf values, naming the
        file and weights (a layerkit file holds exactly what was saved).

        Args:
            named_params: `[(description, tensor)]` of what was read into tensors.
        """
        self.verifier.finish()
        if self.verified:
            return
        bad = []
        for what, param in named_params:
            if not param.is_floating_point():
                continue
            values = param.detach()
            # A finite sum proves every value finite (NaN and inf propagate) at a tenth of
            # isfinite's cost; only an overflowing or non-finite sum is counted exactly.
            if torch.isfinite(values.sum()):
                continue
            count = int(values.numel() - torch.isfinite(values).sum())
            if count:
                bad.append(f"{what} ({count} of {param.numel()})")
        if bad:
            import warnings
            warnings.warn(f"{self.where}: non-finite values (NaN or inf) loaded into "
                          f"{'; '.join(bad[:10])}{' ...' if len(bad) > 10 else ''}",
                          stacklevel=4)


class Data:
    """A dataset found by `Reader`: its low-level id, path, shape and dtype, read once.

    (h5py's `Dataset` objects cost ~30 us each to create, which adds up over the 40,000
    weights of a 20,000-layer model.)
    """

    __slots__ = ("id", "name", "shape", "dtype", "size")

    def __init__(self, dsid, name):
        self.id = dsid
        self.name = name
        self.shape = dsid.shape
        self.dtype = dsid.dtype
        self.size = int(np.prod(self.shape, dtype=np.float64))


def _link_type(oid, key):
    """The link type of `key` in the group `oid` (h5l.TYPE_HARD, ...), None when absent."""
    try:
        return oid.links.get_info(key).type
    except (KeyError, RuntimeError):
        return None


def _chunk_keys(obj, name):
    index = 0
    while f"{name}{index}" in obj.attrs:
        yield f"{name}{index}"
        index += 1


def _kind_name(kind):
    return "group" if kind is h5py.Group else "dataset"


def _path(parent, name):
    return f"{parent.name.rstrip('/')}/{name}"


def _text(value, where):
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{where}: attribute is not UTF-8 text") from None
    if isinstance(value, str):
        return value
    raise ValueError(f"{where}: expected a text attribute, received {type(value).__name__}")


def parse_json(text, where):
    """`json.loads` with a ValueError naming the source (and no NaN-only surprises)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{where} is not valid JSON: {error}") from None


def open_file(source, where):
    """Opens an HDF5 file (a path or bytes) for reading; returns (h5py.File, size)."""
    try:
        if isinstance(source, (bytes, bytearray)):
            return h5py.File(io.BytesIO(source), "r"), len(source)
        return h5py.File(source, "r"), os.path.getsize(source)
    except (OSError, ValueError) as error:
        raise ValueError(f"{where} is not a readable HDF5 file: {error}") from None


# ============================================================================== writing
HEADER_LIMIT = 64512  # tf.keras's HDF5_OBJECT_HEADER_LIMIT: longer name lists are split


def write_strings(sealer, obj, name, values):
    """Sets a list-of-strings attribute as tf.keras does: fixed-length bytes, split into
    `name0`, `name1`, ... when one attribute would pass HDF5's 64 KB header limit."""
    data = np.array([v.encode("utf-8") for v in values], dtype="S") if values else \
        np.zeros((0,), dtype="S1")
    pieces = [data]
    while any(piece.nbytes > HEADER_LIMIT for piece in pieces):
        if len(pieces) >= len(data):
            raise ValueError(f"Cannot save attribute {name!r}: a name is longer than "
                             f"{HEADER_LIMIT} bytes")
        pieces = np.array_split(data, len(pieces) + 1)
    if len(pieces) == 1:
        sealer.text(obj, name, data)
        return
    for index, piece in enumerate(pieces):
        sealer.text(obj, f"{name}{index}", piece)


def write_weight_groups(group, model, sealer):
    """Writes `model_weights`-style groups (tf.keras 2.x layout) into `group`."""
    layers = legacy_layers(model)
    write_strings(sealer, group, "layer_names", [name for name, _ in layers])
    sealer.text(group, "backend", "tensorflow")
    sealer.text(group, "keras_version", KERAS_VERSION)
    for layer_name, weights in layers:
        sub = group.create_group(layer_name)
        write_strings(sealer, sub, "weight_names", [n for n, _ in weights])
        for name, param in weights:
            sealer.dataset(sub, name, param.detach().cpu().numpy())


def write_weights_file(model, path):
    """Writes a weights-only file in tf.keras 2.x's layout at `path` (a temporary file)."""
    with h5py.File(path, "w") as handle:
        sealer = integrity.Sealer(handle)
        write_weight_groups(handle, model, sealer)
        sealer.close()


def write_model(model, path, include_optimizer=True, write_state=None):
    """Writes the full model in tf.keras 2.x's HDF5 layout at `path` (a temporary file).

    Args:
        write_state: optional callable filling the extra group `resume_state`.
    """
    from .model_config import model_to_config

    with h5py.File(path, "w") as handle:
        sealer = integrity.Sealer(handle)
        sealer.text(handle, "keras_version", KERAS_VERSION)
        sealer.text(handle, "backend", "tensorflow")
        sealer.text(handle, "model_config", json.dumps(model_to_config(model, "legacy")))
        write_weight_groups(handle.create_group("model_weights"), model, sealer)
        config = training_state.training_config(model) if include_optimizer else None
        if config is not None:
            sealer.text(handle, "training_config", json.dumps(config))
            arrays = training_state.optimizer_arrays(model, parameter_names(model))
            if arrays:
                group = handle.create_group("optimizer_weights")
                write_strings(sealer, group, "weight_names", [n for n, _ in arrays])
                for name, value in arrays:
                    sealer.dataset(group, name, value)
        if write_state is not None:
            group = handle.create_group("resume_state")
            write_state(group)
            sealer.adopt(group)
        sealer.close()


# ============================================================================== reading
def read_model(source, custom_objects=None, compile=True, safe_mode=True, where="file",
               verify=True):
    """Loads a model saved in the Keras 2 HDF5 layout (layerkit, tf.keras or Keras 3)."""
    from .model_config import model_from_config

    handle, size = open_file(source, where)
    with handle:
        reader = Reader(handle, size, where, verify)
        config = reader.json(handle, "model_config")
        weights = reader.group(handle, "model_weights", required=False)
        root = weights if weights is not None else handle
        saved = _saved_layers(reader, root)
        declared = sum(int(np.prod(d.shape, dtype=np.float64))
                       for _, datasets in saved for _, d in datasets)
        model = model_from_config(config, custom_objects, safe_mode,
                                  max_params=min(declared, reader.left))
        load_weight_groups(reader, root, model, saved=saved)
        training = reader.json(handle, "training_config", required=False)
        if compile and training is not None:
            training_state.compile_from_config(model, training, custom_objects, safe_mode)
            load_optimizer(reader, handle, model)
    return model


def load_optimizer(reader, handle, model):
    """Restores the optimizer state of an `.h5` file (`optimizer_weights`, layerkit's /
    Keras 3's order or tf.keras 2.x's names) into the compiled `model`; a tf.keras state
    that cannot be matched warns and the optimizer starts fresh."""
    group = reader.group(handle, "optimizer_weights", required=False)
    if group is None:
        return
    names = reader.strings(group, "weight_names", required=False)
    arrays = [reader.dataset(group, name, f"optimizer weight {name!r}") for name in names]
    if len(names) >= 2 and names[0].endswith("/iteration"):
        training_state.load_optimizer_arrays(model, arrays, reader.where)
        return
    from . import tf_keras_optimizer

    root = reader.group(handle, "model_weights", required=False) or handle
    problem = tf_keras_optimizer.load(model, names, arrays, _weight_params(reader, root, model))
    if problem is not None:
        import warnings
        warnings.warn(f"{reader.where}: cannot restore the tf.keras 2.x optimizer state "
                      f"({problem}); the optimizer starts fresh", stacklevel=4)


def _weight_params(reader, root, model):
    """`{weight name in the file: layerkit parameter}`, paired as `load_weight_groups` does."""
    layers = [layer for layer in model.layers if layer.ordered_weights()]
    saved = []
    for name in reader.strings(root, "layer_names"):
        weight_names = reader.strings(reader.group(root, name), "weight_names", required=False)
        if len(weight_names):
            saved.append(weight_names)
    pairs = {}
    for layer, weight_names in zip(layers, saved):
        pairs.update(zip(weight_names, layer.ordered_weights()))
    return pairs


def load_weights(model, source, by_name=False, skip_mismatch=False, where="file",
                 verify=True):
    """Loads weights from a Keras 2 layout `.h5` (full model or weights-only file)."""
    handle, size = open_file(source, where)
    with handle:
        reader = Reader(handle, size, where, verify)
        root = reader.group(handle, "model_weights", required=False) or handle
        load_weight_groups(reader, root, model, by_name, skip_mismatch)


def _saved_layers(reader, root):
    """`[(layer name, [(weight name, h5py.Dataset)])]` from a Keras 2 layout group.

    Only metadata is read here; `load_weight_groups` reads the data once all shapes fit.
    Weight names resolve inside their layer's group only (see `Reader.member`).
    """
    saved = []
    for name in reader.strings(root, "layer_names"):
        group = reader.group(root, name)
        weight_names = reader.strings(group, "weight_names", required=False)
        datasets = [(w, reader.member(group, w, h5py.Dataset, True)) for w in weight_names]
        for weight_name, dataset in datasets:
            reader.check_size(dataset, f"layer {name!r}, weight {weight_name!r}", charge=False)
        saved.append((name, datasets))
    return saved


def load_weight_groups(reader, root, model, by_name=False, skip_mismatch=False, saved=None):
    """Sets the model's weights from `root` (tf.keras 2.x / Keras 3 legacy layout).

    Every layer's group, weight count and shape is checked before any weight changes, so a
    wrong file leaves the model as it was; the data then streams from the file into the
    parameters (no second copy of the weights in memory), each weight checked against its
    checksum in files layerkit wrote. A checksum error leaves the weights read so far.

    Raises:
        ValueError: for missing groups, wrong counts or shapes (unless skip_mismatch),
            naming the layer; for checksum mismatches, naming the layer and weight.
    """
    saved = _saved_layers(reader, root) if saved is None else saved
    layers = [layer for layer in model.layers if layer.ordered_weights()]
    if by_name:
        by = {layer.name: layer for layer in model.layers}
        pairs = [(by[name], datasets, name) for name, datasets in saved if name in by]
    else:
        saved = [(name, datasets) for name, datasets in saved if datasets]
        if len(saved) != len(layers):
            raise ValueError(_count_mismatch(reader.where, [n for n, _ in saved],
                                             [layer.name for layer in layers]))
        pairs = [(layer, datasets, name) for layer, (name, datasets) in zip(layers, saved)]
    checked = []
    for layer, datasets, name in pairs:
        datasets = _paired(layer, datasets)
        if check_shapes(layer.ordered_weights(), [d for _, d in datasets],
                        f"layer {layer.name!r}", skip_mismatch, reader.where,
                        f"the file's layer {name!r}"):
            checked.append((name, layer.ordered_weights(), datasets))
    loaded = []
    for layer_name, params, datasets in checked:
        for param, (weight_name, dataset) in zip(params, datasets):
            what = f"layer {layer_name!r}, weight {weight_name!r}"
            reader.read_into(dataset, what, param)
            loaded.append((what, param))
    reader.finish(loaded)


def _paired(layer, datasets):
    """The file's `(name, dataset)` pairs in the order of the layer's weights.

    Keras pairs by position; when the file's names are exactly the layer's own weight
    names in another order (a gamma/beta swap), they are paired by name instead, so
    swapped names can never swap weights.
    """
    params = layer.ordered_weights()
    names = {id(p): n.rsplit(".", 1)[-1] for n, p in layer.named_parameters()}
    expected = [names.get(id(p)) for p in params]
    found = [n.rsplit("/", 1)[-1].split(":", 1)[0] for n, _ in datasets]
    if found == expected or len(set(found)) != len(found) or \
            len(set(expected)) != len(expected) or set(found) != set(expected):
        return datasets
    by_name = dict(zip(found, datasets))
    return [by_name[name] for name in expected]


def _count_mismatch(where, saved_names, model_names):
    """The message for a file with another number of weighted layers, naming the first
    layer where file and model part ways."""
    first = next((i for i, (a, b) in enumerate(zip(saved_names, model_names)) if a != b),
                 min(len(saved_names), len(model_names)))
    file_has = repr(saved_names[first]) if first < len(saved_names) else "nothing more"
    model_has = repr(model_names[first]) if first < len(model_names) else "nothing more"
    return (f"{where}: the file holds weights for {len(saved_names)} layers, but the model "
            f"has {len(model_names)} layers with weights; they first differ at position "
            f"{first}: the model's layer {model_has}, the file's {file_has}. Check that the "
            "file belongs to this architecture, or use by_name=True to match by name")


def check_shapes(params, arrays, what, skip_mismatch, where, source="the file"):
    """True when `arrays` fit `params`; else warns (skip_mismatch) and returns False.

    Raises:
        ValueError: on a mismatch without skip_mismatch, naming both sets of shapes.
    """
    expected = [tuple(p.shape) for p in params]
    received = [tuple(a.shape) for a in arrays]
    if expected == received:
        return True
    if skip_mismatch:
        import warnings
        warnings.warn(f"{where}: skipping {what}: expected weight shapes {expected}, "
                      f"{source} has {received}", stacklevel=4)
        return False
    raise ValueError(
        f"{where}: {what} expects weights of shapes {expected}, but {source} holds "
        f"{received}. Check the architecture, or pass skip_mismatch=True to skip it")
