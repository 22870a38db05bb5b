"""Full-model checkpoints that also carry where training stood (exact resume).

Who owns what: `ModelCheckpoint` saves through `save(model, path, write_state)`: the file
`save_model` writes (`.keras` or Keras 2 `.h5`), plus an HDF5 group `resume_state` that
`write_state(group)` fills. In an `.h5` file it is a root group beside `model_weights`; in
a `.keras` zip it is the member `resume_state.h5`. Keras 3 and tf.keras ignore both, so
the files stay ordinary Keras files; both carry checksums like the rest of the file. A
`.keras` checkpoint's resume state is listed in the checksums of `model.weights.h5`, so
it is checked like the config. `restore(model, path, read_state)` loads such a file (or
any full-model file Keras wrote) into an existing compiled model: weights, optimizer
state, and whatever `read_state(reader, handle)` makes of the group (None without one).
"""

from . import _detect, _path, h5_format, keras_zip, naming_file
from .atomic import atomic_write

MEMBER = "resume_state.h5"


def save(model, filepath, write_state):
    """Saves the model like `save_model`, plus the resume state `write_state(group)` writes.

    Args:
        model: the compiled model.
        filepath: `.keras`, `.h5` or `.hdf5`.
        write_state: callable filling an empty HDF5 group.
    """
    path = _path(filepath, "ModelCheckpoint")
    if not path.lower().endswith(".keras"):
        with atomic_write(path) as tmp:
            h5_format.write_model(model, tmp, write_state=write_state)
        return
    extra = {MEMBER: keras_zip.state_bytes(write_state)}
    with atomic_write(path) as tmp:
        keras_zip.write_model(model, tmp, extra=extra)


def restore(model, filepath, read_state, verify=True):
    """Loads weights and optimizer state of a full-model file into `model`.

    Args:
        model: a compiled model of the file's architecture.
        filepath: a `.keras` or `.h5` full-model file (layerkit's, Keras 3's or tf.keras's).
        read_state: `read_state(reader, handle)` -> the resume state, or None.
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
            h5_format._load_optimizer(reader, handle, model)
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
            keras_zip._read_optimizer(reader, model)
    if MEMBER not in members:
        return None
    where = f"{path}: {MEMBER}"
    handle, size = h5_format.open_file(members[MEMBER], where)
    with handle:
        return read_state(h5_format.Reader(handle, size, where, verify), handle)
