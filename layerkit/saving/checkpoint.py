"""Full-model checkpoints that also carry where training stood (exact resume).

Who owns what: the trainer's `TrainingState` makes a `Snapshot` (epoch, step, generator
states, running sums); this module owns its file layout, an HDF5 group `resume_state`
(`write_snapshot` / `read_snapshot`; attributes and plain numeric datasets, no pickle).
`BackupAndRestore` writes it into its weights file; `ModelCheckpoint` saves through
`save(model, path, write_state)`: the file
`save_model` writes (`.keras` or Keras 2 `.h5`), plus an HDF5 group `resume_state` that
`write_state(group)` fills. In an `.h5` file it is a root group beside `model_weights`; in
a `.keras` zip it is the member `resume_state.h5`. Keras 3 and tf.keras ignore both, so
the files stay ordinary Keras files; both carry checksums like the rest of the file. A
`.keras` checkpoint's resume state is listed in the checksums of `model.weights.h5`, so
it is checked like the config. `restore(model, path, read_state)` loads such a file (or
any full-model file Keras wrote) into an existing compiled model: weights, optimizer
state, and whatever `read_state(reader, handle)` makes of the group (None without one).
"""

from ..training.state import Snapshot
from . import _detect, _path, h5_format, keras_zip, naming_file, rng_state
from .atomic import atomic_write

MEMBER = "resume_state.h5"
GROUP = "resume_state"


def write_snapshot(group, snapshot):
    """Stores a training `Snapshot` in the (empty) HDF5 group `resume_state`: attributes
    and numeric datasets. A data-parallel snapshot (`snapshot.ranks`) also stores the
    attribute `world_size` and, under `ranks/<r>`, the generators and running sums of every
    rank r > 0 in the same layout (rank 0's are the group's own)."""
    group.attrs["epoch"] = snapshot.epoch
    group.attrs["step"] = snapshot.step
    _write_part(group, snapshot.rank_part(), snapshot.step)
    if snapshot.ranks is not None:
        group.attrs["world_size"] = snapshot.world_size
        ranks = group.create_group("ranks")
        for rank, part in enumerate(snapshot.ranks[1:], 1):
            _write_part(ranks.create_group(str(rank)), part, snapshot.step)


def _write_part(group, part, step):
    rng_state.write(group.create_group("rng"), part["rng"])
    if step:
        rng_state.write(group.create_group("epoch_rng"), part["epoch_rng"])
        running = group.create_group("running")
        for name, value in part["running"].items():
            running.create_dataset(name, data=value)
    if part.get("statistics") is not None:  # non-trainable weights, in the model's order
        statistics = group.create_group("statistics")
        for i, value in enumerate(part["statistics"]):
            statistics.create_dataset(str(i), data=value)


def read_snapshot(reader, handle):
    """The `resume_state` group of an open HDF5 file as a `Snapshot`, or None without one.

    Raises:
        ValueError: for missing or malformed fields, naming them.
    """
    group = reader.group(handle, GROUP, required=False)
    if group is None:
        return None
    epoch, step = (_attr_count(group, name, reader.where) for name in ("epoch", "step"))
    own = _read_part(reader, group, step)
    if "world_size" not in group.attrs:
        return Snapshot(epoch, step, **own)
    world = _attr_count(group, "world_size", reader.where)
    ranks = reader.group(group, "ranks")
    if world < 1 or len(ranks) != world - 1:
        raise ValueError(f"{reader.where}: {GROUP} has world_size {world} but parts for "
                         f"{len(ranks) + 1} rank(s)")
    parts = [own] + [_read_part(reader, reader.group(ranks, str(r)), step)
                     for r in range(1, world)]
    return Snapshot(epoch, step, ranks=parts, **own)


def _read_part(reader, group, step):
    part = {"rng": rng_state.read(reader, reader.group(group, "rng")),
            "epoch_rng": None, "running": None, "statistics": None}
    if not step:
        return part
    part["epoch_rng"] = rng_state.read(reader, reader.group(group, "epoch_rng"))
    running_group = reader.group(group, "running")
    part["running"] = {name: reader.dataset(running_group, name) for name in running_group}
    if "seen" not in part["running"]:
        raise ValueError(f"{reader.where}: {group.name}/running has no 'seen' dataset")
    statistics = reader.group(group, "statistics", required=False)
    if statistics is not None:
        part["statistics"] = [reader.dataset(statistics, str(i))
                              for i in range(len(statistics))]
    return part


def _attr_count(group, name, where):
    value = rng_state.attr_int(group, name, where)
    if value < 0:
        raise ValueError(f"{where}: {group.name} attribute {name!r} must be a non-negative "
                         f"integer, received {value!r}")
    return value


def read_backup(path):
    """The `Snapshot` in a weights file written with `write_snapshot` (BackupAndRestore).

    Raises:
        ValueError: naming the file, when it cannot be read or has no resume state.
    """
    handle, size = h5_format.open_file(path, path)
    try:
        with handle:
            snapshot = read_snapshot(h5_format.Reader(handle, size, path), handle)
    except ValueError:
        raise
    except Exception as error:  # h5py's own errors on a damaged file
        raise ValueError(f"{path}: cannot read the resume state ({type(error).__name__}: "
                         f"{error}); delete the backup folder to start over") from None
    if snapshot is None:
        raise ValueError(f"{path}: the backup has no '{GROUP}' group (written by another "
                         "program?); delete the backup folder to start over")
    return snapshot


def save_backup(model, path, snapshot):
    """Writes weights, optimizer state and `snapshot` to the HDF5 file `path` (Keras 3's
    `.weights.h5` layout plus the group `resume_state`), with checksums."""
    keras_zip.write_weights_file(model, path,
                                 write_state=lambda group: write_snapshot(group, snapshot))


def save(model, filepath, write_state):
    """Saves the model like `save_model`, plus the resume state `write_state(group)` writes.

    Args:
        model: the compiled model.
        filepath: `.keras`, `.h5` or `.hdf5`.
        write_state: callable filling an empty HDF5 group (e.g. `lambda group:
            write_snapshot(group, snapshot)`).
    """
    path = _path(filepath, "ModelCheckpoint")
    if not path.lower().endswith(".keras"):
        with atomic_write(path) as tmp:
            h5_format.write_model(model, tmp, write_state=write_state)
        return
    extra = {MEMBER: keras_zip.state_bytes(write_state)}
    with atomic_write(path) as tmp:
        keras_zip.write_model(model, tmp, extra=extra)


def restore(model, filepath, read_state=read_snapshot, verify=True):
    """Loads weights and optimizer state of a full-model file into `model`.

    Args:
        model: a compiled model of the file's architecture.
        filepath: a `.keras` or `.h5` full-model file (layerkit's, Keras 3's or tf.keras's).
        read_state: `read_state(reader, handle)` -> the resume state, or None (default:
            the `Snapshot` of `read_snapshot`).
        verify: check the file's checksums.

    Returns:
        What `read_state` returned for the file's resume state (None when it has none).

    Raises:
        ValueError: for malformed or damaged files or another architecture, naming the file.
    """
    path = _path(filepath, "ModelCheckpoint")
    with naming_file(path, "restore the checkpoint"):
        if _detect(path) == "zip":
            return _restore_zip(model, path, read_state, verify)
        handle, size = h5_format.open_file(path, path)
        with handle:
            reader = h5_format.Reader(handle, size, path, verify)
            root = reader.group(handle, "model_weights", required=False) or handle
            h5_format.load_weight_groups(reader, root, model)
            h5_format.load_optimizer(reader, handle, model)
            return read_state(reader, handle)


def _restore_zip(model, path, read_state, verify):
    members = keras_zip.read_members(path, ("model.weights.h5", MEMBER), path,
                                     optional=(MEMBER,))
    where = f"{path}: model.weights.h5"
    handle, size = h5_format.open_file(members["model.weights.h5"], where)
    with handle:
        reader = h5_format.Reader(handle, size, where, verify)
        if MEMBER in members:
            reader.verifier.member(MEMBER, members[MEMBER])
        elif MEMBER in reader.verifier.members:
            raise ValueError(f"{path}: the member {MEMBER} listed in the file's checksums is "
                             "missing: the file is damaged")
        keras_zip.read_weights(reader, model)
        if model.optimizer is not None:
            keras_zip.read_optimizer(reader, model)
    if MEMBER not in members:
        return None
    where = f"{path}: {MEMBER}"
    handle, size = h5_format.open_file(members[MEMBER], where)
    with handle:
        return read_state(h5_format.Reader(handle, size, where, verify), handle)
